/**
 * The agent's TLS settings, per interface as Consul 1.12+ has them: `tls.https` and
 * `tls.internal_rpc`, each falling back to `tls.defaults` and then to the older top-level keys
 * (`ca_file`, `verify_incoming_rpc`, `verify_server_hostname`, ...) that configs still carry.
 */
import { ConfigError } from '../lib/errors.js'

type Doc = Record<string, unknown>

export interface HttpsTlsConfig {
  caFile?: string
  certFile?: string
  keyFile?: string
  verifyIncoming: boolean
}

export interface RpcTlsConfig {
  caFile?: string
  certFile?: string
  keyFile?: string
  verifyIncoming: boolean
  verifyOutgoing: boolean
  /** Server certificates must name `server.<dc>.<domain>`; implies verify_outgoing, as in Consul. */
  verifyServerHostname: boolean
}

const block = (doc: Doc, name: string): Doc | undefined => {
  const tls = doc.tls as Doc | undefined
  const b = tls?.[name]
  return b && typeof b === 'object' ? (b as Doc) : undefined
}

/** A key of an interface block, else of tls.defaults, else the first of the top-level fallbacks set. */
function lookup<T>(doc: Doc, iface: string, key: string, ...topLevel: string[]): T | undefined {
  const v = block(doc, iface)?.[key] ?? block(doc, 'defaults')?.[key]
  if (v !== undefined) return v as T
  for (const k of topLevel) if (doc[k] !== undefined) return doc[k] as T
  return undefined
}

export function httpsTlsConfig(doc: Doc): HttpsTlsConfig {
  return {
    caFile: lookup(doc, 'https', 'ca_file', 'ca_file'),
    certFile: lookup(doc, 'https', 'cert_file', 'cert_file'),
    keyFile: lookup(doc, 'https', 'key_file', 'key_file'),
    verifyIncoming: Boolean(lookup(doc, 'https', 'verify_incoming', 'verify_incoming_https', 'verify_incoming')),
  }
}

/** tls.internal_rpc, checked: a verification that cannot work stops the agent naming the key. */
export function rpcTlsConfig(doc: Doc): RpcTlsConfig {
  const c: RpcTlsConfig = {
    caFile: lookup(doc, 'internal_rpc', 'ca_file', 'ca_file'),
    certFile: lookup(doc, 'internal_rpc', 'cert_file', 'cert_file'),
    keyFile: lookup(doc, 'internal_rpc', 'key_file', 'key_file'),
    verifyIncoming: Boolean(lookup(doc, 'internal_rpc', 'verify_incoming', 'verify_incoming_rpc', 'verify_incoming')),
    verifyOutgoing: Boolean(lookup(doc, 'internal_rpc', 'verify_outgoing', 'verify_outgoing')),
    verifyServerHostname: Boolean(lookup(doc, 'internal_rpc', 'verify_server_hostname', 'verify_server_hostname')),
  }
  const key = (k: string): string => (block(doc, 'internal_rpc')?.[k] !== undefined ? `tls.internal_rpc.${k}` : block(doc, 'defaults')?.[k] !== undefined ? `tls.defaults.${k}` : k)
  if (Boolean(c.certFile) !== Boolean(c.keyFile)) throw new ConfigError('config', key(c.certFile ? 'cert_file' : 'key_file'), `cert_file and key_file go together, and ${c.certFile ? 'key_file' : 'cert_file'} is not set`)
  if ((c.verifyOutgoing || c.verifyServerHostname) && !c.caFile) {
    const k = c.verifyServerHostname ? 'verify_server_hostname' : 'verify_outgoing'
    throw new ConfigError('config', key(k), `${k} is set but there is no ca_file to check the servers' certificates against`)
  }
  if (c.verifyIncoming && !c.caFile) throw new ConfigError('config', key('verify_incoming'), 'verify_incoming is set but there is no ca_file to check the peers\' certificates against')
  return c
}
