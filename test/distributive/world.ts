/**
 * A throwaway machine for check tests: a root directory with /etc, /proc and /sys fixtures, fake executables on
 * PATH (systemctl, sensors, php, dpkg-query), a fake Docker Engine API on a unix socket, fake ZooKeeper servers,
 * and loopback TCP, UDP, HTTP and HTTPS listeners. Nothing depends on the machine the tests run on.
 */
import dgram from 'node:dgram'
import { constants as fsConstants } from 'node:fs'
import { access, chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'
import net, { type LookupFunction } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createCa, createCert } from '../../src/agent/pki.js'
import { Host, type FsStats } from '../../src/distributive/host.js'

/** The shared fixtures folder beside the repository (tests run from dist/test/distributive); never copied in. */
export const FIXTURES = path.resolve(fileURLToPath(import.meta.url), '../../../../../shared/fixtures/distributive')

export const TEST_TXT = 'This is a file to check the "checksum" check.\n'

/** Resolves only `localhost`, so no test sends a packet beyond loopback (Node asks with `all: true` too). */
export const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  const cb = callback as (err: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void
  if (hostname !== 'localhost') {
    const err: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return cb(err, '', 0)
  }
  if ((options as { all?: boolean }).all) return cb(null, [{ address: '127.0.0.1', family: 4 }])
  cb(null, '127.0.0.1', 4)
}

