import http from 'node:http'
import type { Host } from '../host.js'
import { DISTRIBUTIVE_LIMITS } from '../limits.js'
import { parseRegex } from '../params.js'
import { CannotRunError, mismatch, pass, ParamError, type CheckDef } from '../types.js'

/** Engine API version asked for: 1.24 is understood by every Docker since 1.12 and still served by current engines. */
const DOCKER_API_VERSION = 'v1.24'

interface Container {
  Image: string
  Status: string
  State?: string
  Names?: string[]
}

interface Image {
  RepoTags: string[] | null
}

/** `unix:///var/run/docker.sock` or a bare socket path → the socket path under the host root. */
function socketPath(host: Host, endpoint: string): string {
  const p = endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : endpoint
  if (!p.startsWith('/')) throw new CannotRunError(`only unix-socket Docker endpoints are supported: ${endpoint}`)
  return host.path(p)
}

/**
 * GET from the Docker Engine API on its unix socket. An absent or refusing socket means no Docker here: UNKNOWN.
 * Talking to the API rather than the `docker` CLI means no `sudo docker` fallback and no CLI that hangs for ever.
 */
export function dockerGet<T>(host: Host, endpoint: string, apiPath: string, signal: AbortSignal): Promise<T> {
  return host.memo(`docker ${endpoint} ${apiPath}`, () => dockerFetch<T>(host, endpoint, apiPath, signal))
}

function dockerFetch<T>(host: Host, endpoint: string, apiPath: string, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: socketPath(host, endpoint), path: `/${DOCKER_API_VERSION}${apiPath}`, signal }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        if (body.length < DISTRIBUTIVE_LIMITS.httpBodyBytesMax) body += c
      })
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new CannotRunError(`Docker API ${apiPath}: HTTP ${res.statusCode}: ${body.trim().slice(0, 200)}`))
        try {
          resolve(JSON.parse(body) as T)
        } catch {
          reject(new CannotRunError(`Docker API ${apiPath}: response is not JSON`))
        }
      })
    })
    req.on('error', (err: NodeJS.ErrnoException) => reject(new CannotRunError(`Docker is not available at ${endpoint}: ${err.code ?? err.message}`)))
  })
}

/** Repository names ("REPOSITORY" of `docker images`): each tag with its `:tag` cut off (not a registry's `:port`). */
function repositories(images: Image[]): string[] {
  const out = new Set<string>()
  for (const img of images) for (const tag of img.RepoTags ?? []) out.add(tag.replace(/:[^:/]+$/, ''))
  return [...out]
}

function running(containers: Container[]): Container[] {
  return containers.filter((c) => (c.State ? c.State === 'running' : c.Status.startsWith('Up')))
}

export const dockerChecks: CheckDef[] = [
  {
    names: ['dockerImage'],
    params: 1,
    summary: 'an image with this repository name is present',
    parse: ([name]) => {
      if (!name) throw new ParamError('empty image name')
      return async (host, signal) => {
        const repos = repositories(await dockerGet<Image[]>(host, host.dockerHost, '/images/json', signal))
        return repos.includes(name) ? pass() : mismatch('Docker image was not found', name, repos, DISTRIBUTIVE_LIMITS.actualItemsMax)
      }
    },
  },
  {
    names: ['dockerImageRegexp'],
    params: 1,
    summary: 'an image repository matches the regex (upstream v0.3 ran dockerRunningRegexp here)',
    parse: ([pattern]) => {
      const re = parseRegex(pattern!)
      return async (host, signal) => {
        const repos = repositories(await dockerGet<Image[]>(host, host.dockerHost, '/images/json', signal))
        return repos.some((r) => re.test(r)) ? pass() : mismatch('Docker image was not found', pattern!, repos, DISTRIBUTIVE_LIMITS.actualItemsMax)
      }
    },
  },
  {
    names: ['dockerRunning'],
    params: 1,
    summary: 'a running container’s image name contains the string',
    parse: ([name]) => {
      if (!name) throw new ParamError('empty image name')
      return async (host, signal) => {
        const up = running(await dockerGet<Container[]>(host, host.dockerHost, '/containers/json?all=1', signal))
        return up.some((c) => c.Image.includes(name)) ? pass() : mismatch('Docker container not running', name, up.map((c) => c.Image), DISTRIBUTIVE_LIMITS.actualItemsMax)
      }
    },
  },
  {
    names: ['dockerRunningRegexp'],
    params: 1,
    summary: 'a running container’s image name matches the regex',
    parse: ([pattern]) => {
      const re = parseRegex(pattern!)
      return async (host, signal) => {
        const up = running(await dockerGet<Container[]>(host, host.dockerHost, '/containers/json?all=1', signal))
        return up.some((c) => re.test(c.Image)) ? pass() : mismatch('Docker container not running', pattern!, up.map((c) => c.Image), DISTRIBUTIVE_LIMITS.actualItemsMax)
      }
    },
  },
  {
    names: ['dockerRunningAPI'],
    params: 2,
    summary: 'through the given API socket (`unix:///var/run/docker.sock` or a path), a running container’s image contains the name',
    parse: ([endpoint, name]) => {
      if (!endpoint || !(endpoint.startsWith('unix://') || endpoint.startsWith('/'))) throw new ParamError(`bad Docker endpoint ${JSON.stringify(endpoint)} (unix:///var/run/docker.sock or a socket path)`)
      if (!name) throw new ParamError('empty image name')
      return async (host, signal) => {
        const up = running(await dockerGet<Container[]>(host, endpoint, '/containers/json', signal))
        return up.some((c) => c.Image.includes(name)) ? pass() : mismatch('Docker container not running', name, up.map((c) => c.Image), DISTRIBUTIVE_LIMITS.actualItemsMax)
      }
    },
  },
]
