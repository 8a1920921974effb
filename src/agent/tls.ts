/**
 * Loading what the TLS settings name (config-tls.ts): PEM files read at start, each failure a
 * config error naming the file and key.
 */
import { readFileSync } from 'node:fs'
import { ConfigError } from '../lib/errors.js'
import { RpcTls } from '../rpc/tls.js'
import type { RpcTlsConfig } from './config-tls.js'

/** Reads a PEM file named by a config key; an unreadable one stops the agent naming the file and key. */
export function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    throw new ConfigError(file, key, `cannot read: ${(err as Error).message}`)
  }
}

/**
 * The RPC TLS of an agent, or undefined when it has none. A server taking inbound RPC with
 * verify_incoming needs its own certificate; so does any agent when its servers verify it.
 */
export function loadRpcTls(c: RpcTlsConfig, opts: { server: boolean; domain: string }): RpcTls | undefined {
  if (!c.caFile && !c.certFile) return undefined
  if (opts.server && c.verifyIncoming && !c.certFile) throw new ConfigError('config', 'tls.internal_rpc.cert_file', 'verify_incoming on a server needs its own cert_file and key_file')
  const ca = c.caFile ? readPem(c.caFile, 'ca_file') : undefined
  const cert = c.certFile ? readPem(c.certFile, 'cert_file') : undefined
  const key = c.keyFile ? readPem(c.keyFile, 'key_file') : undefined
  try {
    return new RpcTls({
      ca,
      cert,
      key,
      // A client agent takes no inbound RPC: verify_incoming is its servers' business.
      verifyIncoming: opts.server && c.verifyIncoming,
      verifyOutgoing: c.verifyOutgoing,
      // The DNS domain is kept fully qualified ("consul."); certificate names are not.
      serverDomain: c.verifyServerHostname ? opts.domain.replace(/\.$/, '') : undefined,
    })
  } catch (err) {
    throw new ConfigError(c.certFile ?? c.caFile ?? 'config', 'tls.internal_rpc', `cannot load the CA, certificate or key: ${(err as Error).message}`)
  }
}
