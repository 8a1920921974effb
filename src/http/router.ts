import type { ApiRequest } from './request.js'
import { methodNotAllowed, unknownPath } from '../lib/errors.js'

export type Handler = (req: ApiRequest) => unknown

interface Route {
  path: string
  prefix: boolean
  methods: Record<string, Handler>
}

/**
 * The route table (Consul's http_register.go): exact paths, and prefixes for endpoints that
 * take the rest of the path as an argument (`/v1/kv/`). The longest matching prefix wins.
 */
export class Router {
  readonly #exact = new Map<string, Route>()
  #prefixes: Route[] = []

  exact(path: string, methods: Record<string, Handler>): this {
    this.#exact.set(path, { path, prefix: false, methods })
    return this
  }

  prefix(path: string, methods: Record<string, Handler>): this {
    this.#prefixes.push({ path, prefix: true, methods })
    this.#prefixes.sort((a, b) => b.path.length - a.path.length)
    return this
  }

  /** Finds the handler, or throws 404 (unknown path) or 405 (known path, other method). */
  resolve(method: string, path: string): Handler {
    return this.match(method, path).handler
  }

  /** The handler and the route (its registered path) it belongs to. */
  match(method: string, path: string): { route: string; handler: Handler } {
    const route = this.#exact.get(path) ?? this.#prefixes.find((r) => path.startsWith(r.path))
    if (!route) throw unknownPath()
    const handler = route.methods[method]
    if (!handler) throw methodNotAllowed(method, Object.keys(route.methods))
    return { route: route.path, handler }
  }

  /** Every route and its methods (the route-ACL table's test walks them). */
  routes(): Array<{ path: string; methods: string[] }> {
    return [...this.#exact.values(), ...this.#prefixes].map((r) => ({ path: r.path, methods: Object.keys(r.methods) }))
  }
}
