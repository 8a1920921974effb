import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { AclDisabledError, AclNotFoundError, PermissionDeniedError } from '../../src/acl/errors.js'
import { HIDDEN_SECRET } from '../../src/server/acl-endpoint.js'
import { RejectedError, fromWireError, toWireError } from '../../src/server/errors.js'
import { ANONYMOUS_TOKEN_ACCESSOR, GLOBAL_MANAGEMENT_POLICY_ID } from '../../src/state/acl.js'
import { Fsm } from '../../src/state/fsm.js'
import { StateStore } from '../../src/state/store.js'
import { settle, setup } from './harness.js'

const MASTER = 'c0ffee00-0000-4000-8000-000000000001'

async function aclServer(opts: { defaultPolicy?: 'allow' | 'deny'; reset?: () => number } = {}) {
  const h = setup({
    leader: true,
    more: {
      newId: randomUUID,
      acl: { enabled: true, defaultPolicy: opts.defaultPolicy ?? 'deny' },
      aclInitialManagement: MASTER,
      ...(opts.reset ? { aclResetIndex: opts.reset } : {}),
    },
  })
  h.server.start()
  await settle(h.clock)
  return h
}

const rejected = (re: RegExp) => (err: unknown) => err instanceof RejectedError && re.test(err.message)

test('the leader creates the built-ins: global-management, anonymous, the initial management token', async () => {
  const { server } = await aclServer()
  const { value: policy } = await server.acl.policyRead({ id: GLOBAL_MANAGEMENT_POLICY_ID, token: MASTER })
  assert.equal(policy?.Name, 'global-management')
  const { value: anon } = await server.acl.tokenRead({ id: ANONYMOUS_TOKEN_ACCESSOR, token: MASTER })
  assert.equal(anon?.SecretID, 'anonymous')
  const { value: self } = await server.acl.tokenRead({ id: '', self: true, token: MASTER })
  assert.deepEqual(self?.Policies, [{ ID: GLOBAL_MANAGEMENT_POLICY_ID, Name: 'global-management' }])
  server.stop()
})

test('bootstrap once: exactly one of ten concurrent callers wins; later ones see the reset index', async () => {
  let reset = 0
  const { server } = await aclServer({ reset: () => reset })
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => server.acl.bootstrap({})))
  const won = results.filter((r) => r.status === 'fulfilled')
  assert.equal(won.length, 1)
  const token = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof server.acl.bootstrap>>>).value
  assert.match(token.value.SecretID, /^[0-9a-f-]{36}$/)
  assert.equal(token.value.Description, 'Bootstrap Token (Global Management)')
  for (const r of results) if (r.status === 'rejected') assert.match((r.reason as Error).message, new RegExp(`^ACL bootstrap no longer allowed \\(reset index: ${token.index}\\)$`))
  // The operator writes the reset index to acl-bootstrap-reset: one more bootstrap is allowed.
  reset = token.index
  const again = await server.acl.bootstrap({})
  assert.notEqual(again.value.SecretID, token.value.SecretID)
  await assert.rejects(server.acl.bootstrap({}), /no longer allowed/)
})

