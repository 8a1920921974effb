import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { DockerStreamDemuxer } from '../../src/checks/docker.js'
import { runOnce, tempDir } from './helpers.js'

/**
 * A fake Docker Engine API on a unix socket. An exec "runs in the container" by running its Cmd here;
 * the start answer is the multiplexed stdout/stderr stream, written in small pieces so frame headers
 * straddle chunks.
 */
interface Exec {
  container: string
  cmd: string[]
  exitCode: number | null
}

let dir = ''
let cleanup = (): void => {}
let socketPath = ''
let server: http.Server
const execs = new Map<string, Exec>()
const created: Array<{ container: string; body: Record<string, unknown> }> = []

function frame(stream: 1 | 2, payload: Buffer): Buffer {
  const header = Buffer.alloc(8)
  header[0] = stream
  header.writeUInt32BE(payload.length, 4)
  return Buffer.concat([header, payload])
}

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  let raw = ''
  req.on('data', (c: Buffer) => (raw += c.toString()))
  req.on('end', () => {
    const url = req.url ?? ''
    let m: RegExpMatchArray | null
    if (req.method === 'POST' && (m = url.match(/^\/containers\/([^/]+)\/exec$/))) {
      const container = decodeURIComponent(m[1]!)
      if (container === 'missing') return void res.writeHead(404).end('{"message":"No such container: missing"}')
      if (container === 'paused') return void res.writeHead(409).end('{"message":"Container is paused"}')
      const body = JSON.parse(raw) as { Cmd: string[] }
      created.push({ container, body })
      const id = `exec${execs.size + 1}`
      execs.set(id, { container, cmd: body.Cmd, exitCode: null })
      return void res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ Id: id }))
    }
    if (req.method === 'POST' && (m = url.match(/^\/exec\/([^/]+)\/start$/))) {
      const exec = execs.get(m[1]!)
      if (!exec) return void res.writeHead(404).end('{"message":"No such exec instance"}')
      const run = spawnSync(exec.cmd[0]!, exec.cmd.slice(1), { encoding: 'buffer' })
      exec.exitCode = run.status ?? 137
      const stream = Buffer.concat([frame(1, run.stdout), frame(2, run.stderr)].filter((f) => f.length > 8))
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' })
      for (let i = 0; i < stream.length; i += 5) res.write(stream.subarray(i, i + 5))
      return void res.end()
    }
    if (req.method === 'GET' && (m = url.match(/^\/exec\/([^/]+)\/json$/))) {
      const exec = execs.get(m[1]!)
      if (!exec) return void res.writeHead(404).end('{"message":"No such exec instance"}')
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ExitCode: exec.exitCode, Running: false }))
    }
    res.writeHead(404).end('{"message":"page not found"}')
  })
}

before(async () => {
  ;({ dir, cleanup } = tempDir('docker'))
  socketPath = join(dir, 'docker.sock')
  server = http.createServer(handler)
  await new Promise<void>((resolve) => server.listen(socketPath, resolve))
})

after(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  cleanup()
})

test('Docker: exec in the container; exit 0 passing with stdout and stderr', async () => {
  const r = await runOnce(
    { dockerContainerId: 'web1', args: ['/bin/sh', '-c', 'echo fine; echo note >&2'] },
    { dockerSocket: socketPath },
  )
  assert.deepEqual([r.status, r.output], ['passing', 'fine\nnote\n'])
  const req = created.at(-1)!
  assert.equal(req.container, 'web1')
  assert.deepEqual(req.body, { AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, Cmd: ['/bin/sh', '-c', 'echo fine; echo note >&2'] })
})

test('Docker: exit 1 warning, other codes critical; legacy script runs through the shell', async () => {
  const warn = await runOnce({ dockerContainerId: 'web1', args: ['/bin/sh', '-c', 'echo meh; exit 1'] }, { dockerSocket: socketPath })
  assert.deepEqual([warn.status, warn.output], ['warning', 'meh\n'])
  const crit = await runOnce({ dockerContainerId: 'web1', script: 'echo bad; exit 3', shell: '/bin/sh' }, { dockerSocket: socketPath })
  assert.deepEqual([crit.status, crit.output], ['critical', 'bad\n'])
  assert.deepEqual(created.at(-1)!.body['Cmd'], ['/bin/sh', '-c', 'echo bad; exit 3'])
})

test('Docker: output beyond outputMaxSize keeps the tail with Consul\'s note', async () => {
  const r = await runOnce(
    { dockerContainerId: 'web1', args: ['/bin/sh', '-c', 'printf "%050d" 0; printf END'], outputMaxSize: 10 },
    { dockerSocket: socketPath },
  )
  assert.deepEqual([r.status, r.output], ['passing', `Captured 10 of 53 bytes\n...\n0000000END`])
})

test('Docker: unknown or paused container, and no daemon, are critical with Consul\'s texts', async () => {
  const missing = await runOnce({ dockerContainerId: 'missing', args: ['true'] }, { dockerSocket: socketPath })
  assert.deepEqual([missing.status, missing.output], ['critical', 'create exec failed for unknown container missing'])
  const paused = await runOnce({ dockerContainerId: 'paused', args: ['true'] }, { dockerSocket: socketPath })
  assert.deepEqual([paused.status, paused.output], ['critical', 'create exec failed since container paused is paused or stopped'])
  const noDaemon = await runOnce({ dockerContainerId: 'web1', args: ['true'] }, { dockerSocket: join(dir, 'absent.sock') })
  assert.equal(noDaemon.status, 'critical')
  assert.match(noDaemon.output, /^create exec failed for container web1: connect ENOENT/)
})

test('Docker stream demuxer: frames split anywhere, and raw (TTY) streams pass through', () => {
  const stream = Buffer.concat([frame(1, Buffer.from('hello ')), frame(2, Buffer.from('world')), frame(1, Buffer.alloc(0)), frame(1, Buffer.from('!'))])
  for (const size of [1, 3, 8, 9, stream.length]) {
    const parts: Buffer[] = []
    const d = new DockerStreamDemuxer((p) => parts.push(Buffer.from(p)))
    for (let i = 0; i < stream.length; i += size) d.write(stream.subarray(i, i + size))
    assert.equal(Buffer.concat(parts).toString(), 'hello world!', `chunk size ${size}`)
  }
  const parts: Buffer[] = []
  const raw = new DockerStreamDemuxer((p) => parts.push(Buffer.from(p)))
  raw.write(Buffer.from('plain tty output\n'))
  raw.write(Buffer.from('more'))
  raw.end()
  assert.equal(Buffer.concat(parts).toString(), 'plain tty output\nmore')
  const tiny: Buffer[] = []
  const short = new DockerStreamDemuxer((p) => tiny.push(Buffer.from(p)))
  short.write(Buffer.from('ok\n'))
  short.end()
  assert.equal(Buffer.concat(tiny).toString(), 'ok\n')
})
