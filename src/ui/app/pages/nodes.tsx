/** Nodes with their health, and a node's services and checks. */
import type { JSX } from 'preact'
import { apiUrl, quote, useBlocking } from '../api.js'
import { CheckList, Empty, ErrorBox, FilterBox, Loading, StatusPill, Tags, VirtualList, worst, type Check } from '../components.js'
import { href, navigate, segs, type Route } from '../router.js'

interface NodeEntry {
  Node: string
  Address: string
  Meta: Record<string, string>
  Services: Array<{ ID: string; Service: string; Tags: string[]; Port: number }>
  Checks: Check[]
}

export function NodesPage({ dc, route }: { dc: string; route: Route }): JSX.Element {
  const search = route.query.get('filter') ?? ''
  const filter = search ? `Node contains ${quote(search)} or Address contains ${quote(search)}` : undefined
  const { data, error, loading } = useBlocking<NodeEntry[]>(apiUrl('internal/ui/nodes', dc, { filter }), { keepWhileLoading: true })
  return (
    <section aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Nodes <span class="count">{data ? data.length : ''}</span></h1>
        <div class="toolbar">
          <FilterBox label="Search nodes by name or address" value={search} onChange={(v) => navigate(`${dc}/nodes${v ? `?filter=${encodeURIComponent(v)}` : ''}`, true)} />
        </div>
      </header>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data && data.length === 0 ? <Empty>No nodes{search ? ' match' : ''}.</Empty> : null}
      {data && data.length > 0 ? (
        <VirtualList
          label="Nodes"
          items={data}
          rowHeight={56}
          render={(n) => {
            const status = worst(n.Checks.map((c) => c.Status))
            return (
              <a class="row" role="listitem" key={n.Node} href={href(`${dc}/nodes/${segs(n.Node)}`)} data-node={n.Node} data-status={status}>
                <span class="row-main"><StatusPill status={status} /> <strong class="name">{n.Node}</strong> <span class="muted">{n.Address}</span></span>
                <span class="row-side muted">{n.Services.length} service{n.Services.length === 1 ? '' : 's'} · {n.Checks.length} check{n.Checks.length === 1 ? '' : 's'}</span>
              </a>
            )
          }}
        />
      ) : null}
    </section>
  )
}

export function NodePage({ dc, name }: { dc: string; name: string }): JSX.Element {
  const { data, error, loading } = useBlocking<NodeEntry>(apiUrl(`internal/ui/node/${encodeURIComponent(name)}`, dc))
  return (
    <section aria-labelledby="page-title">
      <nav class="crumbs" aria-label="Breadcrumb"><a href={href(`${dc}/nodes`)}>Nodes</a> / </nav>
      <header class="page-head">
        <h1 id="page-title">{data ? <StatusPill status={worst(data.Checks.map((c) => c.Status))} /> : null} {name} <span class="muted">{data?.Address}</span></h1>
      </header>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data ? (
        <>
          {Object.keys(data.Meta ?? {}).length > 0 ? <dl class="meta">{Object.entries(data.Meta).map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}</dl> : null}
          <h2>Services</h2>
          {data.Services.length === 0 ? <Empty>No services on this node.</Empty> : (
            <ul class="plain">
              {data.Services.map((s) => {
                const status = worst(data.Checks.filter((c) => c.ServiceID === '' || c.ServiceID === s.ID).map((c) => c.Status))
                return (
                  <li key={s.ID}><StatusPill status={status} /> <a href={href(`${dc}/services/${segs(s.Service)}`)}>{s.Service}</a> <span class="muted">{s.ID}{s.Port ? ` · :${s.Port}` : ''}</span> <Tags tags={s.Tags} /></li>
                )
              })}
            </ul>
          )}
          <h2>Checks</h2>
          <CheckList checks={data.Checks} />
        </>
      ) : null}
    </section>
  )
}
