/**
 * Our side of `npm run bench -- raft`: N voters of our raft in this process over the in-memory
 * transport, each with durable (fsync'd) storage in its own directory under `dir`.
 */

/** What the bench needs from a cluster: proposals on the leader and a way to stop. */
export interface OurCluster {
  /** Proposes `data` on the leader; resolves once it is committed and applied there. */
  propose(data: Uint8Array): Promise<unknown>
  /** Entries applied on each voter so far, to check after the run that every voter replicated. */
  applied(): number[]
  /** How the cluster is configured (timing, storage, transport), for the results file. */
  readonly config: Record<string, unknown>
  close(): Promise<void>
}

/** The message of the error thrown while the raft driver is not on main; the bench reports it and measures the rest. */
export const DRIVER_MISSING = 'driver not on main yet'

export async function startOurCluster(_dir: string, _voters: number): Promise<OurCluster> {
  throw new Error(DRIVER_MISSING)
}