test('policies and tokens: create, read, link by name, hide secrets, refuse what Consul refuses', async () => {
  const { server } = await aclServer()
  const { value: web } = await server.acl.policySet({ token: MASTER, create: true, policy: { Name: 'web', Rules: 'key_prefix "web/" { policy = "write" }' } })
  assert.match(web.ID, /^[0-9a-f-]{36}$/)
  await assert.rejects(server.acl.policySet({ token: MASTER, create: true, policy: { Name: 'web', Rules: '' } }), rejected(/A Policy with Name "web" already exists/))
  await assert.rejects(server.acl.policySet({ token: MASTER, create: true, policy: { Name: 'bad name', Rules: '' } }), rejected(/invalid Name/))
  await assert.rejects(server.acl.policySet({ token: MASTER, create: true, policy: { Name: 'x', Rules: 'key "a" {\n policy = "nope" }' } }), rejected(/^Invalid Policy: Invalid key policy.*\(line 1\)/))
  await assert.rejects(server.acl.policyDelete({ token: MASTER, id: GLOBAL_MANAGEMENT_POLICY_ID }), rejected(/not permitted on the builtin global-management/))

  const { value: tok } = await server.acl.tokenSet({ token: MASTER, create: true, fields: { Description: 'deployer', Policies: [{ Name: 'web' }] } })
  assert.deepEqual(tok.Policies, [{ ID: web.ID, Name: 'web' }])
  await assert.rejects(server.acl.tokenSet({ token: MASTER, create: true, fields: { Policies: [{ Name: 'nope' }] } }), rejected(/No such ACL policy with name "nope"/))
  await assert.rejects(server.acl.tokenSet({ token: MASTER, create: true, fields: { AccessorID: 'not-a-uuid' } }), rejected(/AccessorID is not a valid UUID/))
  await assert.rejects(server.acl.tokenSet({ token: MASTER, create: true, fields: { ExpirationTTL: '10s' } }), rejected(/should be between 1m0s and 24h0m0s/))

  // The token may use its own rules, but not the ACL API: and a reader without acl:write sees no secrets.
  await assert.rejects(server.acl.tokenList({ token: tok.SecretID }), (err: unknown) => err instanceof PermissionDeniedError && /lacks permission 'acl:read'/.test(err.message))
  const { value: reader } = await server.acl.policySet({ token: MASTER, create: true, policy: { Name: 'reader', Rules: 'acl = "read"' } })
  const { value: readTok } = await server.acl.tokenSet({ token: MASTER, create: true, fields: { Policies: [{ ID: reader.ID }] } })
  const { value: listed } = await server.acl.tokenList({ token: readTok.SecretID })
  assert.ok(listed.length >= 4)
  assert.ok(listed.every((t) => t.SecretID === HIDDEN_SECRET))
  const { value: mine } = await server.acl.tokenRead({ id: '', self: true, token: readTok.SecretID })
  assert.equal(mine?.SecretID, readTok.SecretID, 'one reads one\'s own secret')

  // Renaming a policy shows in the tokens that link it; deleting it drops the link.
  await server.acl.policySet({ token: MASTER, create: false, policy: { ID: web.ID, Name: 'web-v2', Rules: web.Rules } })
  assert.deepEqual((await server.acl.tokenRead({ id: tok.AccessorID, token: MASTER })).value?.Policies, [{ ID: web.ID, Name: 'web-v2' }])
  await server.acl.policyDelete({ token: MASTER, id: web.ID })
  assert.deepEqual((await server.acl.tokenRead({ id: tok.AccessorID, token: MASTER })).value?.Policies, [])

  // Filters, clone, delete.
  assert.deepEqual((await server.acl.tokenList({ token: MASTER, policy: reader.ID })).value.map((t) => t.AccessorID), [readTok.AccessorID])
  const { value: clone } = await server.acl.tokenClone({ token: MASTER, id: readTok.AccessorID, description: 'copy' })
  assert.notEqual(clone.SecretID, readTok.SecretID)
  assert.equal(clone.Description, 'copy')
  assert.deepEqual(clone.Policies, [{ ID: reader.ID, Name: 'reader' }])
  await server.acl.tokenDelete({ token: MASTER, id: clone.AccessorID })
  assert.throws(() => server.acl.gate.identity(clone.SecretID), AclNotFoundError)
  await assert.rejects(server.acl.tokenDelete({ token: MASTER, id: ANONYMOUS_TOKEN_ACCESSOR }), rejected(/anonymous token/))
})

test('roles carry policies and identities into the tokens that hold them', async () => {
  const { server } = await aclServer()
  const { value: kv } = await server.acl.policySet({ token: MASTER, create: true, policy: { Name: 'kv', Rules: 'key_prefix "app/" { policy = "read" }' } })
  const { value: role } = await server.acl.roleSet({ token: MASTER, create: true, role: { Name: 'ops', Policies: [{ ID: kv.ID }], ServiceIdentities: [{ ServiceName: 'web' }] } })
  const { value: tok } = await server.acl.tokenSet({ token: MASTER, create: true, fields: { Roles: [{ Name: 'ops' }], NodeIdentities: [{ NodeName: 'n1', Datacenter: 'dc1' }] } })
  const who = server.acl.gate.identity(tok.SecretID)
  assert.equal(who.authorizer.allowed('key', 'app/x', 'read'), true)
  assert.equal(who.authorizer.allowed('key', 'app/x', 'write'), false)
  assert.equal(who.authorizer.allowed('service', 'web', 'write'), true)
  assert.equal(who.authorizer.allowed('service', 'db', 'read'), true)
  assert.equal(who.authorizer.allowed('node', 'n1', 'write'), true)
  assert.equal(who.authorizer.allowed('node', 'n2', 'write'), false)
  await assert.rejects(server.acl.roleSet({ token: MASTER, create: true, role: { Name: 'ops' } }), rejected(/A Role with Name "ops" already exists/))
  await assert.rejects(server.acl.tokenSet({ token: MASTER, create: true, fields: { ServiceIdentities: [{ ServiceName: 'Web!' }] } }), rejected(/has an invalid name/))
  // A change to the role reaches the token at once (the cache follows the tables' index).
  await server.acl.roleSet({ token: MASTER, create: false, role: { ID: role.ID, Name: 'ops', Policies: [] } })
  assert.equal(server.acl.gate.identity(tok.SecretID).authorizer.allowed('key', 'app/x', 'read'), false)
})

