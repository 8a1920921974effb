/**
 * `data_dir/raft/peers.json`: Consul's manual recovery of a cluster that lost quorum for good. The
 * operator writes the surviving servers (raft protocol 3 form: `[{"id", "address", "non_voter"}]`)
 * into every survivor's file and starts them; each applies its whole log, stores the new
 * configuration, and the file is removed.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { RaftServer } from './types.js'
import { ConfigError } from '../lib/errors.js'

export const PEERS_FILE = 'peers.json'

/** The servers `raftDir/peers.json` names, or undefined when there is no such file. Throws ConfigError naming what is wrong. */
export function readPeersJson(raftDir: string): RaftServer[] | undefined {
  const file = join(raftDir, PEERS_FILE)
  if (!existsSync(file)) return undefined
  let doc: unknown
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new ConfigError(file, '', `not valid JSON: ${(err as Error).message}`)
  }
  if (!Array.isArray(doc) || doc.length === 0) throw new ConfigError(file, '', 'must be a non-empty array of servers')
  return doc.map((s: unknown, i) => {
    if (typeof s === 'string') {
      throw new ConfigError(file, `[${i}]`, 'addresses alone are the raft protocol 2 form; write {"id": "<node-id>", "address": "<ip:port>", "non_voter": false} per server')
    }
    const o = s as Record<string, unknown>
    if (typeof o !== 'object' || o === null || typeof o.id !== 'string' || o.id === '') throw new ConfigError(file, `[${i}].id`, 'must be a non-empty string')
    if (typeof o.address !== 'string' || !/^.+:\d+$/.test(o.address)) throw new ConfigError(file, `[${i}].address`, 'must be "ip:port"')
    if (o.non_voter !== undefined && typeof o.non_voter !== 'boolean') throw new ConfigError(file, `[${i}].non_voter`, 'must be true or false')
    return { id: o.id, address: o.address, voter: o.non_voter !== true }
  })
}

/** Removes peers.json once its configuration is stored, so the next start does not recover again. */
export function removePeersJson(raftDir: string): void {
  rmSync(join(raftDir, PEERS_FILE), { force: true })
}
