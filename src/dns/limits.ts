/**
 * Hard limits of the DNS interface. Every buffer, timer and table the DNS server keeps has one
 * here, so a hostile or merely busy client cannot grow them without bound.
 */
export const DNS_LIMITS = {
  /** A UDP answer without EDNS0 must fit this (RFC 1035 4.2.1). */
  udpDefaultSize: 512,
  /** The largest EDNS0 payload size we honour or advertise, whatever the client offers. */
  udpMaxSize: 4096,
  /** A TCP message is length-prefixed with 16 bits (RFC 1035 4.2.2). */
  tcpMaxSize: 65535,
  /** Answers cached between catalog changes; past this the cache starts over (random names must not grow it). */
  cacheEntries: 10_000,
  /** Idle TCP connections are closed after this (RFC 7766 suggests seconds, not minutes). */
  tcpIdleMs: 10_000,
  /** Concurrent TCP connections; more are closed at accept. */
  tcpMaxConnections: 512,
  /** Queries awaiting an answer on one TCP connection (pipelining); past this the connection is closed. */
  tcpMaxPending: 64,
  /** Answer bytes queued on one TCP connection whose client does not read; past this it is closed. */
  tcpMaxQueuedBytes: 1 << 20,
  /** Concurrent forwarded queries; past this new out-of-domain queries get SERVFAIL instead of a socket. */
  recursorMaxInFlight: 1024,
  /** Queries a UDP worker relays to the agent at once; past this it drops new ones (the client retries). */
  workerMaxRelays: 1024,
  /** UDP worker processes at most, whatever `dns_config.udp_workers` or the core count say. */
  udpWorkersMax: 16,
  /** Other datacenters whose catalogs DNS follows at most (each one a whole copy in memory). */
  remoteDatacentersMax: 32,
  /** Attempts to find a port free for both UDP and TCP when an ephemeral port was asked for. */
  bindAttempts: 10,
  /** A TXT character-string holds at most 255 bytes (RFC 1035 3.3); longer meta values are split. */
  txtChunk: 255,
} as const
