import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { parseChecklist } from '../../src/distributive/checklist.js'
import { cacheFileName, loadChecklists } from '../../src/distributive/sources.js'
import { parseRegex, parseSize } from '../../src/distributive/params.js'
import { ChecklistError } from '../../src/distributive/types.js'
import { distributiveArgv } from '../../src/distributive/argv.js'

function rejects(text: string, source: string, message: RegExp): void {
  assert.throws(() => parseChecklist(text, source), (err: unknown) => {
    assert.ok(err instanceof ChecklistError, `not a ChecklistError: ${String(err)}`)
    assert.match(err.message, message)
    assert.ok(err.message.startsWith(source), `message names the source: ${err.message}`)
    return true
  })
}

describe('the three checklist formats', () => {
  test('v0.1–v0.2.1 JSON with the Check key', () => {
    const list = parseChecklist('{"Name":"n","Notes":"x","Checklist":[{"Name":"a","Check":"file","Parameters":["/etc/passwd"]}]}', 'a.json')
    assert.equal(list.name, 'n')
    assert.deepEqual(list.checks.map((c) => [c.position, c.id, c.name, c.parameters]), [[1, 'file', 'a', ['/etc/passwd']]])
  })

  test('v0.2.2–v0.2.5 JSON with the ID key', () => {
    const list = parseChecklist('{"Name":"n","Checklist":[{"ID":"directory","Parameters":["/"]},{"ID":"DIRECTORY","Parameters":["/tmp"]}]}', 'b.json')
    assert.deepEqual(list.checks.map((c) => c.id), ['directory', 'DIRECTORY'])
  })

  test('v0.3 YAML with id and parameters; numbers stay as written', () => {
    const yaml = '---\nname: Y\nChecklist:\n  - id: permissions\n    parameters: [/tmp/x, -rw-r--r--]\n  - name: ignored\n    id: diskUsage\n    parameters:\n      - /\n      - 90\n  - id: file\n    parameters: [0644]\n'
    const list = parseChecklist(yaml, 'c.yml')
    assert.equal(list.name, 'Y')
    assert.deepEqual(list.checks.map((c) => c.parameters), [['/tmp/x', '-rw-r--r--'], ['/', '90'], ['0644']])
  })

  test('keys are compared without regard to case; JSON numbers and booleans become strings', () => {
    const list = parseChecklist('{"NAME":"n","checkLIST":[{"id":"userHasUID","PARAMETERS":["root",0]},{"Id":"kernelParameter","parameters":["kernel.x",true]}]}', 'd.json')
    assert.deepEqual(list.checks.map((c) => c.parameters), [['root', '0'], ['kernel.x', 'true']])
  })

  test('a missing Parameters key is an empty list (and so a count error for most checks)', () => {
    rejects('{"Checklist":[{"ID":"file"}]}', 'e.json', /check #1 \(file\): expected 1 parameter, got 0/)
  })

  test('severity: warning is accepted per check', () => {
    const list = parseChecklist('{"Checklist":[{"ID":"file","Parameters":["/x"],"Severity":"Warning"},{"ID":"file","Parameters":["/y"]}]}', 'f.json')
    assert.deepEqual(list.checks.map((c) => c.severity), ['warning', 'critical'])
  })

  test('stdin and URLs are sniffed: JSON when it starts with {, YAML otherwise', () => {
    assert.equal(parseChecklist('{"Checklist":[{"ID":"file","Parameters":["/x"]}]}', '<stdin>').checks.length, 1)
    assert.equal(parseChecklist('Checklist:\n - id: file\n   parameters: [/x]\n', '<stdin>').checks.length, 1)
  })
})

describe('bad checklists name the file, the check position and the reason', () => {
  test('invalid JSON gives line and column', () => rejects('{\n  "Checklist": [\n    {"ID": "file",, }\n  ]\n}', 'bad.json', /^bad\.json:3:19: invalid JSON: /))
  test('invalid YAML gives line and column', () => rejects('Checklist:\n  - id: file\n   parameters: [/x\n', 'bad.yml', /^bad\.yml:\d+:\d+: invalid YAML/))
  test('an empty file', () => rejects('  \n', 'empty.json', /empty checklist file/))
  test('a checklist with no checks', () => rejects('{"Name":"x","Checklist":[]}', 'none.json', /the checklist has no checks/))
  test('no Checklist key', () => rejects('{"Name":"x"}', 'nokey.json', /no "Checklist" array/))
  test('not an object', () => rejects('[1,2]', 'array.json', /must be an object/))
  test('an unknown check', () => rejects('{"Checklist":[{"ID":"file","Parameters":["/"]},{"ID":"fileExists","Parameters":["/"]}]}', 'u.json', /check #2 \(fileExists\): unknown check/))
  test('an empty check type', () => rejects('{"Checklist":[{"ID":"","Parameters":[]}]}', 'e.json', /check #1: empty check type/))
  test('no check type at all', () => rejects('{"Checklist":[{"Parameters":["/"]}]}', 'n.json', /check #1: no check type/))
  test('too few parameters', () => rejects('{"Checklist":[{"ID":"checksum","Parameters":["MD5","abc"]}]}', 'c.json', /check #1 \(checksum\): expected 3 parameters, got 2/))
  test('too many parameters', () => rejects('{"Checklist":[{"ID":"kernelParameter","Parameters":["a","b","c"]}]}', 'k.json', /expected 1 to 2 parameters, got 3/))
  test('a variadic check with too few', () => rejects('{"Checklist":[{"ID":"ZooKeeperRUOK","Parameters":["1s"]}]}', 'z.json', /expected at least 2 parameters, got 1/))
  test('a bad regex', () => rejects('{"Checklist":[{"ID":"fileMatches","Parameters":["/x","a(b"]}]}', 'r.json', /check #1 \(fileMatches\): bad regular expression "a\(b"/))
  test('a bad checksum algorithm', () => rejects('{"Checklist":[{"ID":"checksum","Parameters":["CRC32","0","/x"]}]}', 's.json', /unknown checksum algorithm "CRC32"/))
  test('a bad duration', () => rejects('{"Checklist":[{"ID":"tcpTimeout","Parameters":["localhost:80","soon"]}]}', 't.json', /bad duration "soon"/))
  test('a bad percentage', () => rejects('{"Checklist":[{"ID":"memoryUsage","Parameters":["150"]}]}', 'm.json', /not a percentage/))
  test('bad permissions', () => rejects('{"Checklist":[{"ID":"permissions","Parameters":["/x","0644"]}]}', 'p.json', /bad permissions "0644"/))
  test('bad host:port', () => rejects('{"Checklist":[{"ID":"tcp","Parameters":["localhost"]}]}', 'h.json', /expected host:port/))
  test('a parameter that is an object', () => rejects('{"Checklist":[{"ID":"file","Parameters":[{"a":1}]}]}', 'o.json', /check #1 \(file\): parameters must be an array/))
  test('a bad size', () => rejects('{"Checklist":[{"ID":"freeMemory","Parameters":["lots"]}]}', 'f.json', /bad size "lots"/))
})

describe('parameter helpers', () => {
  test('RE2 named groups and leading inline flags become JavaScript', () => {
    assert.ok(parseRegex('(?P<word>\\w+)ing').test('testing'))
    assert.ok(parseRegex('(?i)HELLO').test('hello'))
    assert.ok(parseRegex('(?s)a.b').test('a\nb'))
  })
  test('sizes count in powers of 1024, kb and kib alike', () => {
    assert.equal(parseSize('10mb'), 10 * 1024 ** 2)
    assert.equal(parseSize('20kib'), 20 * 1024)
    assert.equal(parseSize('3TB'), 3 * 1024 ** 4)
    assert.equal(parseSize('2 kilobytes'), 2048)
    assert.equal(parseSize('512'), 512)
  })
})

describe('sources', () => {
  let dir: string
  let server: http.Server
  let base: string
  let body = '{"Name":"remote","Checklist":[{"ID":"directory","Parameters":["/"]}]}'
  let hits = 0
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'distributive-src-'))
    server = http.createServer((req, res) => {
      hits++
      if (req.url === '/missing') {
        res.statusCode = 404
        return void res.end('no')
      }
      res.end(body)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
    await rm(dir, { recursive: true, force: true })
  })

  test('-d reads *.yaml, then *.yml, then *.json, each sorted, and nothing else', async () => {
    const d = path.join(dir, 'd')
    await mkdir(path.join(d, 'sub'), { recursive: true })
    const one = (name: string) => JSON.stringify({ Name: name, Checklist: [{ ID: 'directory', Parameters: ['/'] }] })
    await writeFile(path.join(d, 'b.json'), one('b.json'))
    await writeFile(path.join(d, 'a.json'), one('a.json'))
    await writeFile(path.join(d, 'z.yaml'), one('z.yaml'))
    await writeFile(path.join(d, 'm.yml'), one('m.yml'))
    await writeFile(path.join(d, 'notes.txt'), 'not a checklist')
    await writeFile(path.join(d, 'sub', 'c.json'), one('sub'))
    const lists = await loadChecklists({ directory: d })
    assert.deepEqual(lists.map((l) => l.name), ['z.yaml', 'm.yml', 'a.json', 'b.json'])
  })

  test('an empty or missing directory is a configuration error', async () => {
    await mkdir(path.join(dir, 'empty'))
    await assert.rejects(loadChecklists({ directory: path.join(dir, 'empty') }), /no checklists/)
    await assert.rejects(loadChecklists({ directory: path.join(dir, 'nope') }), /no such directory/)
  })

  test('-f wins over -d, -u and -s, and -d "" means unset', async () => {
    const f = path.join(dir, 'one.json')
    await writeFile(f, '{"Name":"file","Checklist":[{"ID":"directory","Parameters":["/"]}]}')
    const lists = await loadChecklists({ file: f, directory: '', url: `${base}/x`, stdin: true })
    assert.deepEqual(lists.map((l) => l.name), ['file'])
    const lists2 = await loadChecklists({ directory: '', stdin: true, stdinText: async () => 'name: piped\nChecklist: [{id: directory, parameters: [/]}]\n' })
    assert.deepEqual(lists2.map((l) => l.name), ['piped'])
  })

  test('with no source, /etc/distributive.d/ is read', async () => {
    // Whatever this machine has there, the default directory is the one tried.
    const result = await loadChecklists({ directory: '' }).then(
      (lists) => lists.every((l) => l.source.startsWith('/etc/distributive.d/')),
      (err: Error) => /^\/etc\/distributive\.d\//.test(err.message),
    )
    assert.equal(result, true)
  })

  test('a UTF-8 byte-order mark is ignored', () => {
    assert.equal(parseChecklist('\uFEFF{"Checklist":[{"ID":"file","Parameters":["/x"]}]}', 'bom.json').checks.length, 1)
  })

  test('empty stdin is a configuration error', async () => {
    await assert.rejects(loadChecklists({ stdin: true, stdinText: async () => '' }), /<stdin>: stdin was empty/)
  })

  test('-u fetches once and then reads the cache, unless --no-cache', async () => {
    const cacheDir = path.join(dir, 'cache')
    const url = `${base}/checks.json?v=1`
    hits = 0
    assert.equal((await loadChecklists({ url, cacheDir }))[0]!.name, 'remote')
    body = '{"Name":"changed","Checklist":[{"ID":"directory","Parameters":["/"]}]}'
    assert.equal((await loadChecklists({ url, cacheDir }))[0]!.name, 'remote')
    assert.equal(hits, 1)
    assert.equal((await loadChecklists({ url, cacheDir, noCache: true }))[0]!.name, 'changed')
    assert.equal(hits, 2)
    assert.equal(cacheFileName(url), 'http127001' + new URL(base).port + 'checksjsonv=1')
  })

  test('an unreachable URL, an HTTP error and a bad URL are configuration errors naming the URL', async () => {
    const cacheDir = path.join(dir, 'cache2')
    const closed = http.createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()))
    const port = (closed.address() as AddressInfo).port
    await new Promise((r) => closed.close(r))
    await assert.rejects(loadChecklists({ url: `http://127.0.0.1:${port}/c.json`, cacheDir }), /^ChecklistError: http:\/\/127\.0\.0\.1:\d+\/c\.json: cannot fetch checklist: ECONNREFUSED/)
    await assert.rejects(loadChecklists({ url: `${base}/missing`, cacheDir }), /missing: cannot fetch checklist: HTTP 404/)
    await assert.rejects(loadChecklists({ url: 'not a url', cacheDir }), /not a url: not a valid URL/)
  })
})

test('upstream argv spellings: -s=true, -d "", -d=', () => {
  assert.deepEqual(distributiveArgv(['-f', 'x.json', '-d', '', '--verbosity=info']), ['-f', 'x.json', '--verbosity=info'])
  assert.deepEqual(distributiveArgv(['-d', '', '-s=true', '--verbosity=fatal']), ['-s', '--verbosity=fatal'])
  assert.deepEqual(distributiveArgv(['-s=false', '-d=', '--no-cache=true']), ['--no-cache'])
  assert.deepEqual(distributiveArgv(['-d', '/etc/distributive.d/']), ['-d', '/etc/distributive.d/'])
})
