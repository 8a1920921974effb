import { readFile } from 'node:fs/promises'
import net from 'node:net'
import type { Host } from '../host.js'
import { DISTRIBUTIVE_LIMITS } from '../limits.js'
import { parseDuration, parseHostPort } from '../params.js'
import { fail, pass, ParamError, type CheckDef } from '../types.js'

/** ZooKeeper's default client port, used when zoo.cfg has no clientPort. */
const ZK_CLIENT_PORT_DEFAULT = 2181

/** Sends a four-letter word and reads the answer until the server closes the connection. */
export function fourLetterWord(host: Host, server: { host: string; port: number }, word: string, timeoutMs: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: server.host, port: server.port, lookup: host.lookup, signal })
    let answer = ''
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error(`no answer to ${word} within ${timeoutMs} ms`))
    }, timeoutMs)
    sock.setEncoding('utf8')
    sock.on('connect', () => sock.end(word))
    sock.on('data', (c: string) => {
      if (answer.length < DISTRIBUTIVE_LIMITS.zkAnswerBytesMax) answer += c
    })
    sock.on('end', () => {
      clearTimeout(timer)
      resolve(answer)
    })
    sock.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}

function serverList(params: readonly string[]): { host: string; port: number }[] {
  return params.map((s) => (/:\d+$/.test(s) ? parseHostPort(s) : { host: s, port: ZK_CLIENT_PORT_DEFAULT }))
}

/** A latency threshold: milliseconds as ZooKeeper prints them (`10`, `0.5`) or a Go duration (`10ms`). */
function parseLatency(s: string): number {
  return /^\d+(\.\d+)?$/.test(s.trim()) ? Number(s) : parseDuration(s)
}

interface ZkServer {
  id: string
  host: string
  port: number
}

/**
 * The ensemble from zoo.cfg: `server.N=host:peerPort:electionPort[:role][;[clientAddr:]clientPort]`. Four-letter
 * words go to each server's *client* port (upstream v0.3 sent them to the peer port, where nobody answers).
 */
export function parseZooCfg(text: string): ZkServer[] {
  const clientPort = Number(/^\s*clientPort\s*=\s*(\d+)/m.exec(text)?.[1] ?? ZK_CLIENT_PORT_DEFAULT)
  const servers: ZkServer[] = []
  for (const m of text.matchAll(/^\s*server\.(\d+)\s*=\s*([^:\s;]+):\d+:\d+(?::\w+)?(?:;(?:[^:\s]*:)?(\d+))?\s*$/gm)) {
    servers.push({ id: m[1]!, host: m[2]!, port: m[3] ? Number(m[3]) : clientPort })
  }
  return servers
}

/**
 * Sends `word` to every server at once; what `judge` says of an answer, or the error of a server
 * that did not answer (upstream dereferenced nil there), is one line of the report.
 */
async function askEach(
  host: Host,
  servers: ReadonlyArray<{ host: string; port: number }>,
  word: string,
  timeoutMs: number,
  signal: AbortSignal,
  judge: (server: { host: string; port: number }, answer: string) => string | undefined,
): Promise<string[]> {
  const bad: string[] = []
  await Promise.all(
    servers.map(async (s) => {
      try {
        const complaint = judge(s, await fourLetterWord(host, s, word, timeoutMs, signal))
        if (complaint) bad.push(complaint)
      } catch (err) {
        bad.push(`${s.host}:${s.port}: ${(err as Error).message}`)
      }
    }),
  )
  return bad
}

export const zookeeperChecks: CheckDef[] = [
  {
    names: ['ZooKeeperRUOK'],
    params: [2, Infinity],
    summary: 'every server (host[:port]) answers ruok with imok within the timeout',
    parse: ([timeout, ...servers]) => {
      const ms = parseDuration(timeout!)
      const list = serverList(servers)
      return async (host, signal) => {
        const bad = await askEach(host, list, 'ruok', ms, signal, (s, a) => (a.trim() === 'imok' ? undefined : `${s.host}:${s.port} answered ${JSON.stringify(a.trim())}`))
        return bad.length === 0 ? pass() : fail(`ZooKeeper servers not ok:\n\t${bad.join('\n\t')}`)
      }
    },
  },
  {
    // Upstream v0.3 registered this as ServerStats (its type is ZooKeeperServerStats); both names work.
    names: ['ZooKeeperServerStats', 'ServerStats'],
    params: [5, Infinity],
    summary: 'every server’s srvr latency min/avg/max is at most the thresholds (ms)',
    parse: ([timeout, min, avg, max, ...servers]) => {
      const ms = parseDuration(timeout!)
      const limits = [parseLatency(min!), parseLatency(avg!), parseLatency(max!)]
      const list = serverList(servers)
      return async (host, signal) => {
        const bad = await askEach(host, list, 'srvr', ms, signal, (s, a) => {
          const m = /Latency min\/avg\/max:\s*([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(a)
          if (!m) return `${s.host}:${s.port}: no latency in srvr answer`
          const got = [Number(m[1]), Number(m[2]), Number(m[3])]
          return got.some((v, i) => v > limits[i]!) ? `${s.host}:${s.port}: latency min/avg/max ${got.join('/')} above ${limits.join('/')}` : undefined
        })
        return bad.length === 0 ? pass() : fail(`ZooKeeper server stats out of bounds:\n\t${bad.join('\n\t')}`)
      }
    },
  },
  {
    names: ['ZooKeeperQuorum'],
    params: 2,
    summary: 'the ensemble in zoo.cfg has exactly one leader and a majority answering',
    parse: ([timeout, cfg]) => {
      const ms = parseDuration(timeout!)
      if (!cfg) throw new ParamError('empty zoo.cfg path')
      return async (host, signal) => {
        let servers: ZkServer[]
        try {
          servers = parseZooCfg(await readFile(host.path(cfg), 'utf8'))
        } catch (err) {
          return fail(`Cannot read ZooKeeper config ${cfg}: ${(err as Error).message}`)
        }
        if (servers.length === 0) return fail(`No server.N entries in ${cfg}`)
        const modes = await Promise.all(
          servers.map(async (s) => {
            try {
              return /^Mode:\s*(\w+)/m.exec(await fourLetterWord(host, s, 'srvr', ms, signal))?.[1] ?? 'unknown'
            } catch (err) {
              return `down (${(err as Error).message})`
            }
          }),
        )
        const leaders = modes.filter((m) => m === 'leader').length
        const up = modes.filter((m) => m === 'leader' || m === 'follower' || m === 'observer').length
        const report = servers.map((s, i) => `server.${s.id} ${s.host}:${s.port}: ${modes[i]}`).join('\n\t')
        if (leaders === 1 && up > servers.length / 2) return pass()
        return fail(`ZooKeeper quorum not healthy (${leaders} leader(s), ${up} of ${servers.length} answering):\n\t${report}`)
      }
    },
  },
]
