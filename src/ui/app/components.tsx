/** Pieces every page uses: the virtual list, status pills, the filter box, loading and errors. */
import type { ComponentChildren, JSX } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'

export type Status = 'passing' | 'warning' | 'critical'

export function StatusPill({ status, count }: { status: Status; count?: number }): JSX.Element {
  const label = { passing: 'passing', warning: 'warning', critical: 'critical' }[status]
  return (
    <span class={`pill pill-${status}`} title={count === undefined ? label : `${count} ${label}`}>
      <span class="dot" aria-hidden="true" />
      {count === undefined ? label : <><span class="sr-only">{label}: </span>{count}</>}
    </span>
  )
}

/** The worst of some checks' statuses (no checks: passing, as Consul's UI shows it). */
export function worst(statuses: Iterable<string>): Status {
  let w: Status = 'passing'
  for (const s of statuses) {
    if (s === 'critical') return 'critical'
    if (s === 'warning') w = 'warning'
  }
  return w
}

export function Loading(): JSX.Element {
  return <p class="muted" role="status">Loading…</p>
}

export function ErrorBox({ error }: { error: Error | undefined }): JSX.Element | null {
  if (!error) return null
  const status = 'status' in error ? ` (${String((error as { status: number }).status)})` : ''
  return <p class="error" role="alert">{error.message}{status}</p>
}

export function Empty({ children }: { children: ComponentChildren }): JSX.Element {
  return <p class="muted empty">{children}</p>
}

/** A text box whose value reaches `onChange` once typing pauses, so a filter asks the agent once, not per key. */
export function FilterBox({ label, value, onChange, placeholder }: { label: string; value: string; onChange: (v: string) => void; placeholder?: string }): JSX.Element {
  const [text, setText] = useState(value)
  useEffect(() => setText(value), [value])
  useEffect(() => {
    if (text === value) return
    const t = setTimeout(() => onChange(text), 40)
    return () => clearTimeout(t)
  }, [text])
  return (
    <label class="filter">
      <span class="sr-only">{label}</span>
      <input type="search" placeholder={placeholder ?? label} aria-label={label} value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
    </label>
  )
}

/**
 * Renders only the rows in view (and a few around them): 10,000 services cost as much DOM as
 * thirty. Rows have one height; the list scrolls in its own box.
 */
export function VirtualList<T>({ items, rowHeight, render, label }: { items: readonly T[]; rowHeight: number; render: (item: T, i: number) => JSX.Element; label: string }): JSX.Element {
  const box = useRef<HTMLDivElement>(null)
  const [scroll, setScroll] = useState(0)
  const [height, setHeight] = useState(600)
  useEffect(() => {
    const el = box.current
    if (!el) return
    const measure = (): void => setHeight(el.clientHeight || 600)
    measure()
    const ro = new ResizeObserver(measure)
    ro.observe(el)
    return () => ro.disconnect()
  }, [])
  const overscan = 8
  const first = Math.max(0, Math.floor(scroll / rowHeight) - overscan)
  const last = Math.min(items.length, Math.ceil((scroll + height) / rowHeight) + overscan)
  const rows: JSX.Element[] = []
  for (let i = first; i < last; i++) rows.push(render(items[i]!, i))
  return (
    <div class="vlist" ref={box} style={{ height: `min(calc(100vh - 170px), ${items.length * rowHeight + 2}px)` }} role="list" aria-label={`${label}: ${items.length}`} tabIndex={0} onScroll={(e) => setScroll((e.target as HTMLDivElement).scrollTop)}>
      <div style={{ height: `${items.length * rowHeight}px`, position: 'relative' }}>
        <div style={{ transform: `translateY(${first * rowHeight}px)` }}>{rows}</div>
      </div>
    </div>
  )
}

export function Tags({ tags }: { tags: readonly string[] }): JSX.Element | null {
  if (tags.length === 0) return null
  return <span class="tags">{tags.slice(0, 6).map((t) => <span class="tag" key={t}>{t}</span>)}{tags.length > 6 ? <span class="tag">+{tags.length - 6}</span> : null}</span>
}

export interface Check {
  Node: string
  CheckID: string
  Name: string
  Status: Status
  Notes: string
  Output: string
  ServiceID: string
  ServiceName: string
  Type: string
}

/** Checks with their output, worst first, the output folded open for the failing ones. */
export function CheckList({ checks }: { checks: readonly Check[] }): JSX.Element {
  if (checks.length === 0) return <Empty>No checks.</Empty>
  const order = { critical: 0, warning: 1, passing: 2 }
  const sorted = [...checks].sort((a, b) => order[a.Status] - order[b.Status] || a.Name.localeCompare(b.Name))
  return (
    <ul class="checks">
      {sorted.map((c) => (
        <li key={`${c.Node}/${c.CheckID}`} class={`check check-${c.Status}`} data-check={c.CheckID} data-status={c.Status}>
          <details open={c.Status !== 'passing'}>
            <summary>
              <StatusPill status={c.Status} /> <strong>{c.Name}</strong> <span class="muted">{c.CheckID}{c.Type ? ` · ${c.Type}` : ''}{c.ServiceID ? '' : ' · node check'}</span>
            </summary>
            {c.Notes ? <p class="muted">{c.Notes}</p> : null}
            <pre class="output">{c.Output || '(no output)'}</pre>
          </details>
        </li>
      ))}
    </ul>
  )
}
