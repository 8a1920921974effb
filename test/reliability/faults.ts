/**
 * The machinery under the faults that need more than signals and proxies: a wall clock that can
 * jump (libfaketime, Debian's `faketime`), fsync that can be slow (a small LD_PRELOAD shim built
 * here with cc), and a data_dir that can fill up (a tmpfs per server). Each is optional: when the
 * machine cannot do it, the fault says why and the run reports it as not run, never as passed.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Member } from './cluster.js'
import { fillUp, mountTmpfs, unmount } from '../helpers/disk.js'

const FAKETIME_LIBS = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1']
const DISK_BYTES = 256 << 20

const SHIM = `
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
/* Sleeps for the milliseconds written in $SLOW_FSYNC_FILE (read on every call) before each sync. */
static void slow(void) {
  const char *path = getenv("SLOW_FSYNC_FILE");
  if (!path) return;
  FILE *f = fopen(path, "r");
  long ms = 0;
  if (f) { if (fscanf(f, "%ld", &ms) != 1) ms = 0; fclose(f); }
  if (ms > 0) { struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L }; nanosleep(&ts, NULL); }
}
int fsync(int fd) { static int (*real)(int); if (!real) real = dlsym(RTLD_NEXT, "fsync"); slow(); return real(fd); }
int fdatasync(int fd) { static int (*real)(int); if (!real) real = dlsym(RTLD_NEXT, "fdatasync"); slow(); return real(fd); }
`

export class Faults {
  readonly #mounts: string[] = []

  private constructor(readonly dir: string, readonly faketime: string | undefined, readonly shim: string | undefined, readonly canMount: boolean, readonly why: Record<string, string>) {}

  static setup(dir: string): Faults {
    const why: Record<string, string> = {}
    const faketime = FAKETIME_LIBS.find((p) => existsSync(p))
    if (!faketime) why.clock = 'libfaketime not installed (apt-get install faketime)'
    let shim: string | undefined = join(dir, 'slow-fsync.so')
    try {
      writeFileSync(join(dir, 'slow-fsync.c'), SHIM)
      execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, join(dir, 'slow-fsync.c'), '-ldl'], { stdio: 'pipe' })
    } catch (err) {
      why.fsync = `could not build the fsync shim with cc: ${(err as Error).message.split('\n')[0]}`
      shim = undefined
    }
    const probe = join(dir, 'mount-probe')
    mkdirSync(probe, { recursive: true })
    const canMount = mountTmpfs(probe, 1 << 20)
    if (canMount) unmount(probe)
    else why.disk = 'cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)'
    return new Faults(dir, faketime, shim, canMount, why)
  }

  clockUnavailable = (): string | undefined => this.why.clock
  fsyncUnavailable = (): string | undefined => this.why.fsync
  diskUnavailable = (): string | undefined => this.why.disk

  /** Before a member first starts: its environment for the shims, and its data_dir on a tmpfs (servers). */
  prepare(m: Member): void {
    const preload = [this.faketime, this.shim].filter((x): x is string => x !== undefined)
    if (preload.length === 0 && !this.canMount) return
    writeFileSync(this.#clockFile(m), '+0s')
    writeFileSync(this.#fsyncFile(m), '0')
    m.env = {
      ...m.env,
      ...(preload.length > 0 ? { LD_PRELOAD: preload.join(' ') } : {}),
      // Only the wall clock jumps (as an NTP step would); timers run on the monotonic clock.
      ...(this.faketime ? { FAKETIME_TIMESTAMP_FILE: this.#clockFile(m), FAKETIME_CACHE_DURATION: '1', DONT_FAKE_MONOTONIC: '1' } : {}),
      ...(this.shim ? { SLOW_FSYNC_FILE: this.#fsyncFile(m) } : {}),
    }
    if (this.canMount && m.kind === 'server') {
      if (!mountTmpfs(m.dataDir, DISK_BYTES)) throw new Error(`could not mount a tmpfs at ${m.dataDir}`)
      this.#mounts.push(m.dataDir)
    }
  }

  setClock(m: Member, offsetSeconds: number): void {
    writeFileSync(this.#clockFile(m), `${offsetSeconds >= 0 ? '+' : ''}${offsetSeconds}s`)
  }

  setFsyncDelay(m: Member, ms: number): void {
    writeFileSync(this.#fsyncFile(m), String(ms))
  }

  /** Fills the member's tmpfs to the last byte; returns the filler file to delete. */
  fillDisk(m: Member): string {
    const file = join(m.dataDir, 'filler')
    fillUp(file)
    return file
  }

  teardown(): void {
    for (const dir of this.#mounts.splice(0)) unmount(dir)
  }

  #clockFile = (m: Member): string => join(this.dir, `${m.name}.clock`)
  #fsyncFile = (m: Member): string => join(this.dir, `${m.name}.fsync`)
}
