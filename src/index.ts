/**
 * The library face of the package: the HTTP client every CLI uses (public API only, so it works against HashiCorp's
 * agent too) and the Go text/template engine (also importable alone as `consulate/template`).
 */
export { ConsulClient, optionsFromEnv, encodeKey } from './client/client.js'
export type { ClientOptions, ApiResponse, KvPair, ReadOptions, CatalogNode, CatalogServiceEntry, AgentCheck, UserEvent } from './client/client.js'
export { ApiError } from './lib/errors.js'
export { Template, TemplateError, ParseError, ExecError } from './template/index.js'
