import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Host } from '../host.js'
import { DISTRIBUTIVE_LIMITS } from '../limits.js'
import { parseRegex } from '../params.js'
import { CannotRunError, fail, mismatch, pass, ParamError, unknown, type CheckDef, type CheckResult } from '../types.js'

type Manager = 'dpkg' | 'rpm' | 'pacman'

/** Upstream accepted only rpm, dpkg and pacman, yet its samples said yum and apt; both spellings work here. */
const MANAGER_ALIASES: Record<string, Manager> = {
  dpkg: 'dpkg', apt: 'dpkg', deb: 'dpkg', 'apt-get': 'dpkg',
  rpm: 'rpm', yum: 'rpm', dnf: 'rpm',
  pacman: 'pacman',
}

function parseManager(s: string): Manager {
  const m = MANAGER_ALIASES[s.toLowerCase()]
  if (!m) throw new ParamError(`unknown package manager ${JSON.stringify(s)} (dpkg/apt, rpm/yum, pacman)`)
  return m
}

async function readOptional(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw err
  }
}

async function filesIn(dir: string, ext: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith(ext)).sort().map((f) => path.join(dir, f))
  } catch {
    return []
  }
}

interface AptRepo {
  uri: string
  suites: string[]
}

/** One-line `deb [opts] uri suite comp…` sources and deb822 `.sources` stanzas (Debian 12's default). */
export async function aptRepos(host: Host): Promise<AptRepo[]> {
  const repos: AptRepo[] = []
  const lists = [host.path('/etc/apt/sources.list'), ...(await filesIn(host.path('/etc/apt/sources.list.d'), '.list'))]
  for (const file of lists) {
    for (const raw of (await readOptional(file)).split('\n')) {
      const line = raw.replace(/#.*/, '').replace(/\[[^\]]*\]/, ' ').trim()
      const f = line.split(/\s+/)
      if ((f[0] === 'deb' || f[0] === 'deb-src') && f[1]) repos.push({ uri: f[1], suites: f[2] ? [f[2]] : [] })
    }
  }
  for (const file of await filesIn(host.path('/etc/apt/sources.list.d'), '.sources')) {
    for (const stanza of (await readOptional(file)).split(/\n\s*\n/)) {
      const fields = new Map<string, string>()
      for (const line of stanza.split('\n')) {
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line)
        if (m && !line.startsWith('#')) fields.set(m[1]!.toLowerCase(), m[2]!)
      }
      if (fields.get('enabled')?.toLowerCase() === 'no') continue
      const suites = (fields.get('suites') ?? '').split(/\s+/).filter(Boolean)
      for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) repos.push({ uri, suites })
    }
  }
  return repos
}

/** `[section]` names and Server=/Include= values from pacman.conf. */
async function pacmanConf(host: Host): Promise<{ sections: string[]; uris: string[]; ignored: string[] }> {
  const text = await readFile(host.path('/etc/pacman.conf'), 'utf8')
  const sections: string[] = []
  const uris: string[] = []
  const ignored: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim()
    const sec = /^\[(.+)\]$/.exec(line)
    if (sec) {
      if (sec[1] !== 'options') sections.push(sec[1]!)
      continue
    }
    const kv = /^(\w+)\s*=\s*(.*)$/.exec(line)
    if (!kv) continue
    if (kv[1] === 'Server' || kv[1] === 'Include') uris.push(kv[2]!)
    if (kv[1] === 'IgnorePkg') ignored.push(...kv[2]!.split(/\s+/).filter(Boolean))
  }
  return { sections, uris, ignored }
}

