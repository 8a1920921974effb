import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { parseChecklist, type Checklist } from './checklist.js'
import { DISTRIBUTIVE_LIMITS } from './limits.js'
import { ChecklistError } from './types.js'

/** Upstream's default checklist directory, used when no source is given. */
export const DEFAULT_DIRECTORY = '/etc/distributive.d/'
/** Where `-u` caches checklists; upstream's path, with a fallback in the working directory when it is not writable. */
export const DEFAULT_CACHE_DIRS = ['/var/run/distributive', './.remote-checks'] as const
/** How long a `-u` fetch may take. */
const URL_FETCH_TIMEOUT_MS = 30_000

export interface SourceOptions {
  file?: string
  /** `''` means unset, as upstream's `-d ''` (Mantl's checks pass it with `-f`). */
  directory?: string
  url?: string
  stdin?: boolean
  /** Fetch `url` even when a cached copy exists. */
  noCache?: boolean
  /** Overrides DEFAULT_CACHE_DIRS (tests). */
  cacheDir?: string
  /** Overrides process.stdin (tests, the in-agent check type). */
  stdinText?: () => Promise<string>
}

/**
 * Loads the checklists named by the options. Only one source is used, in upstream's order: file, directory, URL,
 * stdin; with none, DEFAULT_DIRECTORY. Every failure is a ChecklistError whose message names the file.
 */
export async function loadChecklists(opts: SourceOptions): Promise<Checklist[]> {
  if (opts.file) return [await loadFile(opts.file)]
  if (opts.directory) return loadDirectory(opts.directory)
  if (opts.url) return [await loadUrl(opts.url, opts)]
  if (opts.stdin) return [await loadStdin(opts)]
  return loadDirectory(DEFAULT_DIRECTORY)
}

async function readSource(file: string): Promise<string> {
  try {
    const st = await stat(file)
    if (st.isDirectory()) throw new ChecklistError(`${file}: is a directory (use -d)`)
    if (st.size > DISTRIBUTIVE_LIMITS.checklistBytesMax) throw new ChecklistError(`${file}: larger than ${DISTRIBUTIVE_LIMITS.checklistBytesMax} bytes`)
    return await readFile(file, 'utf8')
  } catch (err) {
    if (err instanceof ChecklistError) throw err
    const e = err as NodeJS.ErrnoException
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message
    throw new ChecklistError(`${file}: cannot read checklist: ${why}`)
  }
}

export async function loadFile(file: string): Promise<Checklist> {
  return parseChecklist(await readSource(file), file)
}

/** `*.yaml`, then `*.yml`, then `*.json`, each sorted by name, not descending into subdirectories (as upstream). */
export async function loadDirectory(dir: string): Promise<Checklist[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw new ChecklistError(`${dir}: cannot read checklist directory: ${e.code === 'ENOENT' ? 'no such directory' : e.message}`)
  }
  const files: string[] = []
  for (const ext of ['.yaml', '.yml', '.json']) files.push(...names.filter((n) => n.endsWith(ext)).sort())
  if (files.length === 0) throw new ChecklistError(`${dir}: no checklists (*.yaml, *.yml, *.json)`)
  const out: Checklist[] = []
  for (const f of files) out.push(await loadFile(path.join(dir, f)))
  return out
}

/** Upstream's cache file name: the URL without the characters that are unsafe in file names. */
export function cacheFileName(url: string): string {
  return url.replace(/[/?%*:|"<^>.\\\s]/g, '')
}

async function loadUrl(url: string, opts: SourceOptions): Promise<Checklist> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ChecklistError(`${url}: not a valid URL`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ChecklistError(`${url}: only http and https URLs are supported`)
  const dirs = opts.cacheDir ? [opts.cacheDir] : [...DEFAULT_CACHE_DIRS]
  const name = cacheFileName(url)
  if (!opts.noCache) {
    for (const dir of dirs) {
      const cached = await readFile(path.join(dir, name), 'utf8').catch(() => undefined)
      if (cached !== undefined) return parseChecklist(cached, url)
    }
  }
  let text: string
  try {
    const res = await fetch(parsed, { signal: AbortSignal.timeout(URL_FETCH_TIMEOUT_MS) })
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`)
    text = await res.text()
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } }
    throw new ChecklistError(`${url}: cannot fetch checklist: ${e.cause?.code ?? e.cause?.message ?? e.message}`)
  }
  const checklist = parseChecklist(text, url)
  // Cache only what parsed, so a broken download does not stick.
  for (const dir of dirs) {
    try {
      await mkdir(dir, { recursive: true })
      await writeFile(path.join(dir, name), text)
      break
    } catch {
      // Not writable: try the next directory; a run without a cache still works.
    }
  }
  return checklist
}

async function loadStdin(opts: SourceOptions): Promise<Checklist> {
  const text = opts.stdinText ? await opts.stdinText() : await readStdin()
  if (text.trim() === '') throw new ChecklistError('<stdin>: stdin was empty')
  return parseChecklist(text, '<stdin>')
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of process.stdin) {
    size += (c as Buffer).length
    if (size > DISTRIBUTIVE_LIMITS.checklistBytesMax) throw new ChecklistError(`<stdin>: larger than ${DISTRIBUTIVE_LIMITS.checklistBytesMax} bytes`)
    chunks.push(c as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}
