/** The bridges' faces: help with examples, and bad flags named with exit 1 before anything starts. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { CONSUL_BIN, ROOT, runCli } from '../helpers/agent.js'

const MESOS = join(ROOT, 'bin', 'mesos-consul.js')
const MARATHON = join(ROOT, 'bin', 'marathon-consul.js')

test('mesos-consul and marathon-consul have --help with examples, as their own bins and under consul bridge', async () => {
  for (const [bin, args, want] of [[MESOS, ['--help'], /--zk=zk:\/\/zk1:2181/], [MARATHON, ['--help'], /--marathon-location=marathon1:8080/], [CONSUL_BIN, ['bridge', 'mesos', '-h'], /--whitelist/], [CONSUL_BIN, ['bridge', 'marathon', '--help'], /--events=callback/]] as const) {
    const r = await runCli(bin, [...args], { env: { NO_COLOR: '1' } })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /EXAMPLES/)
    assert.match(r.stdout, want)
  }
  const topic = await runCli(CONSUL_BIN, ['bridge', '--help'], { env: { NO_COLOR: '1' } })
  assert.match(topic.stdout, /mesos/)
  assert.match(topic.stdout, /marathon/)
})

test('bad flags are named, exit 1, and start nothing', async () => {
  const cases: Array<[string, string[], RegExp]> = [
    [MESOS, ['--mesos-master=127.0.0.1:5050', '--mesos-ip-order=netinfo,dns'], /mesos-consul: --mesos-ip-order: "dns" is not one of netinfo, mesos, docker, host/],
    [MESOS, ['--zk=http://zk:2181/mesos'], /mesos-consul: --zk=http:\/\/zk:2181\/mesos: want zk:\/\//],
    [MESOS, ['--mesos-master=127.0.0.1:5050', '--refresh=soon'], /mesos-consul: .*soon/],
    [MESOS, ['--mesos-master=127.0.0.1:5050', '--task-tag=web'], /--task-tag=web: want pattern:tag/],
    [MESOS, ['--mesos-master=127.0.0.1:5050', '--whitelist=(['], /--whitelist=\(\[: Invalid regular expression/],
    [MARATHON, ['--listen=nowhere'], /marathon-consul: bad address "nowhere"/],
    [MARATHON, ['--marathon-protocol=ftp'], /--marathon-protocol=ftp: want http or https/],
    [MARATHON, ['--sync-interval=0s'], /--sync-interval=0s: must be a positive duration/],
  ]
  for (const [bin, args, want] of cases) {
    const r = await runCli(bin, args)
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`)
    assert.match(r.stderr, want)
  }
})
