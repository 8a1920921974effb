/** Small disks for full-disk faults: a tmpfs mounted where a test says, and a file that fills it. */
import { execFileSync } from 'node:child_process'
import { closeSync, openSync, writeSync } from 'node:fs'

/** Mounts a tmpfs of `bytes` at `dir`; false when this machine does not let us (not root, no CAP_SYS_ADMIN). */
export function mountTmpfs(dir: string, bytes: number): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' })
    return true
  } catch {
    return false
  }
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' })
  } catch {
    // Already gone.
  }
}

/** Writes `file` until its file system has no byte left (ENOSPC). */
export function fillUp(file: string): void {
  const fd = openSync(file, 'w')
  const chunk = Buffer.alloc(64 << 10)
  try {
    for (;;) writeSync(fd, chunk)
  } catch {
    // ENOSPC: full to the last block.
  } finally {
    closeSync(fd)
  }
}
