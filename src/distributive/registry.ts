import { dockerChecks } from './checks/docker.js'
import { filesystemChecks } from './checks/filesystem.js'
import { miscChecks } from './checks/misc.js'
import { networkChecks } from './checks/network.js'
import { packageChecks } from './checks/packages.js'
import { systemdChecks } from './checks/systemd.js'
import { usageChecks } from './checks/usage.js'
import { userChecks } from './checks/users.js'
import { zookeeperChecks } from './checks/zookeeper.js'
import type { CheckDef } from './types.js'

/** Every check, by domain. Names from all three upstream versions (v0.2.1, v0.2.5, v0.3.0) are registered. */
export const CHECK_DOMAINS: Readonly<Record<string, readonly CheckDef[]>> = {
  filesystem: filesystemChecks,
  packages: packageChecks,
  systemd: systemdChecks,
  network: networkChecks,
  users: userChecks,
  docker: dockerChecks,
  misc: miscChecks,
  usage: usageChecks,
  zookeeper: zookeeperChecks,
}

/** Lower-cased name → definition. Names are looked up without regard to case, as upstream did. */
const REGISTRY: ReadonlyMap<string, CheckDef> = (() => {
  const map = new Map<string, CheckDef>()
  for (const defs of Object.values(CHECK_DOMAINS)) {
    for (const def of defs) {
      for (const name of def.names) {
        const key = name.toLowerCase()
        if (map.has(key)) throw new Error(`distributive: check name registered twice: ${name}`)
        map.set(key, def)
      }
    }
  }
  return map
})()

export function lookupCheck(name: string): CheckDef | undefined {
  return REGISTRY.get(name.toLowerCase())
}

/** Every registered name, in its documented spelling. */
export function checkNames(): string[] {
  return Object.values(CHECK_DOMAINS).flatMap((defs) => defs.flatMap((d) => d.names))
}