const FIXED_INTERFACES: NodeJS.Dict<os.NetworkInterfaceInfo[]> = {
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
  eth0: [{ address: '192.0.2.10', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.0.2.10/24' }],
}

/** Every filesystem in the test world is 50 % full of blocks and 10 % of inodes, whatever the real disk holds. */
export const fixedStatfs = async (p: string): Promise<FsStats> => {
  await access(p) // a missing path still fails as statfs would
  return { blocks: 1000, bavail: 500, files: 1000, ffree: 900 }
}

export interface World {
  dir: string
  root: string
  /** Host with every fake in place. */
  host: Host
  /** Same root, but a PATH without the fakes and no Docker socket: checks that need them are UNKNOWN. */
  bareHost: Host
  /** Same root, with a systemctl that says systemd is not running. */
  noSystemdHost: Host
  /** An empty root: no /etc, /proc or /sys at all. */
  emptyHost: Host
  tcpPort: number
  closedTcpPort: number
  udpPort: number
  closedUdpPort: number
  httpUrl: string
  httpsUrl: string
  zk: { leader: number; follower1: number; follower2: number; otherLeader: number; sick: number }
  close(): Promise<void>
}

async function put(file: string, text: string, mode?: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, text)
  if (mode !== undefined) await chmod(file, mode)
}

const FAKE_SYSTEMCTL = `#!/bin/sh
# Fake systemctl: the good units exist and run; everything else is not found.
args="$*"
case "$args" in
  *"show -p LoadState good.service"*) echo "LoadState=loaded" ;;
  *"show -p LoadState"*) echo "LoadState=not-found" ;;
  *"show -p ActiveState good.service"*) echo "ActiveState=active" ;;
  *"show -p ActiveState"*) echo "ActiveState=inactive" ;;
  *list-sockets*)
    echo "LISTEN                          UNIT                          ACTIVATES"
    echo "/run/good.sock                  good.socket                   good.service"
    echo "kobject-uevent 1                systemd-udevd-kernel.socket   systemd-udevd.service"
    echo ""
    echo "2 sockets listed." ;;
  *"list-timers"*"--all"*)
    echo "NEXT                        LEFT     LAST                        PASSED  UNIT        ACTIVATES"
    echo "Thu 2026-11-26 12:00:00 UTC 10min    Thu 2026-11-26 11:00:00 UTC 50min   good.timer  good.service"
    echo "n/a                         n/a      n/a                         n/a     idle.timer  idle.service"
    echo ""
    echo "2 timers listed." ;;
  *list-timers*)
    echo "NEXT                        LEFT     LAST                        PASSED  UNIT        ACTIVATES"
    echo "Thu 2026-11-26 12:00:00 UTC 10min    Thu 2026-11-26 11:00:00 UTC 50min   good.timer  good.service"
    echo ""
    echo "1 timers listed." ;;
  *list-unit-files*)
    echo "good.service                 enabled         enabled"
    echo "shutdown.target              static          -"
    echo "bad.service                  disabled        enabled" ;;
  *) echo "fake systemctl: unexpected arguments: $args" >&2; exit 1 ;;
esac
`

const NO_SYSTEMD = `#!/bin/sh
echo "System has not been booted with systemd as init system (PID 1). Can't operate." >&2
echo "Failed to connect to bus: Host is down" >&2
exit 1
`

const FAKE_SENSORS = `#!/bin/sh
cat <<'OUT'
coretemp-isa-0000
Adapter: ISA adapter
Package id 0:  +47.0°C  (high = +80.0°C, crit = +100.0°C)
Core 0:        +45.0°C  (high = +80.0°C, crit = +100.0°C)
Core 1:        +46.0°C  (high = +80.0°C, crit = +100.0°C)
OUT
`

const FAKE_PHP = `#!/bin/sh
# Fake php -r 'echo get_cfg_var("NAME");'
case "$2" in
  *'"default_mimetype"'*) printf 'text/html' ;;
  *) printf '' ;;
esac
`

const FAKE_DPKG_QUERY = `#!/bin/sh
# Fake dpkg-query -W -f=\${db:Status-Status} PKG: bash is installed, removed-pkg was removed but not purged.
for pkg; do :; done
case "$pkg" in
  bash|git) printf 'installed' ;;
  removed-pkg) printf 'config-files' ;;
  *) echo "dpkg-query: no packages found matching $pkg" >&2; exit 1 ;;
esac
`

async function writeEtc(root: string): Promise<void> {
  await put(`${root}/etc/passwd`, 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nalice:x:1000:1000:Alice Liddell,,,:/home/alice:/bin/bash\n')
  await put(`${root}/etc/group`, 'root:x:0:\nwheel:x:10:alice\nsudo:x:27:alice\nalice:x:1000:\nbin:x:2:\n')
  await put(`${root}/etc/apt/sources.list`, '# classic one-line sources\ndeb [arch=amd64] http://archive.example.org/debian bullseye main\n')
  await put(`${root}/etc/apt/sources.list.d/debian.sources`, 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://disabled.example.org/\nSuites: sid\nEnabled: no\n')
  await put(`${root}/etc/pacman.conf`, '[options]\nIgnorePkg = pulseaudio linux\n\n[core]\nInclude = /etc/pacman.d/mirrorlist\n\n[custom]\nServer = file:///home/custompkgs\n')
  await put(`${root}/etc/yum.repos.d/base.repo`, '[base]\nname=CentOS Base\nbaseurl=http://mirror.centos.org/centos/7/os/x86_64/\n')
}

async function writeProcSys(root: string): Promise<void> {
  const p = `${root}/proc`
  await put(`${p}/meminfo`, 'MemTotal:        1000000 kB\nMemFree:          100000 kB\nMemAvailable:     400000 kB\nSwapTotal:        200000 kB\nSwapFree:         150000 kB\n')
  // Since boot: 200 busy of 1000 jiffies = 20 %. The file does not change, so cpuUsage falls back to it.
  await put(`${p}/stat`, 'cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n')
  await put(`${p}/net/route`, 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' +
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n')
  await put(`${p}/net/if_inet6`, '00000000000000000000000000000001 01 80 10 80       lo\nfe800000000000000000000000000001 02 40 20 80     eth0\n')
  const head = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
  // 8500 (0x2134) listening, 8600 (0x2198) only an established connection.
  await put(`${p}/net/tcp`, head + '   0: 0100007F:2134 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n   1: 0100007F:2198 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n')
  await put(`${p}/net/tcp6`, head + '   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1\n')
  // 8301 (0x206D) bound.
  await put(`${p}/net/udp`, head + '   0: 00000000:206D 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4 2\n')
  await put(`${p}/modules`, 'ext4 749568 1 - Live 0x0000000000000000\nbr_netfilter 32768 0 - Live 0x0000000000000000\nbridge 311296 1 br_netfilter, Live 0x0000000000000000\n')
  await put(`${p}/sys/kernel/ctrl-alt-del`, '0\n')
  await put(`${p}/sys/kernel/ostype`, 'Linux\n')
  await put(`${p}/sys/net/ipv4/ip_forward`, '0\n')
  await put(`${p}/sys/net/ipv4/ip_local_port_range`, '32768\t60999\n')
  await put(`${p}/self/mounts`, 'fixturefs / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\ntmpfs /run tmpfs rw 0 0\n')
  await put(`${p}/1/comm`, 'systemd\n')
  await put(`${p}/1/cmdline`, '/sbin/init\0splash\0')
  await put(`${p}/4242/comm`, 'nginx\n')
  await put(`${p}/4242/cmdline`, '/usr/sbin/nginx\0-g\0daemon off;\0')
  await put(`${p}/4343/comm`, 'kworker/0:1\n')
  await put(`${p}/4444/comm`, 'consul-template\n') // a 15-byte comm, as the kernel truncates it
  await put(`${p}/4444/cmdline`, '')
  await put(`${root}/sys/class/net/lo/flags`, '0x9\n')
  await put(`${root}/sys/class/net/eth0/flags`, '0x1003\n')
  await put(`${root}/sys/class/net/eth9/flags`, '0x1002\n') // present but down
}

async function writeFiles(root: string): Promise<void> {
  await put(`${root}/tmp/test.txt`, TEST_TXT, 0o644)
  await put(`${root}/tmp/secret`, 'x', 0o600)
  await put(`${root}/tmp/regex.txt`, '12345678\n')
  await mkdir(`${root}/srv/data`, { recursive: true })
  await symlink('/tmp/test.txt', `${root}/tmp/link.txt`)
  await symlink('/', `${root}/fakeroot`)
  // As on Debian, /var/run is /run (the Docker socket is reachable by both names).
  await mkdir(`${root}/var`, { recursive: true })
  await symlink('../run', `${root}/var/run`)
}

function listen(server: net.Server | http.Server, where: string | number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    if (typeof where === 'string') server.listen(where, () => resolve())
    else server.listen(where, '127.0.0.1', () => resolve())
  })
}

const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port

/** A fake ZooKeeper answering four-letter words. */
function zkServer(mode: string, latency: string, ruok: string): net.Server {
  return net.createServer((sock) => {
    sock.once('data', (d) => {
      const word = d.toString().trim()
      if (word === 'ruok') sock.end(ruok)
      else if (word === 'srvr') sock.end(`Zookeeper version: 3.4.14-fake\nLatency min/avg/max: ${latency}\nReceived: 10\nSent: 9\nConnections: 1\nOutstanding: 0\nZxid: 0x100000000\nMode: ${mode}\nNode count: 4\n`)
      else sock.end()
    })
    sock.on('error', () => {})
  })
}

/** Fake Docker Engine API (v1.24 paths) on a unix socket. */
function dockerServer(): http.Server {
  const images = [{ RepoTags: ['ubuntu:latest', 'registry.local:5000/team/app:1.2'] }, { RepoTags: null }]
  const containers = [
    { Image: 'siddharthist/router:latest', Status: 'Up 2 hours', State: 'running', Names: ['/router'] },
    { Image: 'redis:7', Status: 'Exited (0) 3 days ago', State: 'exited', Names: ['/cache'] },
  ]
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://docker')
    res.setHeader('content-type', 'application/json')
    if (url.pathname === '/v1.24/images/json') return void res.end(JSON.stringify(images))
    if (url.pathname === '/v1.24/containers/json') {
      const all = url.searchParams.get('all') === '1'
      return void res.end(JSON.stringify(all ? containers : containers.filter((c) => c.State === 'running')))
    }
    res.statusCode = 404
    res.end(JSON.stringify({ message: 'page not found' }))
  })
}