/** Repo ids, names and base URLs from /etc/yum.repos.d/*.repo (read directly, so no yum run is needed). */
async function yumRepos(host: Host): Promise<{ names: string[]; uris: string[] }> {
  const names: string[] = []
  const uris: string[] = []
  for (const file of await filesIn(host.path('/etc/yum.repos.d'), '.repo')) {
    for (const raw of (await readOptional(file)).split('\n')) {
      const line = raw.replace(/#.*/, '').trim()
      const sec = /^\[(.+)\]$/.exec(line)
      if (sec) names.push(sec[1]!)
      const kv = /^(name|baseurl|mirrorlist|metalink)\s*=\s*(.*)$/.exec(line)
      if (kv) (kv[1] === 'name' ? names : uris).push(kv[2]!.trim())
    }
  }
  return { names, uris }
}

/** Installed per the first package manager present: dpkg-query, then rpm, then pacman, then apk. */
async function isInstalled(host: Host, pkg: string, signal: AbortSignal): Promise<CheckResult> {
  const probes: [string, string[], (r: { code: number | null; stdout: string }) => boolean][] = [
    // dpkg -s also succeeds for removed-but-not-purged packages; the status field does not.
    ['dpkg-query', ['-W', '-f=${db:Status-Status}', pkg], (r) => r.code === 0 && r.stdout.trim() === 'installed'],
    ['rpm', ['-q', pkg], (r) => r.code === 0],
    ['pacman', ['-Q', pkg], (r) => r.code === 0],
    ['apk', ['info', '-e', pkg], (r) => r.code === 0],
  ]
  for (const [cmd, args, ok] of probes) {
    try {
      const r = await host.exec(cmd, args, signal)
      return ok(r) ? pass() : fail(`Package not installed: ${pkg}`)
    } catch (err) {
      if (!(err instanceof CannotRunError) || !err.message.startsWith('executable not found')) throw err
    }
  }
  return unknown('no package manager found (dpkg-query, rpm, pacman, apk)')
}

function repoCheck(names: string[], byUri: boolean): CheckDef {
  return {
    names,
    params: 2,
    summary: byUri ? 'a configured repository URI matches the regex' : 'a configured repository name matches the regex',
    parse: ([mgr, pattern]) => {
      const manager = parseManager(mgr!)
      const re = parseRegex(pattern!)
      return async (host) => {
        let found: string[]
        if (manager === 'dpkg') {
          const repos = await aptRepos(host)
          // Apt repositories have no names; the suite (bookworm, stable-updates) is the closest thing.
          found = byUri ? repos.map((r) => r.uri) : repos.flatMap((r) => r.suites)
        } else if (manager === 'pacman') {
          try {
            const conf = await pacmanConf(host)
            found = byUri ? conf.uris : conf.sections
          } catch {
            return unknown('cannot read /etc/pacman.conf')
          }
        } else {
          const repos = await yumRepos(host)
          found = byUri ? repos.uris : repos.names
        }
        return found.some((r) => re.test(r)) ? pass() : mismatch(`Repository ${byUri ? 'URI' : 'name'} not found`, pattern!, found, DISTRIBUTIVE_LIMITS.actualItemsMax)
      }
    },
  }
}

export const packageChecks: CheckDef[] = [
  {
    names: ['installed'],
    params: 1,
    summary: 'the package is installed (dpkg, rpm, pacman or apk)',
    parse: ([pkg]) => {
      if (!pkg) throw new ParamError('empty package name')
      return (host, signal) => isInstalled(host, pkg, signal)
    },
  },
  repoCheck(['repoExists'], false),
  repoCheck(['repoExistsURI'], true),
  {
    names: ['pacmanIgnore'],
    params: 1,
    summary: 'the package is listed in IgnorePkg in /etc/pacman.conf',
    parse: ([pkg]) => async (host) => {
      let ignored: string[]
      try {
        ignored = (await pacmanConf(host)).ignored
      } catch {
        return unknown('cannot read /etc/pacman.conf')
      }
      return ignored.includes(pkg!) ? pass() : mismatch('Package not ignored by pacman', pkg!, ignored, DISTRIBUTIVE_LIMITS.actualItemsMax)
    },
  },
]
