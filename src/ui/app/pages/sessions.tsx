/** Sessions and the locks they hold (the keys whose Session is theirs). */
import type { JSX } from 'preact'
import { api, apiUrl, useBlocking } from '../api.js'
import { Empty, ErrorBox, Loading } from '../components.js'
import { href, segs } from '../router.js'

interface Session {
  ID: string
  Name: string
  Node: string
  Behavior: string
  TTL: string
  LockDelay: number
  NodeChecks?: string[]
  ServiceChecks?: Array<{ ID: string }>
  CreateIndex: number
}

interface KvPair {
  Key: string
  Session?: string
}

export function SessionsPage({ dc }: { dc: string }): JSX.Element {
  const sessions = useBlocking<Session[]>(apiUrl('session/list', dc))
  // Consul has no read of the keys a session holds: one recursive read finds them, and only while there are sessions.
  const locks = useBlocking<KvPair[]>(sessions.data && sessions.data.length > 0 ? apiUrl('kv/', dc, { recurse: true }) : null)
  const held = new Map<string, string[]>()
  for (const p of locks.data ?? []) if (p.Session) held.set(p.Session, [...(held.get(p.Session) ?? []), p.Key])
  const destroy = async (id: string): Promise<void> => {
    if (confirm(`Invalidate session ${id}? The locks it holds are released.`)) await api(apiUrl(`session/destroy/${id}`, dc), { method: 'PUT' })
  }
  return (
    <section aria-labelledby="page-title">
      <header class="page-head"><h1 id="page-title">Sessions <span class="count">{sessions.data?.length ?? ''}</span></h1></header>
      <ErrorBox error={sessions.error} />
      {sessions.loading ? <Loading /> : null}
      {sessions.data?.length === 0 ? <Empty>No sessions.</Empty> : null}
      {sessions.data && sessions.data.length > 0 ? (
        <table>
          <thead><tr><th scope="col">ID</th><th scope="col">Name</th><th scope="col">Node</th><th scope="col">Behavior</th><th scope="col">TTL</th><th scope="col">Locks held</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {sessions.data.map((s) => (
              <tr key={s.ID} data-session={s.ID}>
                <td><code>{s.ID}</code></td>
                <td>{s.Name}</td>
                <td><a href={href(`${dc}/nodes/${segs(s.Node)}`)}>{s.Node}</a></td>
                <td>{s.Behavior}</td>
                <td>{s.TTL || '—'}</td>
                <td>{(held.get(s.ID) ?? []).map((k) => <a key={k} class="tag" href={href(`${dc}/kv/${segs(k)}/edit`)}>{k}</a>)}</td>
                <td><button type="button" class="danger small" onClick={() => void destroy(s.ID)}>Invalidate</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}
