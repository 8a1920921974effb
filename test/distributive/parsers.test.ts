/** Table tests for the small parsers behind the checks, on upstream's fixture and on the formats tools print today. */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { parseSensors } from '../../src/distributive/checks/misc.js'
import { parseTable } from '../../src/distributive/checks/systemd.js'
import { parseZooCfg } from '../../src/distributive/checks/zookeeper.js'
import { permString } from '../../src/distributive/checks/filesystem.js'
import { FIXTURES } from './world.js'

test('zoo.cfg: upstream’s fixture asks each server on clientPort, not the peer port', async () => {
  const servers = parseZooCfg(await readFile(path.join(FIXTURES, 'fixtures/zoo_test.cfg'), 'utf8'))
  assert.deepEqual(servers, [
    { id: '1', host: 'avnik-london-control-01', port: 2181 },
    { id: '2', host: 'avnik-london-control-02', port: 2181 },
    { id: '3', host: 'avnik-london-control-03', port: 2181 },
  ])
})

test('zoo.cfg: ZooKeeper 3.5 per-server client ports and roles', () => {
  const cfg = 'clientPort=2181\nserver.1=zk1:2888:3888;2191\nserver.2=zk2:2888:3888:participant;0.0.0.0:2192\nserver.3=zk3:2888:3888:observer\n'
  assert.deepEqual(parseZooCfg(cfg).map((s) => `${s.host}:${s.port}`), ['zk1:2191', 'zk2:2192', 'zk3:2181'])
})

test('systemctl tables split by header columns, values with spaces intact, legend dropped', () => {
  const rows = parseTable('LISTEN            UNIT             ACTIVATES\nkobject-uevent 1  udev-k.socket    udev.service\n/run/a.sock       a.socket         a.service\n\n2 sockets listed.\n')
  assert.deepEqual(rows.map((r) => [r.get('LISTEN'), r.get('UNIT')]), [['kobject-uevent 1', 'udev-k.socket'], ['/run/a.sock', 'a.socket']])
})

test('sensors: core, package and AMD Tctl readings', () => {
  assert.deepEqual(parseSensors('Package id 0:  +52.0°C  (high = +80.0°C)\nCore 0:        +50.0°C\nfan1: 1200 RPM\n'), [52, 50])
  assert.deepEqual(parseSensors('k10temp-pci-00c3\nTctl:         +61.8°C\n'), [61.8])
  assert.deepEqual(parseSensors('acpitz-acpi-0\ntemp1:        +27.8°C\n'), [27.8])
})

test('permissions read as Go’s FileMode.Perm().String()', () => {
  assert.equal(permString(0o100644), '-rw-r--r--')
  assert.equal(permString(0o40755), '-rwxr-xr-x')
  assert.equal(permString(0o104711), '-rwx--x--x') // setuid is not shown
})
