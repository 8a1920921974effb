/**
 * consul-template's CLI flow (upstream cli.go): parse flags (exit 13), load config files (exit 15),
 * start the runner, then wait for it to finish (0 in -once mode, 14 on a runner error, the child's
 * code in exec mode) or for a signal: the kill signal stops everything (exit 12), the reload signal
 * restarts the runner with re-read config and templates, any other signal goes to the child.
 */
import { appendFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { VERSION } from '../version.js'
import { ConfigError, EXIT, loadConfig, type CliResult } from './config.js'
import { Logger } from '../lib/line-log.js'
import { Runner } from './runner.js'

export const USAGE = `Usage: consul-template [options]

  Watches a series of templates on the file system, writing new changes when
  Consul is updated. It runs until an interrupt is received unless the -once
  flag is specified.

Options:
  -config=<path>              Config file or folder (repeatable; HCL or JSON)
  -consul-addr=<address>      Consul agent address (env CONSUL_HTTP_ADDR)
  -consul-token=<token>       ACL token (env CONSUL_HTTP_TOKEN, CONSUL_TOKEN)
  -consul-ssl, -consul-ssl-verify, -consul-ssl-ca-cert, -consul-ssl-cert, -consul-ssl-key
  -consul-retry, -consul-retry-attempts (12), -consul-retry-backoff (250ms), -consul-retry-max-backoff (1m)
  -template="in:out[:command]"  A template to render (repeatable)
  -exec=<command>             Run and supervise a child once every template rendered
  -exec-reload-signal, -exec-kill-signal (SIGINT), -exec-kill-timeout (30s), -exec-splay
  -exec-env-pristine, -exec-env-custom, -exec-env-allowlist, -exec-env-denylist
  -wait=min[:max]             Quiescence timers (max defaults to 4×min)
  -once                       Render every template once, run commands, exit 0
  -dry                        Print "> PATH" and the content instead of writing
  -max-stale=<duration>       Allow stale reads up to this old (2s)
  -kill-signal (SIGINT), -reload-signal (SIGHUP), -log-level (warn), -pid-file
  -template-error-fatal=<bool>, -parse-only, -v, -version

Exit codes: 0 ok, 11 error, 12 interrupt, 13 flag error, 14 runner error,
15 config error; in exec mode the child's exit code.
`

export interface MainIo {
  stdout: (s: string) => void
  stderr: (s: string) => void
  env: NodeJS.ProcessEnv
}

const defaultIo: MainIo = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), env: process.env }

/** Period of the timer that keeps the process alive while it waits for signals. */
const KEEPALIVE_MS = 1 << 30

/** Signals consul-template listens for (Node cannot trap SIGKILL/SIGSTOP; listening for SIGUSR1 turns off Node's inspector trigger, so it is forwarded like the others). */
const MONITORED = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGALRM'] as const

export async function main(args: readonly string[], io: MainIo = defaultIo): Promise<number> {
  const log = new Logger('warn', io.stderr)
  let cli: CliResult
  try {
    cli = loadConfig(args, io.env)
  } catch (err) {
    if (err instanceof ConfigError && err.exitCode === EXIT.parseFlags) {
      io.stderr(err.message + '\n')
      return EXIT.parseFlags
    }
    log.err('cli', (err as Error).message)
    return EXIT.config
  }
  if (cli.help) {
    io.stdout(USAGE)
    return EXIT.ok
  }
  log.setLevel(cli.config.logLevel)
  if (cli.config.logFile) {
    const file = cli.config.logFile
    log.addSink((line) => {
      try {
        appendFileSync(file, line)
      } catch {
        // A log file that cannot be written must not stop the templates.
      }
    })
  }
  for (const what of cli.config.unsupported) log.warn('cli', `${what} is accepted for compatibility but not supported by this consul-template; ignored`)
  if (cli.version) {
    io.stdout(`consul-template v${VERSION} (consulate)\n`)
    return EXIT.ok
  }
  const cfg = cli.config
  log.info('cli', `consul-template v${VERSION} (consulate)`)

  let runner: Runner
  const newRunner = (c: typeof cfg): Runner => new Runner({ config: c, log, stdout: io.stdout, env: io.env })
  try {
    runner = newRunner(cfg)
  } catch (err) {
    log.err('cli', (err as Error).message)
    return EXIT.runner
  }
  if (cfg.parseOnly) {
    try {
      runner.parseOnly()
    } catch (err) {
      log.err('cli', (err as Error).message)
      return EXIT.runner
    }
    return EXIT.ok
  }
  if (cfg.pidFile) {
    try {
      writeFileSync(cfg.pidFile, `${process.pid}`)
    } catch (err) {
      log.err('cli', `runner: could not write to pid file: ${(err as Error).message}`)
      return EXIT.runner
    }
  }

  let settle!: (code: number) => void
  const finished = new Promise<number>((r) => (settle = r))
  const watch = (r: Runner): void => {
    void r.done.then((res) => {
      if (r !== runner) return // replaced by a reload
      if (res.error) log.err('cli', res.error)
      settle(res.code)
    })
  }

  const onSignal = (sig: NodeJS.Signals): void => {
    log.debug('cli', `receiving signal "${sig}"`)
    if (sig === cfg.reloadSignal) {
      io.stderr('Reloading configuration...\n')
      void (async () => {
        await runner.stop()
        try {
          const again = loadConfig(args, io.env).config
          runner = newRunner(again)
        } catch (err) {
          log.err('cli', (err as Error).message)
          settle(err instanceof ConfigError ? EXIT.config : EXIT.runner)
          return
        }
        watch(runner)
        runner.start()
      })()
      return
    }
    // The kill signal, and SIGTERM when there is no child to forward it to, stop consul-template.
    if (sig === cfg.killSignal || (sig === 'SIGTERM' && !runner.hasChild)) {
      io.stderr('Cleaning up...\n')
      void runner.stop().then(() => settle(EXIT.interrupt))
      return
    }
    runner.signal(sig)
  }
  for (const s of MONITORED) process.on(s, onSignal)

  watch(runner)
  runner.start()
  // consul-template runs until a signal even when nothing is being watched (templates without
  // dependencies); signal listeners alone do not keep Node's event loop alive.
  const keepAlive = setInterval(() => undefined, KEEPALIVE_MS)
  const code = await finished
  clearInterval(keepAlive)
  for (const s of MONITORED) process.off(s, onSignal)
  if (cfg.pidFile) {
    try {
      unlinkSync(cfg.pidFile)
    } catch {
      // already gone
    }
  }
  return code
}
