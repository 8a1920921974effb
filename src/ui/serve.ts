/**
 * Serves the web UI beside the HTTP API: the files `npm run build` put in dist/ui (or
 * ui_config.dir's), held in memory with their gzip and brotli forms, under ui_config.content_path.
 * Any other path below it is a page of the single-page app and gets index.html, so a bookmarked
 * URL opens where it was. The API never sees these requests.
 */
import type http from 'node:http'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import { createHash } from 'node:crypto'

/** What the page is told about the agent at load (the rest it asks the API). */
export interface UiSettings {
  datacenter: string
  nodeName: string
  aclsEnabled: boolean
}

export interface UiOptions {
  contentPath: string
  /** ui_config.dir; undefined: the built-in UI. */
  dir?: string
  settings: () => UiSettings
}

interface Asset {
  body: Buffer
  gzip?: Buffer
  br?: Buffer
  type: string
  etag: string
  /** Hashed file names never change content: browsers may keep them for a year. */
  immutable: boolean
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', json: 'application/json',
  svg: 'image/svg+xml', png: 'image/png', ico: 'image/x-icon', woff2: 'font/woff2', txt: 'text/plain; charset=utf-8', map: 'application/json',
}
const COMPRESSIBLE = /^(text\/|application\/json|image\/svg)/

/** Where `npm run build` writes the built-in UI. */
export const BUILT_UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url))

/** The placeholder in index.html that the settings replace. */
const SETTINGS_MARK = '<!--consul-ui-settings-->'

function walk(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...walk(path))
    else out.push(path)
  }
  return out
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>()
  for (const file of walk(dir)) {
    const name = relative(dir, file).split(sep).join('/')
    // Precompressed forms beside a file (the build writes them) are its encodings, not files.
    if (name.endsWith('.gz') || name.endsWith('.br')) continue
    const body = readFileSync(file)
    const type = TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream'
    const asset: Asset = { body, type, etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`, immutable: /^assets\/.+-[A-Za-z0-9_-]{8,}\.\w+$/.test(name) }
    if (COMPRESSIBLE.test(type) && body.length > 512 && name !== 'index.html') {
      asset.gzip = readBeside(`${file}.gz`) ?? gzipSync(body, { level: 9 })
      asset.br = readBeside(`${file}.br`) ?? brotliCompressSync(body)
    }
    assets.set(name, asset)
  }
  return assets
}

function readBeside(path: string): Buffer | undefined {
  try {
    return readFileSync(path)
  } catch {
    return undefined
  }
}

function escapeJsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
}

export class UiServer {
  readonly #assets: Map<string, Asset>
  readonly #prefix: string
  readonly #o: UiOptions

  constructor(o: UiOptions) {
    this.#o = o
    this.#prefix = o.contentPath
    const dir = o.dir ?? BUILT_UI_DIR
    try {
      this.#assets = loadAssets(dir)
    } catch (err) {
      throw new Error(`cannot read the web UI's files in ${dir}: ${(err as Error).message}${o.dir ? '' : ' (run npm run build)'}`)
    }
    if (!this.#assets.has('index.html')) throw new Error(`the web UI's directory ${dir} has no index.html`)
  }

  /**
   * Answers `req` if it is the UI's (or `/`, which Consul sends to the UI), and says whether it did.
   * Only GET and HEAD are the UI's; anything else goes on to the API's 404 or 405.
   */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    if (path === '/' || path === this.#prefix.slice(0, -1)) {
      res.writeHead(301, { Location: this.#prefix, 'Content-Length': '0' })
      res.end()
      return true
    }
    if (!path.startsWith(this.#prefix)) return false
    let name: string
    try {
      name = decodeURIComponent(path.slice(this.#prefix.length))
    } catch {
      name = ''
    }
    const asset = this.#assets.get(name)
    if (asset && name !== 'index.html') {
      this.#send(req, res, asset)
      return true
    }
    // A missing asset is a 404; any other path is a page of the app.
    if (name.startsWith('assets/')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '10' })
      res.end('Not Found\n')
      return true
    }
    this.#sendIndex(req, res)
    return true
  }

  #send(req: http.IncomingMessage, res: http.ServerResponse, a: Asset): void {
    const headers: Record<string, string> = {
      'Content-Type': a.type,
      'Cache-Control': a.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ETag: a.etag,
      'X-Content-Type-Options': 'nosniff',
    }
    if (req.headers['if-none-match'] === a.etag) {
      res.writeHead(304, headers)
      res.end()
      return
    }
    let body = a.body
    if (a.gzip || a.br) {
      headers.Vary = 'Accept-Encoding'
      const accept = String(req.headers['accept-encoding'] ?? '')
      if (a.br && /\bbr\b/.test(accept)) {
        body = a.br
        headers['Content-Encoding'] = 'br'
      } else if (a.gzip && /\bgzip\b/.test(accept)) {
        body = a.gzip
        headers['Content-Encoding'] = 'gzip'
      }
    }
    headers['Content-Length'] = String(body.length)
    res.writeHead(200, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  /** index.html with the content path as its base and the agent's settings in a JSON script (never executed, so no CSP hole). */
  #sendIndex(req: http.IncomingMessage, res: http.ServerResponse): void {
    const html = this.#assets.get('index.html')!.body.toString('utf8')
    const settings = { ...this.#o.settings(), contentPath: this.#prefix }
    const body = Buffer.from(
      html.replace('<base href="/ui/">', `<base href="${this.#prefix}">`).replace(SETTINGS_MARK, `<script id="consul-ui-settings" type="application/json">${escapeJsonForHtml(settings)}</script>`),
    )
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': String(body.length),
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'SAMEORIGIN',
      'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'",
    })
    res.end(req.method === 'HEAD' ? undefined : body)
  }
}