test('identity: no token is the anonymous token under the default policy; an unknown or expired secret is ACL not found', async () => {
  const { server, clock } = await aclServer({ defaultPolicy: 'deny' })
  const anon = server.acl.gate.identity(undefined)
  assert.equal(anon.accessor, ANONYMOUS_TOKEN_ACCESSOR)
  assert.equal(anon.authorizer.allowed('key', 'x', 'read'), false)
  assert.throws(() => server.acl.gate.identity('no-such-secret'), AclNotFoundError)
  const { value: short } = await server.acl.tokenSet({ token: MASTER, create: true, fields: { ExpirationTTL: '1m' } })
  assert.ok(short.ExpirationTime)
  assert.equal(server.acl.gate.identity(short.SecretID).accessor, short.AccessorID)
  clock.advance(61_000)
  assert.throws(() => server.acl.gate.identity(short.SecretID), AclNotFoundError)
  assert.equal((await server.acl.tokenRead({ id: short.AccessorID, token: MASTER })).value, undefined)
})

test('the leader reaps expired tokens through raft, in batches, and leaves the others', async () => {
  const { server, clock, raft, logs } = await aclServer()
  const { state } = raft
  const made = await Promise.all(Array.from({ length: 1100 }, () => server.acl.tokenSet({ token: MASTER, create: true, fields: { ExpirationTTL: '1m' } })))
  const { value: lasting } = await server.acl.tokenSet({ token: MASTER, create: true, fields: { ExpirationTTL: '1h' } })
  const { value: forever } = await server.acl.tokenSet({ token: MASTER, create: true, fields: {} })
  const before = state.acl.tokens.size
  clock.advance(61_000)
  await settle(clock)
  clock.advance(10_000)
  await settle(clock)
  assert.equal(state.acl.tokens.size, before - made.length, 'every expired token is gone from the table')
  for (const id of [lasting.AccessorID, forever.AccessorID]) assert.ok(state.acl.tokens.get(id))
  assert.ok(logs.some((l) => /acl: reaped 1024 expired tokens/.test(l)) && logs.some((l) => /acl: reaped 76 expired tokens/.test(l)), 'two batches')
  // The time is in the command: applied later (a replay, a slow follower), it deletes the same tokens.
  const replay = new StateStore().acl
  replay.apply(1, { Op: 'token-set', Token: { ...lasting, ExpirationTime: new Date(clock.now() + 60_000).toISOString() }, Create: true })
  assert.equal(replay.apply(2, { Op: 'token-reap', AccessorIDs: [lasting.AccessorID], Now: clock.now() }).ok, true)
  assert.ok(replay.tokens.get(lasting.AccessorID), 'not expired at the command\'s time: kept')
  replay.apply(3, { Op: 'token-reap', AccessorIDs: [lasting.AccessorID], Now: clock.now() + 60_000 })
  assert.equal(replay.tokens.get(lasting.AccessorID), undefined)
  server.stop()
})

test('the legacy API: create, info, update, list, destroy, with client and management types', async () => {
  const { server } = await aclServer()
  const { value: id } = await server.acl.legacyApply({ token: MASTER, op: 'set', create: true, acl: { Name: 'client', Type: 'client', Rules: 'key "web/" { policy = "write" }' } })
  const { value: [info] } = await server.acl.legacyGet({ id, token: MASTER })
  assert.deepEqual({ ...info, CreateIndex: 0, ModifyIndex: 0 }, { ID: id, Name: 'client', Type: 'client', Rules: 'key "web/" { policy = "write" }', CreateIndex: 0, ModifyIndex: 0 })
  // Legacy rules match by prefix.
  assert.equal(server.acl.gate.identity(id).authorizer.allowed('key', 'web/deep/x', 'write'), true)
  assert.equal(server.acl.gate.identity(id).authorizer.allowed('key', 'db/x', 'read'), false)
  await server.acl.legacyApply({ token: MASTER, op: 'set', create: false, acl: { ID: id, Name: 'promoted', Type: 'management' } })
  assert.equal(server.acl.gate.identity(id).authorizer.isManagement, true)
  const { value: all } = await server.acl.legacyList({ token: MASTER })
  assert.ok(all.some((a) => a.ID === id && a.Type === 'management' && a.Name === 'promoted'))
  assert.ok(all.some((a) => a.ID === MASTER && a.Type === 'management'))
  // A chosen ID (as python-consul's create(acl_id=...) sends) becomes the secret.
  const chosen = randomUUID()
  assert.equal((await server.acl.legacyApply({ token: MASTER, op: 'set', create: true, acl: { ID: chosen, Name: 'c' } })).value, chosen)
  await assert.rejects(server.acl.legacyApply({ token: MASTER, op: 'set', create: true, acl: { Name: 'x', Rules: 'key_prefix "a" { policy = "read" }' } }), rejected(/ACL rule compilation failed/))
  await server.acl.legacyApply({ token: MASTER, op: 'delete', id })
  assert.deepEqual((await server.acl.legacyGet({ id, token: MASTER })).value, [])
})

