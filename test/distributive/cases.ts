/**
 * The per-check table: for every registered name (aliases included) at least one case that passes and one that
 * fails in the test world, plus the UNKNOWN cases for checks that cannot run here. checks.test.ts runs them and
 * checks the table covers the registry.
 */
import type { Status } from '../../src/distributive/types.js'
import type { World } from './world.js'

export interface CheckCase {
  id: string
  params: (w: World) => string[]
  expect: Status
  /** Which host of the world: with all fakes (default), bare PATH and no Docker, or a systemctl without systemd. */
  on?: 'host' | 'bare' | 'noSystemd' | 'empty'
  /** Part of the expected message, for failures whose reason matters. */
  message?: RegExp
}

const p = (...params: string[]) => (): string[] => params

export const CASES: CheckCase[] = [
  // ---- filesystem ----
  { id: 'file', params: p('/tmp/test.txt'), expect: 'passing' },
  { id: 'file', params: p('/srv/data'), expect: 'critical', message: /is a directory/ },
  { id: 'file', params: p('/tmp/link.txt'), expect: 'critical', message: /symlink/ },
  { id: 'file', params: p('/swapfile'), expect: 'critical', message: /No such file/ },
  { id: 'directory', params: p('/srv/data'), expect: 'passing' },
  { id: 'directory', params: p('/tmp/test.txt'), expect: 'critical' },
  { id: 'symlink', params: p('/fakeroot'), expect: 'passing' },
  { id: 'symlink', params: p('/srv'), expect: 'critical' },
  { id: 'checksum', params: p('MD5', 'd3b4ee24a6813207784ad46e93b2a24d', '/tmp/test.txt'), expect: 'passing' },
  { id: 'checksum', params: p('sha1', '5BE648E76990668A6F684671FADF81DD18ED0863', '/tmp/test.txt'), expect: 'passing' },
  { id: 'checksum', params: p('SHA256', '00', '/tmp/test.txt'), expect: 'critical', message: /Checksums do not match/ },
  // Upstream returned "Other" for a missing file and let the run pass.
  { id: 'checksum', params: p('MD5', 'd3b4ee24a6813207784ad46e93b2a24d', '/tmp/missing.txt'), expect: 'critical' },
  { id: 'fileMatches', params: p('/tmp/regex.txt', '\\d{8}'), expect: 'passing' },
  { id: 'fileMatches', params: p('/tmp/test.txt', '(?i)C[HAS]ECK\\wUM'), expect: 'passing' },
  { id: 'fileMatches', params: p('/tmp/test.txt', 'failme{100}'), expect: 'critical' },
  { id: 'fileContains', params: p('/tmp/test.txt', 'c[has]eck\\wum'), expect: 'passing' },
  { id: 'fileContains', params: p('/tmp/missing.txt', 'x'), expect: 'critical' },
  { id: 'permissions', params: p('/tmp/test.txt', '-rw-r--r--'), expect: 'passing' },
  { id: 'permissions', params: p('/tmp/secret', '-rw-r--r--'), expect: 'critical', message: /Actual: -rw-------/ },
  // The world's filesystems are 50 % full (blocks) and 10 % (inodes).
  { id: 'diskUsage', params: p('/', '90'), expect: 'passing' },
  { id: 'diskUsage', params: p('/srv/data', '50%'), expect: 'critical', message: /Actual: 50%/ },
  { id: 'diskUsage', params: p('/nonexistent', '90'), expect: 'critical' },
  { id: 'inodeUsage', params: p('fixturefs', '90'), expect: 'passing' },
  { id: 'inodeUsage', params: p('tmpfs', '90'), expect: 'passing' },
  { id: 'inodeUsage', params: p('/srv', '11'), expect: 'passing' },
  { id: 'inodeUsage', params: p('fixturefs', '10'), expect: 'critical' },
  { id: 'inodeUsage', params: p('overlay', '90'), expect: 'critical', message: /No such filesystem/ },

  // ---- packages ----
  { id: 'installed', params: p('bash'), expect: 'passing' },
  { id: 'installed', params: p('failme'), expect: 'critical' },
  { id: 'installed', params: p('removed-pkg'), expect: 'critical' },
  { id: 'installed', params: p('bash'), expect: 'unknown', on: 'bare', message: /no package manager/ },
  { id: 'repoExists', params: p('apt', '^bookworm-updates$'), expect: 'passing' },
  { id: 'repoExists', params: p('pacman', 'custom'), expect: 'passing' },
  { id: 'repoExists', params: p('yum', 'CentOS'), expect: 'passing' },
  { id: 'repoExists', params: p('dpkg', '^sid$'), expect: 'critical' }, // Enabled: no
  { id: 'repoExists', params: p('pacman', 'failme'), expect: 'critical' },
  { id: 'repoExistsURI', params: p('dpkg', 'deb\\.debian\\.org'), expect: 'passing' }, // deb822 .sources
  { id: 'repoExistsURI', params: p('apt', 'archive\\.example\\.org'), expect: 'passing' }, // one-line, [options] skipped
  { id: 'repoExistsURI', params: p('pacman', '^file:///home/custompkgs$'), expect: 'passing' },
  { id: 'repoExistsURI', params: p('rpm', 'mirror\\.centos\\.org'), expect: 'passing' },
  { id: 'repoExistsURI', params: p('apt', 'failme'), expect: 'critical' },
  { id: 'pacmanIgnore', params: p('pulseaudio'), expect: 'passing' },
  { id: 'pacmanIgnore', params: p('failme'), expect: 'critical' },

  // ---- systemd (fake systemctl on PATH) ----
  { id: 'systemctlLoaded', params: p('good.service'), expect: 'passing' },
  { id: 'systemctlLoaded', params: p('failme.service'), expect: 'critical' },
  { id: 'systemctlLoaded', params: p('good.service'), expect: 'unknown', on: 'noSystemd', message: /systemd is not running/ },
  { id: 'systemctlLoaded', params: p('good.service'), expect: 'unknown', on: 'bare', message: /not found: systemctl/ },
  { id: 'systemctlActive', params: p('good.service'), expect: 'passing' },
  { id: 'systemctlActive', params: p('failme.automount'), expect: 'critical' },
  { id: 'systemctlActive', params: p('good.service'), expect: 'unknown', on: 'noSystemd' },
  { id: 'systemctlSockPath', params: p('/run/good.sock'), expect: 'passing' },
  { id: 'systemctlSockPath', params: p('kobject-uevent 1'), expect: 'passing' },
  { id: 'systemctlSockPath', params: p('/run/failme'), expect: 'critical' },
  { id: 'systemctlSockListening', params: p('/run/good.sock'), expect: 'passing' },
  { id: 'systemctlSockListening', params: p('/run/failme'), expect: 'critical' },
  { id: 'systemctlSock', params: p('/run/good.sock'), expect: 'passing' },
  { id: 'systemctlSock', params: p('/run/failme'), expect: 'critical' },
  { id: 'systemctlSockUnit', params: p('good.socket'), expect: 'passing' },
  { id: 'systemctlSockUnit', params: p('failme.socket'), expect: 'critical' },
  { id: 'systemctlTimer', params: p('good.timer'), expect: 'passing' },
  { id: 'systemctlTimer', params: p('idle.timer'), expect: 'critical' },
  { id: 'systemctlTimerLoaded', params: p('idle.timer'), expect: 'passing' },
  { id: 'systemctlTimerLoaded', params: p('failme.timer'), expect: 'critical' },
  { id: 'systemctlUnitFileStatus', params: p('shutdown.target', 'static'), expect: 'passing' },
  { id: 'systemctlUnitFileStatus', params: p('bad.service', 'enabled'), expect: 'critical', message: /Actual: disabled/ },
  { id: 'systemctlUnitFileStatus', params: p('failme.target', 'failme'), expect: 'critical' },
  { id: 'systemctlUnitFileStatus', params: p('shutdown.target', 'static'), expect: 'unknown', on: 'noSystemd' },

  // ---- network ----
  { id: 'port', params: p('8500'), expect: 'passing' },
  { id: 'port', params: p('8080'), expect: 'passing' }, // tcp6
  { id: 'port', params: p('8301'), expect: 'passing' }, // udp
  { id: 'port', params: p('8600'), expect: 'critical' }, // established, not listening
  { id: 'portTCP', params: p('8500'), expect: 'passing' },
  { id: 'portTCP', params: p('8301'), expect: 'critical' },
  { id: 'portUDP', params: p('8301'), expect: 'passing' },
  { id: 'portUDP', params: p('8500'), expect: 'critical' },
  { id: 'interfaceExists', params: p('lo'), expect: 'passing' },
  { id: 'interfaceExists', params: p('failme'), expect: 'critical' },
  { id: 'interface', params: p('eth9'), expect: 'passing' },
  { id: 'interface', params: p('wlp1s0'), expect: 'critical' },
  { id: 'up', params: p('eth0'), expect: 'passing' },
  { id: 'up', params: p('eth9'), expect: 'critical', message: /not up/ },
  { id: 'up', params: p('failme'), expect: 'critical' },
  { id: 'ip4', params: p('eth0', '192.0.2.10'), expect: 'passing' },
  { id: 'ip4', params: p('eth0', '10.60.91.12'), expect: 'critical' },
  { id: 'IP', params: p('lo', '127.0.0.1'), expect: 'passing' },
  { id: 'IP', params: p('lo', '127.0.0.2'), expect: 'critical' },
  { id: 'ip6', params: p('lo', '::1'), expect: 'passing' },
  { id: 'ip6', params: p('eth0', 'fe80::1'), expect: 'passing' },
  { id: 'ip6', params: p('eth0', 'fe80::59bf:babe:f7bb:a327'), expect: 'critical' },
  { id: 'ip6', params: p('eth0', 'failme'), expect: 'critical', message: /Not an IPv6 address/ },
  { id: 'gateway', params: p('192.0.2.1'), expect: 'passing' },
  { id: 'gateway', params: p('192.168.0.1'), expect: 'critical' },
  { id: 'gateway', params: p('192.0.2.1'), expect: 'unknown', on: 'empty', message: /could not run: .*ENOENT/ }, // no /proc/net/route
  { id: 'portTCP', params: p('8500'), expect: 'critical', on: 'empty' }, // no table is no listener
  { id: 'memoryUsage', params: p('90'), expect: 'unknown', on: 'empty', message: /cannot read \/proc\/meminfo/ },
  { id: 'userExists', params: p('root'), expect: 'unknown', on: 'empty', message: /cannot read the user database/ },
  { id: 'module', params: p('ext4'), expect: 'unknown', on: 'empty', message: /no \/proc\/modules/ },
  { id: 'gatewayInterface', params: p('eth0'), expect: 'passing' },
  { id: 'gatewayInterface', params: p('docker0'), expect: 'critical' },
  { id: 'routingTableDestination', params: p('192.0.2.0'), expect: 'passing' },
  { id: 'routingTableDestination', params: p('192.168.0.0'), expect: 'critical' },
  { id: 'routingTableInterface', params: p('eth0'), expect: 'passing' },
  { id: 'routingTableInterface', params: p('docker0'), expect: 'critical' },
  { id: 'routingTableGateway', params: p('192.0.2.1'), expect: 'passing' },
  { id: 'routingTableGateway', params: p('192.168.0.1'), expect: 'critical' },
  { id: 'host', params: p('localhost'), expect: 'passing' },
  { id: 'host', params: p('failme.fail'), expect: 'critical' },
  { id: 'tcp', params: (w) => [`127.0.0.1:${w.tcpPort}`], expect: 'passing' },
  { id: 'tcp', params: (w) => [`localhost:${w.tcpPort}`], expect: 'passing' },
  { id: 'tcp', params: (w) => [`127.0.0.1:${w.closedTcpPort}`], expect: 'critical' },
  { id: 'tcp', params: p('google.com:80'), expect: 'critical' }, // does not resolve in the test world
  { id: 'tcpTimeout', params: (w) => [`127.0.0.1:${w.tcpPort}`, '5s'], expect: 'passing' },
  { id: 'tcpTimeout', params: (w) => [`127.0.0.1:${w.closedTcpPort}`, '5s'], expect: 'critical' },
  { id: 'udp', params: (w) => [`127.0.0.1:${w.udpPort}`], expect: 'passing' },
  // Upstream's UDP "dial" always passed; a closed port answers ICMP port unreachable.
  { id: 'udp', params: (w) => [`127.0.0.1:${w.closedUdpPort}`], expect: 'critical', message: /unreachable/ },
  { id: 'udpTimeout', params: (w) => [`localhost:${w.udpPort}`, '5s'], expect: 'passing' },
  { id: 'udpTimeout', params: (w) => [`127.0.0.1:${w.closedUdpPort}`, '5s'], expect: 'critical' },
  { id: 'responseMatches', params: (w) => [w.httpUrl, 'distributive test \\w+'], expect: 'passing' },
  { id: 'responseMatches', params: (w) => [w.httpUrl, 'failme{100}'], expect: 'critical' },
  { id: 'responseMatches', params: (w) => [`${w.httpUrl}moved`, 'test world'], expect: 'passing' }, // redirects are followed
  { id: 'responseMatches', params: (w) => [`${w.httpUrl}loop`, 'test world'], expect: 'critical', message: /10 redirects/ },
  { id: 'responseMatches', params: (w) => [w.httpsUrl, 'TLS'], expect: 'critical', message: /Could not fetch/ }, // untrusted CA
  { id: 'responseMatches', params: p('http://pastebin.com/raw.php?i=23ersi8i', 'x'), expect: 'critical' },
  { id: 'responseMatchesInsecure', params: (w) => [w.httpsUrl, 'hello over TLS'], expect: 'passing' },
  { id: 'responseMatchesInsecure', params: (w) => [w.httpsUrl, 'failme'], expect: 'critical' },

  // ---- users and groups ----
  { id: 'groupExists', params: p('wheel'), expect: 'passing' },
  { id: 'groupExists', params: p('failme'), expect: 'critical' },
  { id: 'userInGroup', params: p('alice', 'wheel'), expect: 'passing' },
  { id: 'userInGroup', params: p('root', 'root'), expect: 'passing' }, // primary group
  { id: 'userInGroup', params: p('root', 'wheel'), expect: 'critical' },
  { id: 'userInGroup', params: p('failme', 'failme'), expect: 'critical' },
  { id: 'groupId', params: p('root', '0'), expect: 'passing' },
  { id: 'groupId', params: p('wheel', '0'), expect: 'critical' },
  { id: 'userExists', params: p('alice'), expect: 'passing' },
  { id: 'userExists', params: p('1000'), expect: 'passing' },
  { id: 'userExists', params: p('failme'), expect: 'critical' },
  { id: 'userHasUID', params: p('alice', '1000'), expect: 'passing' },
  { id: 'userHasUID', params: p('root', '1000'), expect: 'critical' },
  { id: 'userHasGID', params: p('daemon', '1'), expect: 'passing' },
  { id: 'userHasGID', params: p('failme', '1000'), expect: 'critical' },
  { id: 'userHasUsername', params: p('1000', 'alice'), expect: 'passing' },
  { id: 'userHasUsername', params: p('0', 'alice'), expect: 'critical' },
  { id: 'userHasName', params: p('alice', 'Alice Liddell'), expect: 'passing' },
  { id: 'userHasName', params: p('root', 'Alice Liddell'), expect: 'critical' },
  { id: 'userHasHomeDir', params: p('root', '/root'), expect: 'passing' },
  { id: 'userHasHomeDir', params: p('alice', '/root'), expect: 'critical' },

  // ---- docker (fake Engine API on a unix socket) ----
  { id: 'dockerImage', params: p('ubuntu'), expect: 'passing' },
  { id: 'dockerImage', params: p('registry.local:5000/team/app'), expect: 'passing' },
  { id: 'dockerImage', params: p('failme'), expect: 'critical' },
  { id: 'dockerImage', params: p('ubuntu'), expect: 'unknown', on: 'bare', message: /Docker is not available/ },
  { id: 'dockerImageRegexp', params: p('^ub.+u$'), expect: 'passing' },
  // Upstream v0.3 ran dockerRunningRegexp here: a running container's image would have matched.
  { id: 'dockerImageRegexp', params: p('router'), expect: 'critical' },
  { id: 'dockerRunning', params: p('siddharthist/router'), expect: 'passing' },
  { id: 'dockerRunning', params: p('redis'), expect: 'critical' }, // exited
  { id: 'dockerRunningRegexp', params: p('router:\\w+$'), expect: 'passing' },
  { id: 'dockerRunningRegexp', params: p('^redis'), expect: 'critical' },
  { id: 'dockerRunningAPI', params: p('unix:///run/docker.sock', 'siddharthist/router:latest'), expect: 'passing' },
  { id: 'dockerRunningAPI', params: p('/run/docker.sock', 'failme'), expect: 'critical' },
  { id: 'dockerRunningAPI', params: p('unix:///var/run/docker.sock', 'siddharthist/router'), expect: 'passing' },
  { id: 'dockerRunningAPI', params: p('unix:///run/missing.sock', 'failme'), expect: 'unknown', message: /not available/ },

  // ---- misc ----
  { id: 'command', params: p('test -d /'), expect: 'passing' },
  { id: 'command', params: p('echo out; echo err >&2; exit 3'), expect: 'critical', message: /exit code 3[\s\S]*out[\s\S]*err/ },
  { id: 'commandOutputMatches', params: p('echo works', '\\w[aeiou]+(y)*r[kl]s'), expect: 'passing' },
  { id: 'commandOutputMatches', params: p('echo doesntwork', '\\d+oesnt\\work'), expect: 'critical' },
  // A failing command fails this check only (upstream stopped the run).
  { id: 'commandOutputMatches', params: p('echo nope; exit 1', 'works'), expect: 'critical' },
  { id: 'running', params: p('nginx'), expect: 'passing' },
  { id: 'running', params: p('/usr/sbin/nginx'), expect: 'passing' },
  { id: 'running', params: p('consul-template-server'), expect: 'passing' }, // comm is truncated to 15 bytes
  { id: 'running', params: p('failme'), expect: 'critical' },
  { id: 'temp', params: p('80'), expect: 'passing' },
  { id: 'temp', params: p('100℃'), expect: 'passing' },
  { id: 'temp', params: p('10'), expect: 'critical', message: /Actual: 47°C/ },
  { id: 'temp', params: p('80'), expect: 'unknown', on: 'bare', message: /not found: sensors/ },
  { id: 'module', params: p('ext4'), expect: 'passing' },
  { id: 'module', params: p('br-netfilter'), expect: 'passing' },
  { id: 'module', params: p('failme'), expect: 'critical' },
  { id: 'kernelParameter', params: p('kernel.ostype'), expect: 'passing' },
  { id: 'kernelParameter', params: p('kernel.ostype', 'Linux'), expect: 'passing' },
  { id: 'kernelParameter', params: p('net.ipv4.ip_local_port_range', '32768 60999'), expect: 'passing' },
  { id: 'kernelParameter', params: p('kernel.ostype', 'BSD'), expect: 'critical' },
  { id: 'kernelParameter', params: p('failme'), expect: 'critical' },
  { id: 'phpConfig', params: p('default_mimetype', 'text/html'), expect: 'passing' },
  { id: 'phpConfig', params: p('default_mimetype', 'failme'), expect: 'critical' },
  { id: 'phpConfig', params: p('default_mimetype', 'text/html'), expect: 'unknown', on: 'bare' },

  // ---- usage (/proc/meminfo: 60 % memory used, 25 % swap used; /proc/stat: 20 % busy) ----
  // Upstream v0.3 compared *free* memory (40 %) here, so a 50 % limit passed.
  { id: 'memoryUsage', params: p('90'), expect: 'passing' },
  { id: 'memoryUsage', params: p('50'), expect: 'critical' },
  { id: 'swapUsage', params: p('90'), expect: 'passing' },
  { id: 'swapUsage', params: p('10'), expect: 'critical' },
  { id: 'freeMemory', params: p('10mb'), expect: 'passing' },
  { id: 'freeMemory', params: p('1gb'), expect: 'critical' },
  { id: 'freeSwap', params: p('1kb'), expect: 'passing' },
  { id: 'freeSwap', params: p('10000gb'), expect: 'critical' },
  { id: 'cpuUsage', params: p('95'), expect: 'passing' },
  { id: 'cpuUsage', params: p('10'), expect: 'critical' },

  // ---- ZooKeeper (fake four-letter-word servers) ----
  { id: 'ZooKeeperRUOK', params: (w) => ['2s', `127.0.0.1:${w.zk.leader}`, `127.0.0.1:${w.zk.follower1}`], expect: 'passing' },
  { id: 'ZooKeeperRUOK', params: (w) => ['2s', `127.0.0.1:${w.zk.leader}`, `127.0.0.1:${w.zk.sick}`], expect: 'critical' },
  { id: 'ZooKeeperRUOK', params: (w) => ['2s', `127.0.0.1:${w.closedTcpPort}`], expect: 'critical' },
  { id: 'ZooKeeperServerStats', params: (w) => ['2s', '1', '5', '10', `127.0.0.1:${w.zk.leader}`, `127.0.0.1:${w.zk.follower1}`], expect: 'passing' },
  { id: 'ZooKeeperServerStats', params: (w) => ['2s', '1', '5', '10', `127.0.0.1:${w.zk.sick}`], expect: 'critical' },
  // Upstream dereferenced nil when a server was down.
  { id: 'ZooKeeperServerStats', params: (w) => ['2s', '1', '5', '10', `127.0.0.1:${w.closedTcpPort}`], expect: 'critical' },
  { id: 'ServerStats', params: (w) => ['1s', '0', '2', '8', `127.0.0.1:${w.zk.follower1}`], expect: 'passing' },
  { id: 'ServerStats', params: (w) => ['1s', '0', '1', '8', `127.0.0.1:${w.zk.follower1}`], expect: 'critical', message: /0\/2\/8 above 0\/1\/8/ },
  { id: 'ZooKeeperQuorum', params: p('2s', '/etc/zookeeper/zoo.cfg'), expect: 'passing' },
  { id: 'ZooKeeperQuorum', params: p('2s', '/etc/zookeeper/split.cfg'), expect: 'critical', message: /2 leader/ },
]
