/** Gossip members (LAN and WAN) and the raft peers with the leader. */
import type { JSX } from 'preact'
import { apiUrl, useOnce } from '../api.js'
import { Empty, ErrorBox, Loading } from '../components.js'
import { memberStatus, type AgentMember } from '../../../lib/agent-member.js'


interface RaftConfig {
  Servers: Array<{ ID: string; Node: string; Address: string; Leader: boolean; Voter: boolean }>
  Index: number
}


function Members({ wan }: { wan: boolean }): JSX.Element {
  // Members are the agent's own gossip view, not a blocking endpoint: read again every 5 s while shown.
  const { data, error, loading } = useOnce<AgentMember[]>(apiUrl('agent/members', undefined, { wan }), 5000)
  return (
    <>
      <ErrorBox error={error} />
      {loading ? <Loading /> : null}
      {data?.length === 0 ? <Empty>No members.</Empty> : null}
      {data && data.length > 0 ? (
        <table aria-label={wan ? 'WAN members' : 'LAN members'}>
          <thead><tr><th scope="col">Name</th><th scope="col">Address</th><th scope="col">Status</th><th scope="col">Role</th><th scope="col">Datacenter</th></tr></thead>
          <tbody>
            {data.map((m) => {
              const status = memberStatus(m)
              return (
                <tr key={m.Name} data-member={m.Name} data-status={status}>
                  <td>{m.Name}</td>
                  <td>{m.Addr}:{m.Port}</td>
                  <td><span class={`pill pill-${status === 'alive' ? 'passing' : status === 'failed' ? 'critical' : 'warning'}`}>{status}</span></td>
                  <td>{m.Tags.role === 'consul' ? 'server' : 'client'}</td>
                  <td>{m.Tags.dc}</td>
                </tr>
              )
            })}
          </tbody>
        </table>
      ) : null}
    </>
  )
}

export function ClusterPage({ dc }: { dc: string }): JSX.Element {
  // Not a blocking endpoint either: the peers change rarely, read every 5 s.
  const raft = useOnce<RaftConfig>(apiUrl('operator/raft/configuration', dc), 5000)
  return (
    <section aria-labelledby="page-title">
      <header class="page-head"><h1 id="page-title">Cluster</h1></header>
      <h2>Raft peers</h2>
      <ErrorBox error={raft.error} />
      {raft.loading ? <Loading /> : null}
      {raft.data ? (
        <table aria-label="Raft peers">
          <thead><tr><th scope="col">Node</th><th scope="col">ID</th><th scope="col">Address</th><th scope="col">State</th><th scope="col">Voter</th></tr></thead>
          <tbody>
            {raft.data.Servers.map((s) => (
              <tr key={s.ID} data-peer={s.Node}>
                <td>{s.Node}</td><td><code>{s.ID}</code></td><td>{s.Address}</td><td>{s.Leader ? <strong>leader</strong> : 'follower'}</td><td>{s.Voter ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <h2>LAN members</h2>
      <Members wan={false} />
      <h2>WAN members</h2>
      <Members wan />
    </section>
  )
}
