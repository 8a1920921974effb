/** ACL pages when ACLs are on: log in with a token (kept in this browser), tokens, policies and roles. */
import type { JSX } from 'preact'
import { useState } from 'preact/hooks'
import { apiJson, apiUrl, storedToken, storeToken, useBlocking } from '../api.js'
import { Empty, ErrorBox, Loading } from '../components.js'
import { href, navigate } from '../router.js'

interface TokenSelf {
  AccessorID: string
  Description: string
  Policies?: Array<{ Name: string }>
}

export function LoginPage({ dc }: { dc: string }): JSX.Element {
  const [secret, setSecret] = useState('')
  const [problem, setProblem] = useState<string | undefined>()
  const [who, setWho] = useState<TokenSelf | undefined>()
  const logIn = async (e: Event): Promise<void> => {
    e.preventDefault()
    try {
      const self = await apiJson<TokenSelf>(apiUrl('acl/token/self', dc), { headers: { 'X-Consul-Token': secret.trim() } })
      storeToken(secret.trim())
      setWho(self)
      setProblem(undefined)
      navigate(`${dc}/services`)
    } catch (err) {
      setProblem(`That token is not accepted: ${(err as Error).message}`)
    }
  }
  return (
    <section aria-labelledby="page-title" class="narrow">
      <header class="page-head"><h1 id="page-title">Log in with a token</h1></header>
      {storedToken() ? (
        <p>You are logged in{who ? ` as ${who.Description || who.AccessorID}` : ''}. <button type="button" onClick={() => { storeToken(''); navigate(`${dc}/acls/login`, true) }}>Log out</button></p>
      ) : null}
      <form onSubmit={(e) => void logIn(e)}>
        <label>Secret ID <input name="token" type="password" autoComplete="off" required value={secret} onInput={(e) => setSecret((e.target as HTMLInputElement).value)} /></label>
        {problem ? <p class="error" role="alert">{problem}</p> : null}
        <button type="submit" class="primary">Log in</button>
      </form>
      <p class="muted">The token is kept in this browser (local storage) and sent as X-Consul-Token.</p>
    </section>
  )
}

interface Token { AccessorID: string; Description: string; Policies?: Array<{ Name: string }>; Roles?: Array<{ Name: string }>; Local: boolean; CreateTime: string }
interface Policy { ID: string; Name: string; Description: string; Datacenters?: string[] }
interface Role { ID: string; Name: string; Description: string; Policies?: Array<{ Name: string }> }

const TABS = [['tokens', 'Tokens'], ['policies', 'Policies'], ['roles', 'Roles']] as const

export function AclPage({ dc, tab }: { dc: string; tab: string }): JSX.Element {
  const which = TABS.some(([t]) => t === tab) ? tab : 'tokens'
  const { data, error, loading } = useBlocking<Array<Token | Policy | Role>>(apiUrl(`acl/${which}`, dc))
  return (
    <section aria-labelledby="page-title">
      <header class="page-head"><h1 id="page-title">Access controls</h1></header>
      <nav class="tabs" aria-label="ACL sections">
        {TABS.map(([t, label]) => <a key={t} href={href(`${dc}/acls/${t}`)} aria-current={t === which ? 'page' : undefined}>{label}</a>)}
      </nav>
      <ErrorBox error={error} />
      {loading ? <Loading /> : null}
      {data?.length === 0 ? <Empty>None.</Empty> : null}
      {data && data.length > 0 ? (
        <table aria-label={which}>
          <thead><tr><th scope="col">{which === 'tokens' ? 'Accessor ID' : 'Name'}</th><th scope="col">Description</th><th scope="col">{which === 'policies' ? 'Datacenters' : 'Policies'}</th></tr></thead>
          <tbody>
            {data.map((x) => {
              const t = x as Token & Policy & Role
              const key = t.AccessorID ?? t.ID
              return (
                <tr key={key} data-acl={key}>
                  <td>{which === 'tokens' ? <code>{t.AccessorID}</code> : t.Name}</td>
                  <td>{t.Description}</td>
                  <td>{which === 'policies' ? (t.Datacenters ?? []).join(', ') || 'all' : [...(t.Policies ?? []), ...(t.Roles ?? [])].map((p) => p.Name).join(', ')}</td>
                </tr>
              )
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}
