/**
 * Pages are URLs under the content path, in Consul's UI shape (`/ui/dc1/services/web`), so a
 * page can be bookmarked and shared; links move with the History API, no reload.
 */
import { useEffect, useState } from 'preact/hooks'

let base = '/ui/'

export function setBase(contentPath: string): void {
  base = contentPath
}

export interface Route {
  /** Path segments after the content path, decoded. */
  parts: string[]
  /** The raw rest of the path (the KV browser keeps its slashes). */
  rest: string
  query: URLSearchParams
}

function current(): Route {
  const path = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : ''
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p)
    } catch {
      return p
    }
  })
  return { parts, rest: path, query: new URLSearchParams(location.search) }
}

export function href(path: string): string {
  return `${base}${path.replace(/^\//, '')}`
}

export function navigate(path: string, replace = false): void {
  const url = href(path)
  if (replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  window.dispatchEvent(new Event('consul-route'))
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current)
  useEffect(() => {
    const update = (): void => setRoute(current())
    window.addEventListener('popstate', update)
    window.addEventListener('consul-route', update)
    return () => {
      window.removeEventListener('popstate', update)
      window.removeEventListener('consul-route', update)
    }
  }, [])
  return route
}

/** A click on an in-app link moves without a reload (modified clicks open a tab as usual). */
export function onLinkClick(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
  const a = (e.target as Element | null)?.closest?.('a')
  if (!a || a.target || !a.href.startsWith(location.origin + base)) return
  e.preventDefault()
  history.pushState(null, '', a.href)
  window.dispatchEvent(new Event('consul-route'))
}

/** Encodes each segment of a path for a link, keeping its slashes. */
export function segs(...parts: string[]): string {
  return parts.map((p) => p.split('/').map(encodeURIComponent).join('/')).join('/')
}
