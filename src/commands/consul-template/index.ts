import { Command } from '@oclif/core'
import { main, USAGE } from '../../ctemplate/main.js'

/**
 * The consul-template face. Its flags follow Go's flag package (`-once`, `-template in:out:cmd`
 * repeated, parsing stops at the first non-flag), which oclif cannot express, so the command takes
 * its argv raw and src/ctemplate/config.ts parses it.
 */
export default class ConsulTemplate extends Command {
  static override summary = 'Watch Consul, render templates to files, run commands, supervise a child (consul-template).'
  static override description = USAGE
  static override strict = false
  static override examples = [
    '<%= config.bin %> consul-template -template "web.ctmpl:/etc/haproxy/haproxy.cfg:systemctl reload haproxy"',
    '<%= config.bin %> consul-template -once -template in.ctmpl:out.txt',
    '<%= config.bin %> consul-template -template zk.ctmpl:/etc/zk/ensemble.env -exec zookeeper-server -exec-reload-signal SIGHUP',
    '<%= config.bin %> consul-template -config /etc/consul-template.d/',
  ]

  async run(): Promise<void> {
    const code = await main(this.argv)
    // Exit explicitly: watchers, timers and the child must not keep the process alive.
    process.exit(code)
  }
}
