import { Args, Flags } from '@oclif/core'
import { ApiCommand } from '../../client/api-command.js'
import { getField, parseKvFlags, servicesFromFiles, setField } from '../../client/service-files.js'

export default class ServicesRegister extends ApiCommand<typeof ServicesRegister> {
  static override summary = 'Register services with the local agent.'
  static override description =
    'Registers one or more services from Consul service definition files ({"service": {...}} or {"services": [...]}, JSON), or a single service from flags. Flags fill in what a file leaves out (tags and meta are added). The service stays registered until `consul services deregister`.'
  static override examples = [
    '<%= config.bin %> services register web.json',
    '<%= config.bin %> services register -name=web -port=8080 -tag=v1 -tag=primary -meta=team=a',
    '<%= config.bin %> services register -name=web -id=web-2 -address=10.0.0.2 -port=8080',
  ]
  static override strict = false
  static override args = { file: Args.string({ description: 'Service definition file(s)' }) }
  static override flags = {
    id: Flags.string({ description: 'Service ID for flag-based registration (default: the name).' }),
    name: Flags.string({ description: 'Service name for flag-based registration.' }),
    address: Flags.string({ description: 'Service address.' }),
    port: Flags.integer({ description: 'Service port.', min: 0, max: 65535 }),
    tag: Flags.string({ description: 'A tag; repeat for more.', multiple: true, multipleNonGreedy: true }),
    meta: Flags.string({ description: 'Metadata as key=value; repeat for more.', multiple: true, multipleNonGreedy: true }),
    'tagged-address': Flags.string({ description: 'Tagged address as key=address[:port]; repeat for more.', multiple: true, multipleNonGreedy: true }),
    kind: Flags.string({ description: 'The service kind.' }),
  }

  async run(): Promise<void> {
    const f = this.flags
    const files = this.positional
    if (files.length === 0 && !f.name) this.error('Service registration requires at least one argument or flags.', { exit: 1 })
    if (files.length > 0 && f.name) this.error('Service registration requires arguments or -id, not both.', { exit: 1 })

    const meta = parseKvFlags(f.meta, 'meta')
    const tagged: Record<string, { Address: string; Port: number }> = {}
    for (const [k, v] of Object.entries(parseKvFlags(f['tagged-address'], 'tagged-address'))) {
      const m = /^(.*?)(?::(\d+))?$/.exec(v)!
      tagged[k] = { Address: m[1]!, Port: m[2] ? Number(m[2]) : 0 }
    }
    const fromFlags: Record<string, unknown> = {
      ...(f.kind ? { Kind: f.kind } : {}),
      ...(f.id ? { ID: f.id } : {}),
      Name: f.name ?? '',
      ...(f.address ? { Address: f.address } : {}),
      ...(f.port ? { Port: f.port } : {}),
      ...(f.tag?.length ? { Tags: f.tag } : {}),
      ...(Object.keys(meta).length ? { Meta: meta } : {}),
      ...(Object.keys(tagged).length ? { TaggedAddresses: tagged } : {}),
    }

    let services: Array<Record<string, unknown>>
    if (files.length > 0) {
      try {
        services = await servicesFromFiles(files)
      } catch (err) {
        this.error(`Error: ${(err as Error).message}`, { exit: 1 })
      }
      // Consul's rule: a flag fills a field the file leaves empty; tags and meta are added.
      for (const svc of services) {
        for (const field of ['ID', 'Name', 'Address', 'Port', 'Kind']) {
          if (fromFlags[field] && !getField(svc, field)) setField(svc, field, fromFlags[field])
        }
        if (f.tag?.length) setField(svc, 'Tags', [...((getField(svc, 'Tags') as string[] | undefined) ?? []), ...f.tag])
        if (Object.keys(meta).length) setField(svc, 'Meta', { ...((getField(svc, 'Meta') as Record<string, string> | undefined) ?? {}), ...meta })
        if (Object.keys(tagged).length)
          setField(svc, 'TaggedAddresses', { ...((getField(svc, 'TaggedAddresses') as Record<string, unknown> | undefined) ?? {}), ...tagged })
      }
    } else services = [fromFlags]

    for (const svc of services) {
      const name = String(getField(svc, 'Name') ?? '')
      try {
        await this.client.agentServiceRegister(svc)
      } catch (err) {
        this.error(`Error registering service "${name}": ${(err as Error).message}`, { exit: 1 })
      }
      this.log(`Registered service: ${name}`)
    }
  }
}
