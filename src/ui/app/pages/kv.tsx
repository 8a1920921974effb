/**
 * The KV browser and editor. Folders list with `?keys&separator=/`; a key's editor saves with
 * `?cas=` the index it was opened at, so two editors never overwrite each other silently: the
 * second is told, and chooses to load the other's value or overwrite it knowingly.
 */
import type { JSX } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { api, apiUrl, ApiError, useBlocking } from '../api.js'
import { Empty, ErrorBox, Loading } from '../components.js'
import { href, navigate, segs } from '../router.js'

interface KvPair {
  Key: string
  Value: string | null
  Flags: number
  ModifyIndex: number
  CreateIndex: number
  LockIndex: number
  Session?: string
}

export function bytesFromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export function base64FromBytes(bytes: Uint8Array): string {
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

function Crumbs({ dc, path }: { dc: string; path: string }): JSX.Element {
  const parts = path.split('/').filter(Boolean)
  return (
    <nav class="crumbs" aria-label="Breadcrumb">
      <a href={href(`${dc}/kv/`)}>Key / Value</a>
      {parts.slice(0, -1).map((p, i) => <span key={i}> / <a href={href(`${dc}/kv/${segs(parts.slice(0, i + 1).join('/'))}/`)}>{p}</a></span>)}
      {' / '}
    </nav>
  )
}

/** `rest`: the path after /kv/: a folder ends with '/', a key ends with '/edit', a new key in a folder with '/create'. */
export function KvPage({ dc, rest }: { dc: string; rest: string }): JSX.Element {
  if (rest.endsWith('/edit')) return <KvEditor dc={dc} keyName={rest.slice(0, -'/edit'.length)} />
  if (rest === 'create' || rest.endsWith('/create')) return <KvEditor dc={dc} folder={rest.slice(0, -'create'.length)} />
  return <KvFolder dc={dc} prefix={rest} />
}

function KvFolder({ dc, prefix }: { dc: string; prefix: string }): JSX.Element {
  const { data, error, loading } = useBlocking<string[]>(apiUrl(`kv/${segs(prefix)}`, dc, { keys: true, separator: '/' }))
  const missing = error instanceof ApiError && error.status === 404
  const [failure, setFailure] = useState<Error | undefined>()
  const children = (data ?? []).filter((k) => k !== prefix)
  const removeFolder = async (): Promise<void> => {
    if (!confirm(`Delete ${prefix} and every key under it?`)) return
    try {
      await api(apiUrl(`kv/${segs(prefix)}`, dc, { recurse: true }), { method: 'DELETE' })
      const up = prefix.split('/').filter(Boolean).slice(0, -1).join('/')
      navigate(`${dc}/kv/${up ? `${segs(up)}/` : ''}`)
    } catch (err) {
      setFailure(err as Error)
    }
  }
  return (
    <section aria-labelledby="page-title">
      {prefix ? <Crumbs dc={dc} path={prefix} /> : null}
      <header class="page-head">
        <h1 id="page-title">{prefix ? prefix.split('/').filter(Boolean).pop() : 'Key / Value'}</h1>
        <div class="toolbar">
          <a class="button primary" href={href(`${dc}/kv/${segs(prefix)}create`)}>Create</a>
          {prefix ? <button type="button" class="danger" onClick={() => void removeFolder()}>Delete folder</button> : null}
        </div>
      </header>
      <ErrorBox error={missing ? undefined : error} />
      <ErrorBox error={failure} />
      {loading && !data ? <Loading /> : null}
      {missing || (data && children.length === 0) ? <Empty>No keys here yet.</Empty> : null}
      {children.length > 0 ? (
        <ul class="plain kv-list" aria-label="Keys">
          {children.map((k) => {
            const name = k.slice(prefix.length)
            const folder = k.endsWith('/')
            return (
              <li key={k} data-key={k}>
                <a href={href(`${dc}/kv/${segs(k)}${folder ? '' : '/edit'}`)}>{folder ? '📁 ' : ''}{name}</a>
              </li>
            )
          })}
        </ul>
      ) : null}
    </section>
  )
}

type View = 'text' | 'json' | 'base64'

function decode(value: string | null, view: View): string {
  if (!value) return ''
  if (view === 'base64') return value
  const text = new TextDecoder().decode(bytesFromBase64(value))
  if (view === 'json') {
    try {
      return JSON.stringify(JSON.parse(text), null, 2)
    } catch {
      return text
    }
  }
  return text
}

function encode(text: string, view: View): Uint8Array<ArrayBuffer> {
  if (view === 'base64') return bytesFromBase64(text.replace(/\s+/g, ''))
  if (view === 'json') JSON.parse(text)
  return new TextEncoder().encode(text)
}

function KvEditor({ dc, keyName, folder }: { dc: string; keyName?: string; folder?: string }): JSX.Element {
  const creating = keyName === undefined
  const live = useBlocking<KvPair[]>(creating ? null : apiUrl(`kv/${segs(keyName)}`, dc))
  const current = live.data?.[0]
  const [opened, setOpened] = useState<KvPair | undefined>()
  const [view, setView] = useState<View>('text')
  const [text, setText] = useState('')
  const [flags, setFlags] = useState('0')
  const [newName, setNewName] = useState('')
  const [problem, setProblem] = useState<string | undefined>()
  const [saved, setSaved] = useState(false)
  // After a save, the first version past the one saved over is ours: the editor follows it.
  const [savedOver, setSavedOver] = useState<number | undefined>()
  // What the editor holds is the value as it was opened; a later change elsewhere is announced, not poured in.
  useEffect(() => {
    if (!current) return
    if (!opened) load(current)
    else if (savedOver !== undefined && current.ModifyIndex > savedOver) {
      load(current)
      setSavedOver(undefined)
    }
  }, [current, savedOver])
  const load = (p: KvPair): void => {
    setOpened(p)
    setText(decode(p.Value, view))
    setFlags(String(p.Flags))
    setProblem(undefined)
  }
  const switchView = (next: View): void => {
    try {
      const bytes = encode(text, view)
      setText(decode(base64FromBytes(bytes), next))
      setView(next)
      setProblem(undefined)
    } catch (err) {
      setProblem(`cannot show as ${next}: ${(err as Error).message}`)
    }
  }
  const save = async (overwrite = false): Promise<void> => {
    setSaved(false)
    const name = creating ? `${folder ?? ''}${newName}` : keyName
    if (!name) return setProblem('a key needs a name')
    let body: Uint8Array<ArrayBuffer>
    try {
      body = encode(text, view)
    } catch (err) {
      return setProblem(view === 'json' ? `not valid JSON: ${(err as Error).message}` : `not valid base64: ${(err as Error).message}`)
    }
    if (!/^\d+$/.test(flags)) return setProblem('flags must be a whole number')
    const cas = overwrite ? current?.ModifyIndex ?? 0 : creating ? 0 : opened?.ModifyIndex ?? 0
    try {
      const res = await api(apiUrl(`kv/${segs(name)}`, dc, { flags, cas }), { method: 'PUT', body })
      if ((await res.text()).trim() !== 'true') {
        return setProblem(creating ? `${name} already exists: open it to edit it.` : 'Someone else changed this key since you opened it. Load their value, or overwrite it with yours.')
      }
      setProblem(undefined)
      setSaved(true)
      // A name ending in '/' made a folder: open it; a key opens in its editor.
      if (creating) navigate(name.endsWith('/') ? `${dc}/kv/${segs(name)}` : `${dc}/kv/${segs(name)}/edit`)
      else setSavedOver(cas)
    } catch (err) {
      setProblem((err as Error).message)
    }
  }
  const remove = async (): Promise<void> => {
    if (!keyName || !confirm(`Delete ${keyName}?`)) return
    try {
      const res = await api(apiUrl(`kv/${segs(keyName)}`, dc, { cas: opened?.ModifyIndex ?? 0 }), { method: 'DELETE' })
      if ((await res.text()).trim() !== 'true') return setProblem('Someone else changed this key since you opened it; it was not deleted.')
      const up = keyName.split('/').slice(0, -1).join('/')
      navigate(`${dc}/kv/${up ? `${segs(up)}/` : ''}`)
    } catch (err) {
      setProblem((err as Error).message)
    }
  }
  const gone = !creating && live.error instanceof ApiError && live.error.status === 404
  const changed = !creating && savedOver === undefined && opened && current && current.ModifyIndex !== opened.ModifyIndex
  return (
    <section aria-labelledby="page-title">
      <Crumbs dc={dc} path={creating ? `${folder ?? ''}x` : keyName!} />
      <header class="page-head"><h1 id="page-title">{creating ? 'Create a key' : keyName}</h1></header>
      {!creating && live.loading && !current ? <Loading /> : null}
      <ErrorBox error={gone ? undefined : live.error} />
      {gone ? <p class="notice" role="status">This key does not exist (any more). Saving creates it.</p> : null}
      {changed ? (
        <p class="notice" role="status">
          Changed elsewhere since you opened it (index {opened!.ModifyIndex} → {current!.ModifyIndex}).{' '}
          <button type="button" onClick={() => load(current!)}>Load their value</button>
        </p>
      ) : null}
      <form class="editor" onSubmit={(e) => { e.preventDefault(); void save() }}>
        {creating ? (
          <label>Key name <span class="muted">(in {folder || '/'}; a name ending in / makes a folder)</span>
            <input name="key" required value={newName} onInput={(e) => setNewName((e.target as HTMLInputElement).value)} />
          </label>
        ) : null}
        <div class="views" role="radiogroup" aria-label="Show the value as">
          {(['text', 'json', 'base64'] as const).map((v) => (
            <label key={v}><input type="radio" name="view" value={v} checked={view === v} onChange={() => switchView(v)} /> {v === 'text' ? 'Text' : v === 'json' ? 'JSON' : 'Base64'}</label>
          ))}
        </div>
        <label>Value<textarea name="value" rows={12} spellcheck={false} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} /></label>
        <label>Flags <input name="flags" inputMode="numeric" value={flags} onInput={(e) => setFlags((e.target as HTMLInputElement).value)} /></label>
        {current?.Session ? <p class="muted">Locked by session <a href={href(`${dc}/sessions`)}>{current.Session}</a> (lock index {current.LockIndex})</p> : null}
        {problem ? <p class="error" role="alert">{problem}</p> : null}
        {saved ? <p class="ok" role="status">Saved.</p> : null}
        <div class="toolbar">
          <button type="submit" class="primary">Save</button>
          {changed || problem?.startsWith('Someone else') ? <button type="button" class="danger" onClick={() => void save(true)}>Overwrite theirs</button> : null}
          {!creating && !gone ? <button type="button" class="danger" onClick={() => void remove()}>Delete</button> : null}
        </div>
      </form>
    </section>
  )
}
