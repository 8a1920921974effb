import { test } from 'node:test'
import assert from 'node:assert/strict'
import { failoverOrder } from '../../src/state/prepared-query.js'

test('failover order: the NearestN nearest other datacenters, then the listed ones not yet in; unknown ones named, this one never', () => {
  const nearest = ['dc1', 'dc3', 'dc2', 'dc4']
  assert.deepEqual(failoverOrder({ NearestN: 2 }, 'dc1', nearest), { order: ['dc3', 'dc2'], unknown: [] })
  assert.deepEqual(failoverOrder({ NearestN: 1, Datacenters: ['dc4', 'dc3', 'dc9', 'dc1'] }, 'dc1', nearest), { order: ['dc3', 'dc4'], unknown: ['dc9'] })
  assert.deepEqual(failoverOrder({ Datacenters: ['dc2'] }, 'dc1', nearest), { order: ['dc2'], unknown: [] })
  assert.deepEqual(failoverOrder({ NearestN: 10 }, 'dc1', nearest).order, ['dc3', 'dc2', 'dc4'])
  assert.deepEqual(failoverOrder(undefined, 'dc1', nearest), { order: [], unknown: [] })
})
