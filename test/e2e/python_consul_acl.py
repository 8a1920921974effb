"""The ACL flows a python3-consul (0.7.1, Debian) user runs against an agent started as that
library's own test harness starts one (acl_datacenter + acl_master_token, default policy allow).

Usage: python_consul_acl.py HOST PORT MASTER_TOKEN
"""
import sys
import consul

HOST, PORT, MASTER = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = consul.Consul(host=HOST, port=PORT)

acls = c.acl.list(token=MASTER)
assert set(x['ID'] for x in acls) == {'anonymous', MASTER}, acls
assert c.acl.info('1' * 36) is None
compare = sorted([c.acl.info(MASTER), c.acl.info('anonymous')], key=lambda a: a['ID'])
assert sorted(acls, key=lambda a: a['ID']) == compare, (acls, compare)

rules = """
    key "" {
        policy = "read"
    }
    key "private/" {
        policy = "deny"
    }
    service "foo-" {
        policy = "write"
    }
    service "bar-" {
        policy = "read"
    }
"""
token = c.acl.create(rules=rules, token=MASTER)
assert c.acl.info(token)['Rules'] == rules
token2 = c.acl.clone(token, token=MASTER)
assert token2 != token
assert c.acl.info(token2)['Rules'] == rules
assert c.acl.update(token2, name='Foo', token=MASTER) == token2
assert c.acl.info(token2)['Name'] == 'Foo'
assert c.acl.destroy(token2, token=MASTER) is True
assert c.acl.info(token2) is None

# Without a token: the anonymous token, under the default policy (allow here).
c.kv.put('foo', 'bar')
c.kv.put('private/foo', 'bar')
assert c.kv.get('foo', token=token)[1]['Value'] == b'bar'
for call in (lambda: c.kv.put('foo', 'bar2', token=token), lambda: c.kv.delete('foo', token=token), lambda: c.kv.get('private/foo', token=token)):
    try:
        call()
        raise AssertionError('expected ACLPermissionDenied')
    except consul.ACLPermissionDenied:
        pass
assert c.kv.get('private/foo')[1]['Value'] == b'bar'
# A recursive read leaves out what the token may not read.
index, items = c.kv.get('', recurse=True, token=token)
assert [i['Key'] for i in items] == ['foo'], items

# The token passes through to the agent's own endpoints.
try:
    c.agent.service.register('bar-1', token=token)
    raise AssertionError('expected ACLPermissionDenied')
except consul.ACLPermissionDenied:
    pass
c.agent.service.register('foo-1', token=token)
# The agent syncs the registration to the catalog (its token: the anonymous one, allowed here).
import time
for _ in range(100):
    index, data = c.health.service('foo-1', token=token)
    if data:
        break
    time.sleep(0.05)
assert data[0]['Service']['ID'] == 'foo-1', data
index, data = c.health.checks('foo-1', token=token)
assert data == []
index, data = c.health.service('bar-1', token=token)
assert not data

assert c.agent.service.deregister('foo-1') is True
c.acl.destroy(token, token=MASTER)
acls = c.acl.list(token=MASTER)
assert set(x['ID'] for x in acls) == {'anonymous', MASTER}, acls
try:
    c.acl.list(token='anonymous')
    raise AssertionError('expected ACLPermissionDenied')
except consul.ACLPermissionDenied:
    pass
print('python3-consul ACL flows: ok')
