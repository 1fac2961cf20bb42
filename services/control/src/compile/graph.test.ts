import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  floatingIp,
  instanceIp,
  loadbalancer,
  loadbalancerListener,
  loadbalancerMember,
  loadbalancerPool,
  machineInterface,
  networkPolicy,
  securityGroup,
  stored,
  storeOf,
  virtualIpPort,
  virtualMachine,
  virtualNetwork,
} from '../testing/fixtures.js';
import { CompilationGraph } from './graph.js';
import { hostAcls } from './state.js';

describe('compilation graph', () => {
  const policy = networkPolicy('red-blue', [
    {
      action: 'deny',
      from: 'default-domain:admin:red',
      to: 'default-domain:admin:blue',
      protocol: 'tcp',
      dstPorts: [22, 22],
    },
    { action: 'pass', from: 'default-domain:admin:red', to: 'default-domain:admin:blue' },
  ]);
  const red = virtualNetwork('red', { prefix: '10.1.0.0', vni: 5001, networkId: 11, policies: [policy] });
  const blue = virtualNetwork('blue', { prefix: '10.2.0.0', vni: 5002, networkId: 12, policies: [policy] });
  const green = virtualNetwork('green', { prefix: '10.3.0.0', networkId: 13 });
  const pod = virtualMachine('default/pod-a');
  const web = securityGroup('web', 7, [
    {
      direction: '>',
      protocol: 'tcp',
      src_addresses: [{ subnet: { ip_prefix: '0.0.0.0', ip_prefix_len: 0 } }],
      dst_addresses: [{ security_group: 'local' }],
      dst_ports: [{ start_port: 80, end_port: 80 }],
      action_list: { simple_action: 'pass' },
    },
  ]);
  const eth0 = machineInterface('pod-a-red', {
    network: red,
    vm: pod,
    host: 'host-1',
    mac: '02:00:00:00:00:01',
    securityGroups: [web],
  });
  const net1 = machineInterface('pod-a-green', { network: green, vm: pod, host: 'host-1', mac: '02:00:00:00:00:02' });
  const other = machineInterface('pod-b-blue', {
    network: blue,
    vm: virtualMachine('pod-b'),
    host: 'host-2',
    mac: '02:00:00:00:00:03',
  });
  const store = storeOf([
    ['network-policy', policy],
    ['virtual-network', red],
    ['virtual-network', blue],
    ['virtual-network', green],
    ['security-group', web],
    ['virtual-machine', pod],
    ['virtual-machine-interface', eth0],
    ['virtual-machine-interface', net1],
    ['virtual-machine-interface', other],
    ['instance-ip', instanceIp('10.1.0.5', eth0, red)],
    ['instance-ip', instanceIp('10.3.0.5', net1, green)],
  ]);
  const graph = new CompilationGraph(store);
  graph.flush();
  const { state } = graph;

  it('gives each network a routing instance with its VRF id, VNI and route targets', () => {
    const instance = state.routingInstances.get('default-domain:admin:red:red')!;
    assert.equal(instance.message.vrf_id, 11);
    assert.equal(instance.vni, 5001);
    assert.equal(instance.message.virtual_network_uuid, red.uuid);
    assert.deepEqual(instance.message.route_targets, ['target:64512:8000011']);
    // Without a configured VNI, the network id is the VNI.
    assert.equal(state.routingInstances.get('default-domain:admin:green:green')!.vni, 13);
  });

  it('leaks routes both ways between networks a pass policy connects, and not to others', () => {
    assert.deepEqual(state.routingInstances.get('default-domain:admin:red:red')!.imports, [
      'default-domain:admin:blue:blue',
    ]);
    assert.deepEqual(state.routingInstances.get('default-domain:admin:blue:blue')!.imports, [
      'default-domain:admin:red:red',
    ]);
    assert.deepEqual(state.routingInstances.get('default-domain:admin:green:green')!.imports, []);
    assert.deepEqual([...state.carriers.get('default-domain:admin:blue:blue')!].sort(), [
      'default-domain:admin:blue:blue',
      'default-domain:admin:red:red',
    ]);
  });

  it('compiles the policy in order into the network ACL: intra-network pass, the deny, the pass, default deny', () => {
    const acl = state.acls.get('default-domain:admin:red:network-policy')!;
    assert.equal(state.routingInstances.get('default-domain:admin:red:red')!.message.acl_name, acl.name);
    assert.equal(acl.default_action, 'ACTION_DENY');
    assert.equal(acl.rules!.length, 3);
    const [intra, deny, pass] = acl.rules!;
    assert.deepEqual(intra!.source, { routing_instance: 'default-domain:admin:red:red' });
    assert.equal(deny!.action, 'ACTION_DENY');
    assert.equal(deny!.protocol, 6);
    assert.deepEqual(deny!.destination_ports, { start: 22, end: 22 });
    assert.deepEqual(deny!.destination, { routing_instance: 'default-domain:admin:blue:blue' });
    assert.equal(pass!.action, 'ACTION_PASS');
    assert.equal(pass!.bidirectional, true);
    assert.deepEqual(
      acl.rules!.map((rule) => rule.sequence),
      [0, 1, 2],
    );
  });

  it('compiles interfaces with addresses, gateway, order, name, MTU and security-group ACL', () => {
    const compiled = state.interfaces.get(eth0.uuid)!;
    assert.equal(compiled.host, 'host-1');
    assert.deepEqual(compiled.message.addresses, ['10.1.0.5/24']);
    assert.deepEqual(compiled.message.gateways, ['10.1.0.1']);
    assert.deepEqual(compiled.message.dns_servers, ['10.1.0.2']);
    assert.equal(compiled.message.virtual_machine_name, 'default/pod-a');
    assert.equal(compiled.message.mtu, 1450);
    const names = [state.interfaces.get(eth0.uuid)!.message, state.interfaces.get(net1.uuid)!.message]
      .sort((a, b) => a.order! - b.order!)
      .map((message) => message.name);
    assert.deepEqual(names, ['eth0', 'net1']);
    const acl = state.acls.get(compiled.message.acl_name!)!;
    assert.equal(acl.default_action, 'ACTION_DENY');
    assert.deepEqual(acl.rules![0]!.destination, { prefix: '10.1.0.5/32' });
    assert.deepEqual(acl.rules![0]!.source, { prefix: '0.0.0.0/0' });
    assert.equal(state.interfaces.get(net1.uuid)!.message.acl_name, '');
  });

  it('gives each host only its own interfaces, their instances and ACLs', () => {
    const host1 = state.hosts.get('host-1')!;
    assert.deepEqual([...host1.interfaces].sort(), [eth0.uuid, net1.uuid].sort());
    assert.deepEqual([...host1.routingInstances].sort(), [
      'default-domain:admin:green:green',
      'default-domain:admin:red:red',
    ]);
    assert.ok(hostAcls(state, 'host-1').has('default-domain:admin:red:network-policy'));
    assert.deepEqual([...state.hosts.get('host-2')!.interfaces], [other.uuid]);
    assert.deepEqual([...state.hostsOf.get('default-domain:admin:blue:blue')!], ['host-2']);
  });

  it('keeps VRF ids stable across recompiles and drops the leak when the policy goes', () => {
    const graph = new CompilationGraph(store);
    graph.flush();
    const before = graph.state.routingInstances.get('default-domain:admin:red:red')!.message.vrf_id;
    store.remove('network-policy', policy.uuid);
    graph.flush();
    const after = graph.state.routingInstances.get('default-domain:admin:red:red')!;
    assert.equal(after.message.vrf_id, before);
    assert.deepEqual(after.imports, []);
    assert.equal(after.message.acl_name, '');
  });
});

