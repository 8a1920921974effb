/** Every bound distributive enforces, named once. */
export const DISTRIBUTIVE_LIMITS = {
  /** Default per-check timeout (`--timeout`), as Nagios plugins default to 10 s. */
  checkTimeoutMsDefault: 10_000,
  /** Checks in flight at once: enough to overlap slow network checks without a fork storm of `bash -c`. */
  concurrencyMax: 32,
  /** Bytes of a check's message kept in the report; Consul keeps only 4 KB of a whole check's output. */
  messageBytesMax: 1024,
  /** Bytes of stdout+stderr kept from an external command; more is read and discarded. */
  commandOutputBytesMax: 256 * 1024,
  /** Bytes of an HTTP body read by responseMatches, and of a checklist fetched by `-u`. */
  httpBodyBytesMax: 4 * 1024 * 1024,
  /** Bytes of one checklist file; a larger one is a mistake, not a checklist. */
  checklistBytesMax: 4 * 1024 * 1024,
  /** Checks in one checklist. */
  checksPerChecklistMax: 10_000,
  /** Failed checks named on the Nagios status line; the rest are in the long output. */
  statusLineFailuresMax: 5,
  /** Characters of the Nagios status line before its perfdata (NRPE 2 reads about 1 KB in all). */
  statusLineCharsMax: 600,
  /** Items listed in a "Specified/Actual" failure message, as upstream's GenericError. */
  actualItemsMax: 50,
  /**
   * Window between the two /proc/stat samples of cpuUsage. Upstream waited 3 s, which made every run take 3 s;
   * a quarter second is long enough for a jiffy-resolution delta and keeps a run cheap enough for a 10 s interval.
   */
  cpuSampleMs: 250,
  /** How long udp/udpTimeout wait for an ICMP port-unreachable (or a reply) when no timeout is given. */
  udpProbeWaitMs: 500,
  /** Bytes read from a ZooKeeper four-letter-word answer. */
  zkAnswerBytesMax: 64 * 1024,
} as const
