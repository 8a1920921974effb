/**
 * mesos-consul finds the leading master through a real ZooKeeper (Debian's `zookeeper` package,
 * started standalone on loopback): two fake masters hold ephemeral `json.info_` znodes as Mesos
 * masters do, the lowest sequence leads, and when the leader's session ends the other one leads
 * and leader.mesos.service.consul follows. A ZooKeeper that stops answering skips polls and
 * deregisters nothing. Skipped where the package is not installed (.ci/run installs it).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import { ZkSession } from '../../src/bridges/mesos/zk.js'
import { FakeMesosMaster, mesosTask } from './fakes.js'
import { catalogOf, removeDir, startBridge, tempDir, type RunningBridge } from './helpers.js'

const ZK_SERVER = '/usr/share/zookeeper/bin/zkServer.sh'
const skip = existsSync(ZK_SERVER) ? false : `Debian's zookeeper is not installed (${ZK_SERVER})`

let dir = ''
let zk: ChildProcess | undefined
let zkOut = ''
const zkPort = 21000 + Math.floor(Math.random() * 9000)
let agent: RunningAgent
let bridge: RunningBridge
const masters: FakeMesosMaster[] = []
const sessions: ZkSession[] = []
const HTTP_PORT = 30000 + Math.floor(Math.random() * 9000)

async function startZk(): Promise<void> {
  zk = spawn(ZK_SERVER, ['start-foreground', join(dir, 'zoo.cfg')], { env: { ...process.env, ZOO_LOG_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] })
  zk.stdout!.on('data', (d: Buffer) => (zkOut += d.toString()))
  zk.stderr!.on('data', (d: Buffer) => (zkOut += d.toString()))
  await until('ZooKeeper answers', async () => {
    if (zk!.exitCode !== null) throw new Error(`ZooKeeper exited ${zk!.exitCode}:\n${zkOut}`)
    const s = await ZkSession.connect({ host: '127.0.0.1', port: zkPort }, 1000).catch(() => undefined)
    await s?.close()
    return s ? true : undefined
  })
}

/** A master as Mesos registers one: an ephemeral sequential json.info_ znode holding its MasterInfo. */
async function registerMaster(m: FakeMesosMaster): Promise<ZkSession> {
  const s = await ZkSession.connect({ host: '127.0.0.1', port: zkPort }, 5000)
  s.keepAlive(500)
  await s.create('/mesos/json.info_', Buffer.from(JSON.stringify({ address: { hostname: 'localhost', ip: m.host, port: m.port }, hostname: 'localhost', id: `m-${m.port}`, pid: `master@${m.address}`, port: m.port, version: '1.11.0' })), 3)
  sessions.push(s)
  return s
}

before(async () => {
  if (skip) return
  dir = tempDir('zk-')
  mkdirSync(join(dir, 'data'))
  writeFileSync(join(dir, 'zoo.cfg'), `tickTime=500\ndataDir=${join(dir, 'data')}\nclientPort=${zkPort}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n`)
  await startZk()
  const setup = await ZkSession.connect({ host: '127.0.0.1', port: zkPort }, 5000)
  await setup.create('/mesos', Buffer.alloc(0), 0)
  await setup.close()
  agent = await startAgent({ dev: true, args: [`-http-port=${HTTP_PORT}`] })
  for (let i = 0; i < 2; i++) masters.push(await new FakeMesosMaster('127.0.0.1').listen())
  for (const m of masters) {
    m.state = { slaves: [{ id: 'S1', pid: 'slave(1)@127.0.0.1:5051' }], frameworks: [{ name: 'marathon', tasks: [mesosTask('web.1', 'web', 'S1', [31001])] }] }
    await registerMaster(m)
  }
  bridge = startBridge('mesos', [`--zk=zk://127.0.0.1:${zkPort}/mesos`, `--consul-port=${HTTP_PORT}`, '--refresh=300ms', '--mesos-ip-order=host', '--healthcheck', '--healthcheck-port=0', '--log-level=INFO'])
})

after(async () => {
  await bridge?.stop()
  for (const s of sessions) await s.close()
  for (const m of masters) await m.close()
  await agent?.stop()
  zk?.kill('SIGKILL')
  if (dir) removeDir(dir)
})

describe('mesos-consul with ZooKeeper', { skip }, () => {
  const leaderPort = async (): Promise<number | undefined> => {
    const l = (await catalogOf(agent.httpAddr, 'mesos')).find((c) => c.includes('leader'))
    return l ? Number(/:(\d+) \[/.exec(l)![1]) : undefined
  }

  test('the lowest json.info_ sequence leads; tasks are registered from its state', async () => {
    assert.equal(await until('a leader registered', leaderPort), masters[0]!.port)
    assert.equal((await catalogOf(agent.httpAddr, 'web')).length, 1)
    assert.equal((await catalogOf(agent.httpAddr, 'mesos')).filter((c) => c.includes('master')).length, 2)
  })

  test('when the leader\'s session ends, the next master leads', async () => {
    await sessions[0]!.close()
    assert.equal(await until('the second master leads', async () => ((await leaderPort()) === masters[1]!.port ? masters[1]!.port : undefined)), masters[1]!.port)
  })

  test('a ZooKeeper that is gone skips polls and deregisters nothing', async () => {
    const before = await catalogOf(agent.httpAddr, 'web')
    zk!.kill('SIGKILL')
    const failed = await bridge.metric('mesos_consul_poll_failed')
    await until('two polls failed', async () => ((await bridge.metric('mesos_consul_poll_failed')) >= failed + 2 ? true : undefined))
    assert.deepEqual(await catalogOf(agent.httpAddr, 'web'), before)
    assert.match(bridge.output(), /no ZooKeeper server answered \(127\.0\.0\.1:\d+: /)
  })
})
