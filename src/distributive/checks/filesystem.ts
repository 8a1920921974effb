import { createReadStream } from 'node:fs'
import { lstat, readFile } from 'node:fs/promises'
import type { Host } from '../host.js'
import { parsePath, parsePercent, parseRegex } from '../params.js'
import { fail, pass, ParamError, unknown, type CheckDef, type CheckResult } from '../types.js'

/** Upstream's parse-time algorithm names; the digest is compared as lower-case hex. */
const CHECKSUM_ALGORITHMS: Record<string, string> = {
  MD5: 'md5',
  SHA1: 'sha1',
  SHA224: 'sha224',
  SHA256: 'sha256',
  SHA384: 'sha384',
  SHA512: 'sha512',
}

/** A missing file is a failed check (upstream's code 2 counted as "Other" and let the run pass); other errors say why. */
function fsError(err: unknown, p: string): CheckResult {
  const e = err as NodeJS.ErrnoException
  if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return fail(`No such file or directory: ${p}`)
  if (e.code === 'EACCES' || e.code === 'EPERM') return unknown(`Permission denied: ${p}`)
  return unknown(`${p}: ${e.message}`)
}

function kindCheck(names: string[], want: 'file' | 'directory' | 'symlink'): CheckDef {
  return {
    names,
    params: 1,
    summary: `the path is a ${want === 'file' ? 'regular file' : want}${want === 'symlink' ? '' : ' (not a symlink)'}`,
    parse: ([p]) => {
      const target = parsePath(p!)
      return async (host) => {
        try {
          const st = await lstat(host.path(target))
          const ok = want === 'file' ? st.isFile() : want === 'directory' ? st.isDirectory() : st.isSymbolicLink()
          if (ok) return pass()
          const is = st.isSymbolicLink() ? 'a symlink' : st.isDirectory() ? 'a directory' : st.isFile() ? 'a regular file' : 'a special file'
          return fail(`Not a ${want === 'file' ? 'regular file' : want}: ${target} is ${is}`)
        } catch (err) {
          return fsError(err, target)
        }
      }
    },
  }
}

async function digest(algorithm: string, file: string, signal: AbortSignal): Promise<string> {
  const { createHash } = await import('node:crypto') // loaded by runs that checksum, not by every start-up
  const hash = createHash(algorithm)
  for await (const chunk of createReadStream(file, { signal })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Go's FileMode.Perm().String(): always a leading `-`, then rwx triplets. */
export function permString(mode: number): string {
  const chars = 'rwxrwxrwx'
  let out = '-'
  for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? chars[i] : '-'
  return out
}

async function statfsUsage(host: Host, p: string, kind: 'blocks' | 'inodes'): Promise<number> {
  const st = await host.statfs(host.path(p))
  if (kind === 'blocks') return st.blocks === 0 ? 0 : Math.floor(((st.blocks - st.bavail) / st.blocks) * 100)
  return st.files === 0 ? 0 : Math.floor(((st.files - st.ffree) / st.files) * 100)
}

/** Mount points whose source (df's first column) is `fs`, from /proc/self/mounts. */
async function mountPointsOf(host: Host, fs: string): Promise<string[]> {
  const text = await readFile(host.proc('self/mounts'), 'utf8')
  const points: string[] = []
  for (const line of text.split('\n')) {
    const [source, point] = line.split(' ')
    // /proc/mounts escapes spaces and tabs in paths as octal.
    if (source === fs && point) points.push(point.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
  }
  return points
}

export const filesystemChecks: CheckDef[] = [
  kindCheck(['file'], 'file'),
  kindCheck(['directory'], 'directory'),
  kindCheck(['symlink'], 'symlink'),
  {
    names: ['checksum'],
    params: 3,
    summary: 'the file has this digest (MD5, SHA1, SHA224, SHA256, SHA384, SHA512; hex)',
    parse: ([alg, expected, p]) => {
      const algorithm = CHECKSUM_ALGORITHMS[alg!.toUpperCase()]
      if (!algorithm) throw new ParamError(`unknown checksum algorithm ${JSON.stringify(alg)} (one of ${Object.keys(CHECKSUM_ALGORITHMS).join(', ')})`)
      const file = parsePath(p!)
      const want = expected!.trim().toLowerCase()
      return async (host, signal) => {
        let got: string
        try {
          got = await digest(algorithm, host.path(file), signal)
        } catch (err) {
          return fsError(err, file)
        }
        return got === want ? pass() : fail(`Checksums do not match for file: ${file}\n\tGiven: ${want}\n\tCalculated: ${got}`)
      }
    },
  },
  {
    names: ['fileMatches', 'fileContains'],
    params: 2,
    summary: 'the file contents match the regular expression',
    parse: ([p, pattern]) => {
      const file = parsePath(p!)
      const re = parseRegex(pattern!)
      return async (host) => {
        let text: string
        try {
          text = await readFile(host.path(file), 'utf8')
        } catch (err) {
          return fsError(err, file)
        }
        return re.test(text) ? pass() : fail(`File does not match regexp:\n\tFile: ${file}\n\tRegexp: ${pattern}`)
      }
    },
  },
  {
    names: ['permissions'],
    params: 2,
    summary: 'the permission bits read like `-rw-r--r--` (setuid/sticky bits ignored)',
    parse: ([p, mode]) => {
      const file = parsePath(p!)
      if (!/^-([r-][w-][x-]){3}$/.test(mode!)) throw new ParamError(`bad permissions ${JSON.stringify(mode)} (10 characters, like -rw-r--r--)`)
      return async (host) => {
        try {
          const got = permString((await lstat(host.path(file))).mode)
          return got === mode ? pass() : fail(`Incorrect file permissions:\n\tFile: ${file}\n\tSpecified: ${mode}\n\tActual: ${got}`)
        } catch (err) {
          return fsError(err, file)
        }
      }
    },
  },
  {
    names: ['diskUsage'],
    params: 2,
    summary: 'disk usage of the filesystem holding the path is below the percentage',
    parse: ([p, max]) => {
      const target = parsePath(p!)
      const limit = parsePercent(max!)
      return async (host) => {
        try {
          const used = await statfsUsage(host, target, 'blocks')
          return used < limit ? pass() : fail(`Disk usage above maximum:\n\tPath: ${target}\n\tMaximum: ${limit}%\n\tActual: ${used}%`)
        } catch (err) {
          return fsError(err, target)
        }
      }
    },
  },
  {
    names: ['inodeUsage'],
    params: 2,
    summary: 'inode usage of the filesystem (df -i first column, or a mount path) is below the percentage',
    parse: ([fs, max]) => {
      if (!fs) throw new ParamError('empty filesystem name')
      const limit = parsePercent(max!)
      return async (host) => {
        let points: string[]
        try {
          points = fs.startsWith('/') && !fs.startsWith('/dev/') ? [fs] : await mountPointsOf(host, fs)
        } catch (err) {
          return unknown(`cannot read the mount table: ${(err as Error).message}`)
        }
        if (points.length === 0) return fail(`No such filesystem mounted: ${fs}`)
        let worst = 0
        for (const point of points) {
          try {
            worst = Math.max(worst, await statfsUsage(host, point, 'inodes'))
          } catch (err) {
            return fsError(err, point)
          }
        }
        return worst < limit ? pass() : fail(`Inode usage above maximum:\n\tFilesystem: ${fs}\n\tMaximum: ${limit}%\n\tActual: ${worst}%`)
      }
    },
  },
]

