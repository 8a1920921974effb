/**
 * Random catalogs (seeded), each service lookup compared with a naive reference computed from
 * the registrations alone: the router's filtering (tags, health, only_passing, maintenance) and
 * its cache must agree with the plain rule, before and after random check changes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { World, rand, datas } from './world.js'

const SEEDS = 40
const NODES = 12
const SERVICES = ['api', 'db', 'web']
const TAGS = ['blue', 'green', 'v1']
const STATUSES = ['passing', 'warning', 'critical'] as const

interface Instance {
  node: string
  address: string
  service: string
  tags: string[]
  status: (typeof STATUSES)[number]
  nodeStatus: (typeof STATUSES)[number]
}

function expected(instances: Instance[], service: string, tag: string | undefined, onlyPassing: boolean): string[] {
  const ok = (s: Instance['status']): boolean => s === 'passing' || (s === 'warning' && !onlyPassing)
  return [...new Set(instances.filter((i) => i.service === service && (tag === undefined || i.tags.includes(tag)) && ok(i.status) && ok(i.nodeStatus)).map((i) => i.address))].sort()
}

test(`random catalogs (${SEEDS} seeds): service answers equal a naive filter, also after check changes`, () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = rand(seed)
    const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!
    const onlyPassing = r() < 0.3
    const w = new World({ dns_config: { only_passing: onlyPassing } }, seed)
    const instances: Instance[] = []
    for (let n = 0; n < NODES; n++) {
      const node = `n${n}`
      const address = `10.3.0.${n + 1}`
      w.node(node, address)
      const nodeStatus = pick(STATUSES)
      for (const service of SERVICES) {
        if (r() < 0.4) continue
        const inst: Instance = { node, address, service, tags: TAGS.filter(() => r() < 0.4), status: pick(STATUSES), nodeStatus }
        instances.push(inst)
        w.service(node, address, { name: service, tags: inst.tags, status: inst.status, nodeStatus })
      }
    }
    const check = (): void => {
      for (const service of SERVICES) {
        for (const tag of [undefined, ...TAGS]) {
          const name = `${tag ? `${tag}.` : ''}${service}.service.consul`
          const want = expected(instances, service, tag, onlyPassing)
          const got = w.ask(name, 'A', { transport: 'tcp' })
          assert.deepEqual(datas(got.answers, 'A'), want, `seed ${seed}: ${name}`)
          assert.equal(got.rcode, want.length ? 'NOERROR' : 'NXDOMAIN', `seed ${seed}: ${name}`)
        }
      }
    }
    check()
    // Change some checks; the cache must not serve what was true before.
    for (let k = 0; k < 5 && instances.length > 0; k++) {
      const inst = pick(instances)
      inst.status = pick(STATUSES)
      w.setCheck(inst.node, `service:${inst.service}`, inst.status, inst.service)
    }
    check()
  }
})
