import { test } from 'node:test'
import assert from 'node:assert/strict'
import { applyConfChange, cloneConf, decodeConfChange, encodeConfChange } from '../../../src/raft/core/confchange.js'
import { invalidMessage } from '../../../src/raft/core/validate.js'

test('a staged learner (addServer) is part of the configuration until it is promoted or removed', () => {
  const base = { voters: ['a', 'b', 'c'], learners: [] }
  const staged = applyConfChange(base, { type: 'addLearner', id: 'd', promote: true })
  assert.deepEqual(staged, { voters: ['a', 'b', 'c'], learners: ['d'], staging: ['d'] })
  assert.deepEqual(cloneConf(staged as never), staged, 'a snapshot of the configuration keeps the intent')
  assert.deepEqual(applyConfChange(staged as never, { type: 'promote', id: 'd' }), { voters: ['a', 'b', 'c', 'd'], learners: [] })
  assert.deepEqual(applyConfChange(staged as never, { type: 'remove', id: 'd' }), base)
  // A plain learner is not staged, and the shape of a configuration without staging is unchanged.
  assert.deepEqual(applyConfChange(base, { type: 'addLearner', id: 'd' }), { voters: ['a', 'b', 'c'], learners: ['d'] })
})

test('the promote flag survives encoding, and is refused on anything but addLearner', () => {
  assert.deepEqual(decodeConfChange(encodeConfChange({ type: 'addLearner', id: 'd', promote: true })), { type: 'addLearner', id: 'd', promote: true })
  assert.deepEqual(decodeConfChange(encodeConfChange({ type: 'addLearner', id: 'd' })), { type: 'addLearner', id: 'd' })
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o))
  assert.equal(decodeConfChange(enc({ type: 'remove', id: 'd', promote: true })), undefined)
  assert.equal(decodeConfChange(enc({ type: 'addLearner', id: 'd', promote: 'yes' })), undefined)
})

test('a snapshot whose staging names a server that is not a learner is refused', () => {
  const chunk = (conf: unknown) => ({ type: 'snapshot', from: 'a', to: 'b', term: 2, offset: 0, data: new Uint8Array(), done: true,
    meta: { index: 5, term: 2, size: 0, crc32: 0, conf } })
  assert.equal(invalidMessage(chunk({ voters: ['a'], learners: ['d'], staging: ['d'] })), undefined)
  assert.equal(invalidMessage(chunk({ voters: ['a'], learners: [], staging: ['d'] })), 'bad snapshot staging')
})