async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'tcp') {
    const s = net.createServer()
    await listen(s, 0)
    const port = portOf(s)
    await new Promise((r) => s.close(r))
    return port
  }
  const u = dgram.createSocket('udp4')
  await new Promise<void>((r) => u.bind(0, '127.0.0.1', () => r()))
  const port = u.address().port
  await new Promise<void>((r) => u.close(() => r()))
  return port
}

export async function createWorld(): Promise<World> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'distributive-'))
  const root = path.join(dir, 'root')
  await writeEtc(root)
  await writeProcSys(root)
  await writeFiles(root)
  await put(`${dir}/bin/systemctl`, FAKE_SYSTEMCTL, 0o755)
  await put(`${dir}/bin/sensors`, FAKE_SENSORS, 0o755)
  await put(`${dir}/bin/php`, FAKE_PHP, 0o755)
  await put(`${dir}/bin/dpkg-query`, FAKE_DPKG_QUERY, 0o755)
  await put(`${dir}/nosystemd/systemctl`, NO_SYSTEMD, 0o755)
  // The bare PATH has a shell (for `command`) and nothing else: sensors, php, systemctl are "not found".
  await mkdir(`${dir}/bare`, { recursive: true })
  await mkdir(`${dir}/empty`, { recursive: true })
  for (const sh of ['bash', 'sh']) await symlink(await whichOrThrow(sh), `${dir}/bare/${sh}`)

  const servers: (net.Server | http.Server)[] = []
  const sockets: dgram.Socket[] = []
  const tcp = net.createServer((s) => s.end())
  await listen(tcp, 0)
  servers.push(tcp)

  const udp = dgram.createSocket('udp4')
  udp.on('message', (_msg, rinfo) => udp.send('pong', rinfo.port, rinfo.address))
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()))
  sockets.push(udp)

  const web = http.createServer((req, res) => {
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/' })
      return void res.end()
    }
    if (req.url === '/loop') {
      res.writeHead(301, { location: '/loop' })
      return void res.end()
    }
    res.end('hello from the distributive test world\n')
  })
  await listen(web, 0)
  servers.push(web)

  const ca = await createCa({ days: 2 })
  const cert = await createCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: 'server', days: 2, additionalIps: ['127.0.0.1'], additionalDnsNames: ['localhost'] })
  const secure = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (_, res) => res.end('hello over TLS\n'))
  await listen(secure, 0)
  servers.push(secure)

  await mkdir(`${root}/run`, { recursive: true })
  const docker = dockerServer()
  await listen(docker, `${root}/run/docker.sock`)
  servers.push(docker)

  const zk = {
    leader: zkServer('leader', '0/1/5', 'imok'),
    follower1: zkServer('follower', '0/2/8', 'imok'),
    follower2: zkServer('follower', '0/1/4', 'imok'),
    otherLeader: zkServer('leader', '0/1/5', 'imok'),
    sick: zkServer('follower', '5/900/4000', 'not ok'),
  }
  for (const s of Object.values(zk)) {
    await listen(s, 0)
    servers.push(s)
  }
  const zkPorts = Object.fromEntries(Object.entries(zk).map(([k, s]) => [k, portOf(s)])) as World['zk']
  const q = (ports: number[]): string => `clientPort=2181\n` + ports.map((p, i) => `server.${i + 1}=127.0.0.1:2888:3888;${p}`).join('\n') + '\n'
  await put(`${root}/etc/zookeeper/zoo.cfg`, q([zkPorts.leader, zkPorts.follower1, zkPorts.follower2]))
  await put(`${root}/etc/zookeeper/split.cfg`, q([zkPorts.leader, zkPorts.otherLeader, zkPorts.follower1]))

  const hostBase = { root, lookup: loopbackLookup, networkInterfaces: () => FIXED_INTERFACES, statfs: fixedStatfs }
  const world: World = {
    dir,
    root,
    host: new Host({ ...hostBase, env: { PATH: `${dir}/bin:${process.env['PATH'] ?? '/usr/bin:/bin'}` }, dockerHost: 'unix:///run/docker.sock' }),
    bareHost: new Host({ ...hostBase, env: { PATH: `${dir}/bare` }, dockerHost: 'unix:///run/no-docker.sock' }),
    noSystemdHost: new Host({ ...hostBase, env: { PATH: `${dir}/nosystemd:${dir}/bare` } }),
    emptyHost: new Host({ ...hostBase, root: `${dir}/empty`, env: { PATH: `${dir}/bare` } }),
    tcpPort: portOf(tcp),
    closedTcpPort: await freePort('tcp'),
    udpPort: udp.address().port,
    closedUdpPort: await freePort('udp'),
    httpUrl: `http://127.0.0.1:${portOf(web)}/`,
    httpsUrl: `https://127.0.0.1:${portOf(secure)}/`,
    zk: zkPorts,
    async close() {
      for (const s of servers) {
        ;(s as http.Server).closeAllConnections?.()
        await new Promise((r) => s.close(r))
      }
      for (const s of sockets) await new Promise<void>((r) => s.close(() => r()))
      await rm(dir, { recursive: true, force: true })
    },
  }
  return world
}

async function whichOrThrow(cmd: string): Promise<string> {
  for (const d of (process.env['PATH'] ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(d, cmd)
    try {
      await access(p, fsConstants.X_OK)
      return p
    } catch {
      // not here
    }
  }
  throw new Error(`test world needs ${cmd} on PATH`)
}