describe('compilation graph: floating IPs', () => {
  const red = virtualNetwork('red', { prefix: '10.1.0.0', vni: 5001, networkId: 11 });
  const pod = virtualMachine('default/pod-a');
  const podB = virtualMachine('default/pod-b');
  const a = machineInterface('pod-a-red', { network: red, vm: pod, host: 'host-1', mac: '02:00:00:00:00:01' });
  const b = machineInterface('pod-b-red', { network: red, vm: podB, host: 'host-2', mac: '02:00:00:00:00:02' });
  const first = floatingIp('203.0.113.10', a, { created: '2026-01-01T00:00:00' });
  const second = floatingIp('203.0.113.11', a, { created: '2026-01-02T00:00:00', fixed: '10.1.0.6' });
  const store = storeOf([
    ['virtual-network', red],
    ['virtual-machine', pod],
    ['virtual-machine', podB],
    ['virtual-machine-interface', a],
    ['virtual-machine-interface', b],
    ['instance-ip', instanceIp('10.1.0.5', a, red)],
    ['instance-ip', instanceIp('10.1.0.6', a, red)],
    ['instance-ip', instanceIp('10.1.0.7', b, red)],
    ['floating-ip', second],
    ['floating-ip', first],
  ]);
  const graph = new CompilationGraph(store);
  graph.flush();
  const floatingOf = (vmi: { uuid: string }) => graph.state.interfaces.get(vmi.uuid)!.message.floating_addresses;

  it('gives an interface its floating IPs, the oldest first, each mapped to its fixed address or the first', () => {
    assert.deepEqual(floatingOf(a), [
      { address: '203.0.113.10', fixed_address: '10.1.0.5' },
      { address: '203.0.113.11', fixed_address: '10.1.0.6' },
    ]);
    assert.deepEqual(floatingOf(b), []);
  });

  it('moves a floating IP with its interface reference, and tells both hosts', () => {
    store.upsert(
      stored('floating-ip', { ...first, virtual_machine_interface_refs: [{ to: b.fq_name, uuid: b.uuid }] }, 100),
    );
    const delta = graph.flush();
    assert.deepEqual(floatingOf(a), [{ address: '203.0.113.11', fixed_address: '10.1.0.6' }]);
    assert.deepEqual(floatingOf(b), [{ address: '203.0.113.10', fixed_address: '10.1.0.7' }]);
    assert.deepEqual([...delta.hosts].sort(), ['host-1', 'host-2']);
  });

  it('drops a floating IP that is disassociated or deleted', () => {
    store.upsert(stored('floating-ip', { ...first, virtual_machine_interface_refs: [] }, 101));
    store.remove('floating-ip', second.uuid);
    graph.flush();
    assert.deepEqual(floatingOf(a), []);
    assert.deepEqual(floatingOf(b), []);
  });
});

