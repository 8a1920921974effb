/**
 * The UI's one way to the agent: fetch with the stored token and the chosen datacenter, and
 * blocking queries that follow X-Consul-Index, so a view holds one open request and hears of a
 * change as soon as the agent does, never polling.
 */
import { useEffect, useRef, useState } from 'preact/hooks'

export interface Settings {
  datacenter: string
  nodeName: string
  aclsEnabled: boolean
  contentPath: string
}

export function readSettings(): Settings {
  const el = document.getElementById('consul-ui-settings')
  const fallback: Settings = { datacenter: 'dc1', nodeName: '', aclsEnabled: false, contentPath: '/ui/' }
  if (!el?.textContent) return fallback
  try {
    return { ...fallback, ...(JSON.parse(el.textContent) as Partial<Settings>) }
  } catch {
    return fallback
  }
}

const TOKEN_KEY = 'consul:token'

export function storedToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? ''
  } catch {
    return ''
  }
}

export function storeToken(token: string): void {
  if (token) localStorage.setItem(TOKEN_KEY, token)
  else localStorage.removeItem(TOKEN_KEY)
  window.dispatchEvent(new Event('consul-token'))
}

/** An answer other than 2xx, with the agent's own text (Consul's errors are plain text). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** X-Consul-Index of the answer (a missing KV key has one): a blocking read can wait on it. */
    readonly index = 0,
  ) {
    super(message)
  }
}

/** `/v1/...` with `params` (undefined values left out) and the datacenter as `?dc=`. */
export function apiUrl(path: string, dc: string | undefined, params: Record<string, string | number | boolean | undefined> = {}): string {
  const q = new URLSearchParams()
  if (dc) q.set('dc', dc)
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === false) continue
    q.set(k, v === true ? '' : String(v))
  }
  const s = q.toString().replace(/=(&|$)/g, '$1')
  return `/v1/${path}${s ? `?${s}` : ''}`
}

export async function api(url: string, init: RequestInit = {}, signal?: AbortSignal): Promise<Response> {
  const headers = new Headers(init.headers)
  const token = storedToken()
  if (token) headers.set('X-Consul-Token', token)
  const res = await fetch(url, { ...init, headers, signal })
  if (!res.ok) throw new ApiError(res.status, (await res.text()).trim() || res.statusText, Number(res.headers.get('X-Consul-Index') ?? 0))
  return res
}

export async function apiJson<T>(url: string, init?: RequestInit): Promise<T> {
  return (await (await api(url, init)).json()) as T
}

export interface Blocking<T> {
  data: T | undefined
  error: ApiError | Error | undefined
  loading: boolean
}

/**
 * Follows `url` with blocking queries: the first read at once, then each with `?index=` of the
 * last, answered when the data changes (or the agent's wait ends). `url` null: nothing to read.
 * `keepWhileLoading`: a new url shows the old data until its own arrives.
 * Errors retry with a growing pause; a new url or unmount aborts the open request.
 */
export function useBlocking<T>(url: string | null, opts: { keepWhileLoading?: boolean } = {}): Blocking<T> {
  const [state, setState] = useState<Blocking<T>>({ data: undefined, error: undefined, loading: url !== null })
  const [tokenGen, setTokenGen] = useState(0)
  const ranWith = useRef(-1)
  useEffect(() => {
    const bump = (): void => setTokenGen((n) => n + 1)
    window.addEventListener('consul-token', bump)
    return () => window.removeEventListener('consul-token', bump)
  }, [])
  useEffect(() => {
    // A list narrowed by a search keeps its rows until the narrower answer comes, so it does not flash
    // empty; another token's rows are never kept.
    const keep = opts.keepWhileLoading === true && ranWith.current === tokenGen
    ranWith.current = tokenGen
    setState((s) => ({ data: keep ? s.data : undefined, error: undefined, loading: url !== null }))
    if (url === null) return
    const abort = new AbortController()
    let index = 0
    let pause = 500
    const loop = async (): Promise<void> => {
      while (!abort.signal.aborted) {
        const sentAt = Date.now()
        let next = 0
        try {
          const sep = url.includes('?') ? '&' : '?'
          const res = await api(index > 0 ? `${url}${sep}index=${index}` : url, {}, abort.signal)
          next = Number(res.headers.get('X-Consul-Index') ?? 0)
          if (index === 0 || next !== index) {
            const data = (await res.json()) as T
            if (!abort.signal.aborted) setState({ data, error: undefined, loading: false })
          }
          pause = 500
        } catch (err) {
          if (abort.signal.aborted) return
          const e = err instanceof Error ? err : new Error(String(err))
          // A 404 with an index (a deleted key) blocks on it like an answer; other errors back off.
          const missing = e instanceof ApiError && e.status === 404 && e.index > 0
          setState((s) => ({ data: missing ? undefined : s.data, error: e, loading: false }))
          if (!missing) {
            await sleep(pause, abort.signal)
            pause = Math.min(pause * 2, 10_000)
            continue
          }
          next = (e as ApiError).index
        }
        // No index to wait on, or an answer at once with nothing new: the agent did not block, so pause.
        const unchanged = next === index && Date.now() - sentAt < 100
        index = next > 0 ? next : 0
        if (index === 0 || unchanged) await sleep(index === 0 ? 5000 : pause, abort.signal)
      }
    }
    void loop()
    return () => abort.abort()
  }, [url, tokenGen])
  return state
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(t)
      resolve()
    }, { once: true })
  })
}

/** One read, again when `url` or the token changes: for endpoints that do not block (members). */
export function useOnce<T>(url: string | null, refreshMs = 0): Blocking<T> {
  const [state, setState] = useState<Blocking<T>>({ data: undefined, error: undefined, loading: url !== null })
  useEffect(() => {
    if (url === null) return
    let live = true
    const read = (): void => {
      apiJson<T>(url).then(
        (data) => live && setState({ data, error: undefined, loading: false }),
        (error: Error) => live && setState((s) => ({ ...s, error, loading: false })),
      )
    }
    read()
    const t = refreshMs > 0 ? setInterval(read, refreshMs) : undefined
    return () => {
      live = false
      if (t) clearInterval(t)
    }
  }, [url, refreshMs])
  return state
}

/** A string for Consul's filter language, quoted. */
export function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}
