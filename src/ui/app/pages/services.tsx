/** The services list (one row per name, instance and check counts) and a service's instances. */
import type { JSX } from 'preact'
import { apiUrl, quote, useBlocking } from '../api.js'
import { CheckList, Empty, ErrorBox, FilterBox, Loading, StatusPill, Tags, VirtualList, worst, type Check } from '../components.js'
import { href, navigate, segs, type Route } from '../router.js'

interface ServiceSummary {
  Name: string
  Kind?: string
  Tags: string[]
  Nodes: string[]
  InstanceCount: number
  ChecksPassing: number
  ChecksWarning: number
  ChecksCritical: number
}

const STATUS_FILTERS: Record<string, string> = { critical: 'ChecksCritical != 0', warning: 'ChecksWarning != 0', passing: 'ChecksCritical == 0 and ChecksWarning == 0' }

/** `?filter=` for the agent from the search box and the status choice: the agent filters, the page never downloads what it hides. */
function serviceFilter(search: string, status: string): string | undefined {
  const parts: string[] = []
  if (search) parts.push(`(Name contains ${quote(search)} or Tags contains ${quote(search)})`)
  if (STATUS_FILTERS[status]) parts.push(STATUS_FILTERS[status]!)
  return parts.length > 0 ? parts.join(' and ') : undefined
}

export function ServicesPage({ dc, route }: { dc: string; route: Route }): JSX.Element {
  const search = route.query.get('filter') ?? ''
  const status = route.query.get('status') ?? ''
  const url = apiUrl('internal/ui/services', dc, { filter: serviceFilter(search, status) })
  const { data, error, loading } = useBlocking<ServiceSummary[]>(url, { keepWhileLoading: true })
  const setQuery = (k: string, v: string): void => {
    const q = new URLSearchParams(route.query)
    if (v) q.set(k, v)
    else q.delete(k)
    navigate(`${dc}/services${q.size > 0 ? `?${q}` : ''}`, true)
  }
  return (
    <section aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Services <span class="count">{data ? data.length : ''}</span></h1>
        <div class="toolbar">
          <FilterBox label="Search services by name or tag" value={search} onChange={(v) => setQuery('filter', v)} />
          <label>
            <span class="sr-only">Health</span>
            <select aria-label="Health" value={status} onChange={(e) => setQuery('status', (e.target as HTMLSelectElement).value)}>
              <option value="">All health</option>
              <option value="passing">Passing</option>
              <option value="warning">Warning</option>
              <option value="critical">Critical</option>
            </select>
          </label>
        </div>
      </header>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data && data.length === 0 ? <Empty>No services{search || status ? ' match' : ''}.</Empty> : null}
      {data && data.length > 0 ? (
        <VirtualList
          label="Services"
          items={data}
          rowHeight={56}
          render={(s) => (
            <a class="row" role="listitem" key={s.Name} href={href(`${dc}/services/${segs(s.Name)}`)} data-service={s.Name}>
              <span class="row-main">
                <strong class="name">{s.Name}</strong>
                {s.Kind ? <span class="tag kind">{s.Kind}</span> : null}
                <Tags tags={s.Tags} />
              </span>
              <span class="row-side">
                <span class="muted">{s.InstanceCount} instance{s.InstanceCount === 1 ? '' : 's'}</span>
                {s.ChecksPassing > 0 ? <StatusPill status="passing" count={s.ChecksPassing} /> : null}
                {s.ChecksWarning > 0 ? <StatusPill status="warning" count={s.ChecksWarning} /> : null}
                {s.ChecksCritical > 0 ? <StatusPill status="critical" count={s.ChecksCritical} /> : null}
              </span>
            </a>
          )}
        />
      ) : null}
    </section>
  )
}

interface ServiceEntry {
  Node: { Node: string; Address: string; Datacenter: string }
  Service: { ID: string; Service: string; Tags: string[]; Address: string; Port: number; Meta: Record<string, string> }
  Checks: Check[]
}

export function ServicePage({ dc, name }: { dc: string; name: string }): JSX.Element {
  const { data, error, loading } = useBlocking<ServiceEntry[]>(apiUrl(`health/service/${encodeURIComponent(name)}`, dc))
  return (
    <section aria-labelledby="page-title">
      <nav class="crumbs" aria-label="Breadcrumb"><a href={href(`${dc}/services`)}>Services</a> / </nav>
      <header class="page-head">
        <h1 id="page-title">{name} <span class="count">{data ? `${data.length} instance${data.length === 1 ? '' : 's'}` : ''}</span></h1>
      </header>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data && data.length === 0 ? <Empty>No instances of {name} are registered.</Empty> : null}
      {data?.map((e) => {
        const status = worst(e.Checks.map((c) => c.Status))
        return (
          <article class="card" key={`${e.Node.Node}/${e.Service.ID}`} data-instance={e.Service.ID} data-status={status}>
            <h2>
              <StatusPill status={status} /> {e.Service.ID}{' '}
              <span class="muted">on <a href={href(`${dc}/nodes/${segs(e.Node.Node)}`)}>{e.Node.Node}</a> · {e.Service.Address || e.Node.Address}{e.Service.Port ? `:${e.Service.Port}` : ''}</span>
            </h2>
            <Tags tags={e.Service.Tags} />
            {Object.keys(e.Service.Meta ?? {}).length > 0 ? (
              <dl class="meta">{Object.entries(e.Service.Meta).map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}</dl>
            ) : null}
            <CheckList checks={e.Checks} />
          </article>
        )
      })}
    </section>
  )
}
