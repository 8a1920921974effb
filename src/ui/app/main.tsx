/** The web UI: a header with the sections and the datacenter switcher, and the page the URL names. */
import { render, type JSX } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { apiUrl, readSettings, storedToken, storeToken, useOnce } from './api.js'
import { href, navigate, onLinkClick, setBase, useRoute } from './router.js'
import { ServicePage, ServicesPage } from './pages/services.js'
import { NodePage, NodesPage } from './pages/nodes.js'
import { KvPage } from './pages/kv.js'
import { SessionsPage } from './pages/sessions.js'
import { ClusterPage } from './pages/cluster.js'
import { AclPage, LoginPage } from './pages/acl.js'

const settings = readSettings()
setBase(settings.contentPath)

const SECTIONS: Array<[string, string]> = [['services', 'Services'], ['nodes', 'Nodes'], ['kv', 'Key / Value'], ['sessions', 'Sessions'], ['cluster', 'Cluster']]

function useTokenPresent(): boolean {
  const [present, setPresent] = useState(storedToken() !== '')
  useEffect(() => {
    const update = (): void => setPresent(storedToken() !== '')
    window.addEventListener('consul-token', update)
    return () => window.removeEventListener('consul-token', update)
  }, [])
  return present
}

function Header({ dc, section }: { dc: string; section: string }): JSX.Element {
  const dcs = useOnce<string[]>(apiUrl('catalog/datacenters', undefined))
  const loggedIn = useTokenPresent()
  const sections = settings.aclsEnabled ? [...SECTIONS, ['acls', 'Access controls'] as [string, string]] : SECTIONS
  return (
    <header class="top">
      <a class="brand" href={href(`${dc}/services`)}>consul<span class="muted">ate</span></a>
      <nav aria-label="Sections">
        {sections.map(([s, label]) => (
          <a key={s} href={href(`${dc}/${s}${s === 'kv' ? '/' : ''}`)} aria-current={s === section ? 'page' : undefined}>{label}</a>
        ))}
      </nav>
      <div class="top-side">
        <label>
          <span class="sr-only">Datacenter</span>
          <select aria-label="Datacenter" value={dc} onChange={(e) => navigate(`${(e.target as HTMLSelectElement).value}/${section}${section === 'kv' ? '/' : ''}`)}>
            {(dcs.data ?? [dc]).map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        </label>
        {settings.aclsEnabled ? (
          loggedIn ? <button type="button" onClick={() => { storeToken(''); navigate(`${dc}/acls/login`) }}>Log out</button> : <a class="button" href={href(`${dc}/acls/login`)}>Log in</a>
        ) : null}
      </div>
    </header>
  )
}

function Page({ dc, parts, rest, query }: { dc: string; parts: string[]; rest: string; query: URLSearchParams }): JSX.Element {
  const route = { parts, rest, query }
  switch (parts[1]) {
    case 'services':
      return parts[2] ? <ServicePage dc={dc} name={parts[2]} /> : <ServicesPage dc={dc} route={route} />
    case 'nodes':
      return parts[2] ? <NodePage dc={dc} name={parts[2]} /> : <NodesPage dc={dc} route={route} />
    case 'kv': {
      // The raw path after /kv/, decoded segment by segment, keeping its trailing slash.
      const raw = rest.slice(rest.indexOf('/kv') + 3).replace(/^\//, '')
      const key = raw.split('/').map((p) => { try { return decodeURIComponent(p) } catch { return p } }).join('/')
      return <KvPage dc={dc} rest={key} />
    }
    case 'sessions':
      return <SessionsPage dc={dc} />
    case 'cluster':
      return <ClusterPage dc={dc} />
    case 'acls':
      return parts[2] === 'login' ? <LoginPage dc={dc} /> : <AclPage dc={dc} tab={parts[2] ?? 'tokens'} />
    default:
      return <section><h1>Not found</h1><p>No page here. <a href={href(`${dc}/services`)}>Services</a></p></section>
  }
}

function App(): JSX.Element {
  const route = useRoute()
  const dc = route.parts[0]
  const section = route.parts[1]
  useEffect(() => {
    if (!dc || !section) navigate(`${dc ?? settings.datacenter}/services`, true)
  }, [dc, section])
  useEffect(() => {
    document.title = `${route.parts[2] ?? route.parts[1] ?? 'Services'} - ${dc ?? settings.datacenter} - Consul`
  }, [route])
  if (!dc || !section) return <p class="muted">Loading…</p>
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <Header dc={dc} section={route.parts[1] ?? 'services'} />
      <main id="main" tabIndex={-1}>
        <Page dc={dc} parts={route.parts} rest={route.rest} query={route.query} />
      </main>
    </>
  )
}

document.addEventListener('click', onLinkClick)
render(<App />, document.getElementById('app')!)