describe('compilation graph: services (loadbalancers)', () => {
  const red = virtualNetwork('red', { prefix: '10.1.0.0', vni: 5001, networkId: 11 });
  const pod = virtualMachine('default/client');
  const client = machineInterface('client-red', { network: red, vm: pod, host: 'host-1', mac: '02:00:00:00:00:01' });
  const vip = virtualIpPort('web-vip', red);
  const lb = loadbalancer('web', '10.96.0.10', vip);
  const http = loadbalancerListener(lb, 'TCP', 80);
  const dns = loadbalancerListener(lb, 'UDP', 53);
  const httpPool = loadbalancerPool(http);
  const dnsPool = loadbalancerPool(dns);
  const members = {
    b: loadbalancerMember(httpPool, '10.1.0.12', 8080),
    a: loadbalancerMember(httpPool, '10.1.0.11', 8080),
    c: loadbalancerMember(httpPool, '10.1.0.13', 8080, false),
    dns: loadbalancerMember(dnsPool, '10.1.0.11', 5353),
  };
  const store = storeOf([
    ['virtual-network', red],
    ['virtual-machine', pod],
    ['virtual-machine-interface', client],
    ['virtual-machine-interface', vip],
    ['instance-ip', instanceIp('10.1.0.5', client, red)],
    ['loadbalancer', lb],
    ['loadbalancer-listener', http],
    ['loadbalancer-listener', dns],
    ['loadbalancer-pool', httpPool],
    ['loadbalancer-pool', dnsPool],
    ...Object.values(members).map((member): ['loadbalancer-member', typeof member] => ['loadbalancer-member', member]),
  ]);
  const graph = new CompilationGraph(store);
  graph.flush();
  const servicesOfRed = () => graph.state.routingInstances.get('default-domain:admin:red:red')!.message.services;

  it('puts each listener of a loadbalancer in its port’s network, with the ready members as backends', () => {
    assert.deepEqual(servicesOfRed(), [
      { address: '10.96.0.10', port: 53, protocol: 'udp', backends: [{ address: '10.1.0.11', port: 5353 }] },
      {
        address: '10.96.0.10',
        port: 80,
        protocol: 'tcp',
        backends: [
          { address: '10.1.0.11', port: 8080 },
          { address: '10.1.0.12', port: 8080 },
        ],
      },
    ]);
  });

  it('a member gone or ready again changes the service, and the hosts of the network are told', () => {
    store.remove('loadbalancer-member', members.a.uuid);
    store.upsert(
      stored(
        'loadbalancer-member',
        {
          ...members.c,
          loadbalancer_member_properties: { address: '10.1.0.13', protocol_port: 8080, admin_state: true },
        },
        100,
      ),
    );
    const delta = graph.flush();
    assert.deepEqual(servicesOfRed()?.find((service) => service.port === 80)?.backends, [
      { address: '10.1.0.12', port: 8080 },
      { address: '10.1.0.13', port: 8080 },
    ]);
    assert.deepEqual([...delta.hosts], ['host-1']);
  });

  it('a loadbalancer deleted takes its services away', () => {
    store.remove('loadbalancer', lb.uuid);
    graph.flush();
    assert.deepEqual(servicesOfRed(), []);
  });
});
