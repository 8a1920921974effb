"""Flows a python3-consul (0.7.1, Debian) user runs, against our agent.

Usage: python_consul_flows.py HOST PORT NODES SERVERS server|client PREFIX
(NODES: how many nodes the catalog holds; SERVERS: how many servers the datacenter has; PREFIX
goes before every key written, so the flows can run more than once against one cluster.)
"""
import sys
import consul

HOST, PORT, NODES, SERVERS, ROLE = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
P = sys.argv[6] if len(sys.argv) > 6 else ''
c = consul.Consul(host=HOST, port=PORT)
flows = 0

def flow(fn):
    global flows
    fn()
    flows += 1

def kv():
    assert c.kv.put(P + 'py/a', 'one') is True
    index, data = c.kv.get(P + 'py/a')
    assert data['Value'] == b'one', data
    assert set(data) == {'LockIndex', 'Key', 'Flags', 'Value', 'CreateIndex', 'ModifyIndex'}, set(data)
    assert int(index) >= 1
    index, data = c.kv.get(P + 'py/missing')
    assert data is None and index is not None
    assert c.kv.put(P + 'py/b', 'two', cas=0) is True
    assert c.kv.put(P + 'py/b', 'three', cas=0) is False
    index, keys = c.kv.get(P + 'py/', keys=True)
    assert keys == [P + 'py/a', P + 'py/b'], keys
    index, items = c.kv.get(P + 'py/', recurse=True)
    assert [i['Key'] for i in items] == [P + 'py/a', P + 'py/b']
    assert c.kv.delete(P + 'py/', recurse=True) is True
    # A blocking get with the index returns once the key changes (python sends index=&wait=).
    index, _ = c.kv.get(P + 'py/a')
    c.kv.put(P + 'py/a', 'x')
    index2, data = c.kv.get(P + 'py/a', index=index, wait='5s')
    assert data['Value'] == b'x' and int(index2) > int(index)

def agent_and_catalog():
    c.agent.service.register('foo', service_id='foo1', port=8000, tags=['master'], check=consul.Check.ttl('10s'))
    services = c.agent.services()
    assert 'foo1' in services and services['foo1']['Port'] == 8000, services
    c.agent.check.ttl_pass('service:foo1')
    import time
    for _ in range(100):
        index, nodes = c.health.service('foo', passing=True)
        if nodes:
            break
        time.sleep(0.05)
    assert nodes and nodes[0]['Service']['ID'] == 'foo1', nodes
    index, services = c.catalog.services()
    assert services['consul'] == [] and services['foo'] == ['master'], services
    index, nodes = c.catalog.nodes()
    assert len(nodes) == NODES, nodes
    me = c.agent.self()
    assert me['Config']['Datacenter'] == 'dc1'
    assert me['Config']['Server'] == (ROLE == 'server')
    if ROLE == 'server':
        assert me['Stats']['consul']['leader_addr'] == c.status.leader()
    else:
        assert me['Stats']['consul']['known_servers'] == str(SERVERS), me['Stats']['consul']
    peers = c.status.peers()
    assert c.status.leader() in peers and len(peers) == SERVERS, peers
    c.agent.service.deregister('foo1')
    assert 'foo1' not in c.agent.services()

def sessions():
    sid = c.session.create(name='py', ttl=10)
    index, session = c.session.info(sid)
    assert session['Name'] == 'py' and session['TTL'] == '10s', session
    assert c.kv.put(P + 'py/lock', 'held', acquire=sid) is True
    index, data = c.kv.get(P + 'py/lock')
    assert data['Session'] == sid
    index, sessions = c.session.list()
    assert any(s['ID'] == sid for s in sessions)
    c.session.renew(sid)
    assert c.session.destroy(sid) is True
    index, data = c.kv.get(P + 'py/lock')
    assert 'Session' not in data

def events():
    assert c.event.fire('py-event', 'body')
    index, events = c.event.list(name='py-event')
    assert events[-1]['Payload'] == b'body' or events[-1]['Payload'] == 'Ym9keQ==', events[-1]

def errors():
    try:
        c.kv.get(P + 'py/a', dc='dc2')
        raise AssertionError('expected an error for an unknown datacenter')
    except consul.ConsulException:
        pass

for f in (kv, agent_and_catalog, sessions, events, errors):
    flow(f)
print('ok %d flows' % flows)
