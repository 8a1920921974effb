import type { Host } from '../host.js'
import { DISTRIBUTIVE_LIMITS } from '../limits.js'
import { parseUint } from '../params.js'
import { fail, mismatch, pass, ParamError, unknown, type CheckDef, type CheckResult } from '../types.js'

export interface User {
  name: string
  uid: number
  gid: number
  gecos: string
  home: string
}

export interface Group {
  name: string
  gid: number
  members: string[]
}

/** /etc/passwd and /etc/group under the host root (NSS sources such as LDAP are not consulted, as upstream v0.2). */
function users(host: Host): Promise<User[]> {
  return host.memo('passwd', async () => parsePasswd(await host.readText('/etc/passwd')))
}

function parsePasswd(text: string): User[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 7)
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), gecos: f[4]!, home: f[5]! }))
}

function groups(host: Host): Promise<Group[]> {
  return host.memo('group', async () => parseGroup(await host.readText('/etc/group')))
}

function parseGroup(text: string): Group[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) }))
}

/** A user named by login name or, as upstream v0.2 allowed, by numeric UID. */
function findUser(all: User[], who: string): User | undefined {
  return all.find((u) => u.name === who) ?? (/^\d+$/.test(who) ? all.find((u) => u.uid === Number(who)) : undefined)
}

function nameParam(s: string | undefined, what: string): string {
  if (!s || s.includes(':') || /\s/.test(s)) throw new ParamError(`bad ${what} name ${JSON.stringify(s)}`)
  return s
}

/** A check reading passwd/group; an unreadable file is UNKNOWN, not a failure. */
function withDb(run: (u: User[], g: Group[]) => CheckResult): (host: Host) => Promise<CheckResult> {
  return async (host) => {
    let u: User[]
    let g: Group[]
    try {
      ;[u, g] = await Promise.all([users(host), groups(host)])
    } catch (err) {
      return unknown(`cannot read the user database: ${(err as Error).message}`)
    }
    return run(u, g)
  }
}

function userField(name: string, summary: string, field: 'uid' | 'gid' | 'name' | 'gecos' | 'home', numeric: boolean): CheckDef {
  return {
    names: [name],
    params: 2,
    summary,
    parse: ([who, value]) => {
      nameParam(who, 'user')
      const want = numeric ? String(parseUint(value!, field)) : value!
      return withDb((all) => {
        const u = findUser(all, who!)
        if (!u) return fail(`User does not exist: ${who}`)
        // GECOS holds "Full Name,room,phone,…"; the real name is its first field.
        const ok = String(u[field]) === want || (field === 'gecos' && u.gecos.split(',')[0] === want)
        return ok ? pass() : fail(`User's ${field} does not match:\n\tUser: ${who}\n\tSpecified: ${want}\n\tActual: ${u[field]}`)
      })
    },
  }
}

export const userChecks: CheckDef[] = [
  {
    names: ['groupExists'],
    params: 1,
    summary: 'the group exists',
    parse: ([name]) => {
      nameParam(name, 'group')
      return withDb((_, g) => (g.some((x) => x.name === name) ? pass() : mismatch('Group not found', name!, g.map((x) => x.name), DISTRIBUTIVE_LIMITS.actualItemsMax)))
    },
  },
  {
    names: ['userInGroup'],
    params: 2,
    summary: 'the user is a member of the group (listed, or as primary group)',
    parse: ([who, name]) => {
      nameParam(who, 'user')
      nameParam(name, 'group')
      return withDb((u, g) => {
        const group = g.find((x) => x.name === name)
        if (!group) return fail(`Group does not exist: ${name}`)
        const user = findUser(u, who!)
        const member = group.members.includes(who!) || (user !== undefined && (user.gid === group.gid || group.members.includes(user.name)))
        return member ? pass() : mismatch('User not found in group', `${who} in ${name}`, group.members, DISTRIBUTIVE_LIMITS.actualItemsMax)
      })
    },
  },
  {
    names: ['groupId'],
    params: 2,
    summary: 'the group has this GID',
    parse: ([name, gid]) => {
      nameParam(name, 'group')
      const want = parseUint(gid!, 'gid')
      return withDb((_, g) => {
        const group = g.find((x) => x.name === name)
        if (!group) return fail(`Group does not exist: ${name}`)
        return group.gid === want ? pass() : fail(`Group ID does not match:\n\tGroup: ${name}\n\tSpecified: ${want}\n\tActual: ${group.gid}`)
      })
    },
  },
  {
    names: ['userExists'],
    params: 1,
    summary: 'the user (name or UID) exists',
    parse: ([who]) => {
      nameParam(who, 'user')
      return withDb((u) => (findUser(u, who!) ? pass() : fail(`User does not exist: ${who}`)))
    },
  },
  userField('userHasUID', 'the user has this UID', 'uid', true),
  userField('userHasGID', 'the user has this primary GID', 'gid', true),
  userField('userHasUsername', 'the user (name or UID) has this login name', 'name', false),
  userField('userHasName', 'the user (name or UID) has this real name (GECOS first field)', 'gecos', false),
  userField('userHasHomeDir', 'the user has this home directory', 'home', false),
]
