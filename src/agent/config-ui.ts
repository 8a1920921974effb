/**
 * The web UI's settings: `ui_config { enabled, dir, content_path }` as Consul 1.9+ has them, over
 * the older top-level `ui`, `ui_dir` and `ui_content_path` that configs still carry; on in -dev.
 */
import { ConfigError } from '../lib/errors.js'

type Doc = Record<string, unknown>

export interface UiConfig {
  enabled: boolean
  /** ui_config.dir: serve these files instead of the built-in UI. */
  dir: string | undefined
  /** ui_config.content_path: where the UI lives, with a slash at each end (default /ui/). */
  contentPath: string
}

export function uiConfig(doc: Doc, dev: boolean): UiConfig {
  const block = (typeof doc.ui_config === 'object' && doc.ui_config !== null ? doc.ui_config : {}) as Doc
  const enabled = (block.enabled as boolean | undefined) ?? (doc.ui as boolean | undefined) ?? dev
  const dir = (block.dir as string | undefined) ?? (doc.ui_dir as string | undefined)
  const key = block.content_path !== undefined ? 'ui_config.content_path' : 'ui_content_path'
  let path = (block.content_path as string | undefined) ?? (doc.ui_content_path as string | undefined) ?? '/ui/'
  // Consul adds the slashes a path lacks.
  if (!path.startsWith('/')) path = `/${path}`
  if (!path.endsWith('/')) path = `${path}/`
  if (path === '/' || path.startsWith('/v1/') || !/^\/[A-Za-z0-9._~\-/]+\/$/.test(path)) {
    throw new ConfigError('config', key, `"${path}" cannot hold the UI: it needs a path of its own, such as /ui/, outside /v1/`)
  }
  return { enabled, dir: dir || undefined, contentPath: path }
}
