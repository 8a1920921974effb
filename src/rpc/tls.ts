/**
 * TLS for server RPC (Consul's tls.internal_rpc): one listener takes both TLS and plaintext peers,
 * told apart by the first byte (a TLS record starts 0x16; our preamble starts "C"), so a cluster
 * can move to TLS one server at a time, and verify_incoming shuts the plaintext door.
 *
 * verify_outgoing: every dial is TLS and the peer's chain must reach the CA. verify_server_hostname:
 * the peer's certificate must also name it `server.<dc>.<domain>`, checked against the datacenter
 * the peer's hello gives (so the WAN, where peers are of any datacenter, checks the same way), and
 * an inbound peer without such a certificate is not let call the servers-only methods (raft, a
 * forwarded write), so a client certificate cannot make its holder a server.
 */
import { createSecureContext, createServer as createTlsServer, checkServerIdentity, connect as tlsConnect, TLSSocket, type PeerCertificate, type SecureContext } from 'node:tls'
import type { Socket } from 'node:net'

export interface RpcTlsOptions {
  /** PEM: the CA peers' certificates must chain to. */
  ca?: string | Buffer
  /** PEM: this agent's certificate and key, shown to peers either way. */
  cert?: string | Buffer
  key?: string | Buffer
  /** Inbound peers must speak TLS and present a certificate signed by the CA. */
  verifyIncoming: boolean
  /** Outbound connections are TLS, and the peer's certificate must be signed by the CA. */
  verifyOutgoing: boolean
  /** verify_server_hostname: server certificates must name `server.<dc>.<serverDomain>` (Consul's `domain`). */
  serverDomain?: string
}

/** The first byte of a TLS handshake record. */
const TLS_HANDSHAKE = 0x16

export class RpcTls {
  readonly verifyIncoming: boolean
  readonly verifyOutgoing: boolean
  readonly #context: SecureContext
  readonly #pems: Pick<RpcTlsOptions, 'ca' | 'cert' | 'key'>
  readonly #domain: string | undefined

  constructor(o: RpcTlsOptions) {
    this.verifyIncoming = o.verifyIncoming
    this.verifyOutgoing = o.verifyOutgoing || o.serverDomain !== undefined
    this.#domain = o.serverDomain
    this.#pems = { ca: o.ca, cert: o.cert, key: o.key }
    this.#context = createSecureContext(this.#pems)
  }

  /** Whether a connection's first bytes open a TLS handshake. */
  static startsTls(first: Uint8Array): boolean {
    return first[0] === TLS_HANDSHAKE
  }

  /**
   * An acceptor for one listener: each raw socket given to it (its first bytes still unread) is
   * taken through the handshake; `secure` gets the TLS socket then, `failed` a handshake that failed.
   * A certificate is asked of every peer and none is refused here: the caller decides, so that it can
   * tell a refused peer why in our own protocol.
   */
  acceptor(o: { handshakeTimeoutMs: number; secure: (s: TLSSocket) => void; failed: (err: Error, s: TLSSocket) => void }): (raw: Socket) => void {
    // tls.Server builds its own context from the PEMs (it does not take a SecureContext).
    const server = createTlsServer({ ...this.#pems, requestCert: true, rejectUnauthorized: false, handshakeTimeout: o.handshakeTimeoutMs })
    server.on('secureConnection', o.secure)
    server.on('tlsClientError', o.failed)
    // A tls.Server that never listens: it is handed sockets, as Node documents for 'connection'.
    return (raw) => server.emit('connection', raw)
  }

  /** Why an inbound peer is refused under verify_incoming, or undefined when it is let in. */
  incomingProblem(s: TLSSocket): string | undefined {
    if (!this.verifyIncoming || s.authorized) return undefined
    const cert = s.getPeerCertificate()
    if (!cert || Object.keys(cert).length === 0) return 'the peer presented no certificate, and verify_incoming wants one signed by the CA'
    return `the peer's certificate (${certNames(cert)}) is not signed by the CA in ca_file (${String(s.authorizationError)})`
  }

  /** Client side over a dialed socket. The chain is checked here; the name after the hello, once the peer's datacenter is known. */
  dial(raw: Socket, datacenter: string): TLSSocket {
    return tlsConnect({
      socket: raw,
      secureContext: this.#context,
      servername: `server.${datacenter}.${this.#domain ?? 'consul'}`,
      rejectUnauthorized: true,
      checkServerIdentity: () => undefined,
    })
  }

  /**
   * Why the certificate `socket`'s peer presented does not make it a server of `datacenter`, or
   * undefined when it does or when names are not checked (no verify_server_hostname). A plaintext
   * socket never does.
   */
  serverNameProblem(socket: Socket, datacenter: string): string | undefined {
    if (this.#domain === undefined) return undefined
    const name = `server.${datacenter}.${this.#domain}`
    if (!(socket instanceof TLSSocket)) return `a plaintext connection, and verify_server_hostname wants a certificate for ${name}`
    if (!socket.authorized) return `no certificate signed by the CA, and verify_server_hostname wants one for ${name}`
    const cert = socket.getPeerCertificate()
    if (!cert || Object.keys(cert).length === 0) return `no certificate, and verify_server_hostname wants one for ${name}`
    return checkServerIdentity(name, cert as PeerCertificate) ? `its certificate (${certNames(cert)}) is not valid for ${name}` : undefined
  }

  /** Whether names are checked at all. */
  get checksServerNames(): boolean {
    return this.#domain !== undefined
  }
}

function certNames(cert: PeerCertificate): string {
  return cert.subjectaltname || `CN=${cert.subject?.CN ?? '?'}`
}

/** A TLS failure in a few words (OpenSSL's own text is a path into its sources). */
export function tlsErrorText(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code ?? ''
  switch (code) {
    case 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE':
      return 'tls: the peer presented no certificate (verify_incoming wants one signed by the CA)'
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
    case 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE':
      return 'tls: the peer wants a certificate signed by its CA (its verify_incoming); set cert_file and key_file'
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'CERT_SIGNATURE_FAILURE':
      return `tls: the peer's certificate is not signed by the CA in ca_file (${code})`
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
    case 'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR':
      return `tls: the peer does not trust this agent's certificate (${code})`
    case 'CERT_HAS_EXPIRED':
      return 'tls: the peer\'s certificate has expired'
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return 'tls: the peer does not speak TLS on this port (no tls.internal_rpc certificate there?)'
  }
  // OpenSSL: "<hex>:error:<code>:<lib>:<func>:<reason>:<file>:<line>:"; the reason is what a person reads.
  const reason = err.message.split(':')[5]
  return `tls: ${reason && err.message.includes(':error:') ? reason : err.message}${code ? ` (${code})` : ''}`
}