test('with ACLs off the ACL endpoints say so (401 at the edge) and every caller may do everything', async () => {
  const { server } = setup({ leader: true })
  await assert.rejects(server.acl.bootstrap({}), AclDisabledError)
  await assert.rejects(server.acl.tokenList({}), AclDisabledError)
  assert.equal(server.acl.gate.identity('anything').authorizer.allowed('acl', '', 'write'), true)
})

test('ACL errors cross the wire typed', () => {
  for (const err of [new AclDisabledError(), new AclNotFoundError(), new PermissionDeniedError('acc', 'key:write', 'db/x'), new PermissionDeniedError('acc', 'operator:read', undefined)]) {
    const back = fromWireError(toWireError(err))
    assert.equal(back.constructor, err.constructor)
    assert.equal(back.message, err.message)
  }
})

test('the ACL tables survive a snapshot and restore', async () => {
  const { server, raft } = await aclServer()
  await server.acl.policySet({ token: MASTER, create: true, policy: { Name: 'p', Rules: 'operator = "read"' } })
  await server.acl.bootstrap({})
  const text = new Fsm(raft.state).snapshotText()
  const copy = new StateStore()
  new Fsm(copy).restoreText(text)
  assert.deepEqual(copy.acl.dump(), raft.state.acl.dump())
  assert.equal(copy.acl.tokenBySecret(MASTER)?.Description, 'Initial Management Token')
  assert.equal(copy.acl.policyByName('p')?.Rules, 'operator = "read"')
})

test('a follower checks a token after its read barrier: one just made is known, one just deleted is refused; ?stale uses its own tables', async () => {
  const leader = await aclServer()
  const follower = setup({ leader: false, more: { newId: randomUUID, acl: { enabled: true, defaultPolicy: 'deny' } } })
  const sync = (): void => new Fsm(follower.raft.state).restoreText(new Fsm(leader.raft.state).snapshotText())
  sync()
  await leader.server.acl.policySet({ token: MASTER, create: true, policy: { Name: 'kv-read', Rules: 'key_prefix "" { policy = "read" }' } })
  const { value: token } = await leader.server.acl.tokenSet({ token: MASTER, create: true, fields: { Policies: [{ Name: 'kv-read' }] } })
  // The follower has not applied the token yet; its barrier brings it up to the leader.
  follower.raft.catchUp = sync
  const read = (consistency?: 'stale') => follower.server.kvs.get({ key: 'x', token: token.SecretID, ...(consistency ? { consistency } : {}) })
  await assert.rejects(read('stale'), AclNotFoundError, 'stale: the follower\'s own tables, where the token is not yet')
  assert.deepEqual((await read()).value, [], 'default: checked after the barrier')
  assert.deepEqual((await follower.server.kvs.list({ prefix: '', token: token.SecretID })).value, [])
  assert.equal((await follower.server.acl.tokenRead({ id: '', self: true, token: token.SecretID })).value?.AccessorID, token.AccessorID)
  await leader.server.acl.tokenDelete({ id: token.AccessorID, token: MASTER })
  assert.deepEqual((await read('stale')).value, [], 'stale: still the follower\'s old copy')
  await assert.rejects(read(), AclNotFoundError, 'default: the deletion is applied before the check')
  await assert.rejects(follower.server.kvs.list({ prefix: '', token: token.SecretID }), AclNotFoundError)
  // Client agents resolve stale, as Consul's do (they keep working without a leader): the follower's own view.
  follower.raft.catchUp = undefined
  assert.equal((await follower.server.acl.resolveToken({ token: MASTER, consistency: 'stale' })).management, true)
  await assert.rejects(follower.server.acl.resolveToken({ token: token.SecretID, consistency: 'stale' }), AclNotFoundError, 'deleted in its own tables too by now')
  leader.server.stop()
})
