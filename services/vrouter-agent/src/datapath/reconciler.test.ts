// The reconciler against real maps: control's messages in, map contents out; nothing swept
// before the first full sync; only differences written; bad input reported by field.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { AccessControlList__Output } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { ConfigUpdate__Output } from '@weft/proto/gen/weft/control/v1/ConfigUpdate.js';
import type { Interface__Output } from '@weft/proto/gen/weft/control/v1/Interface.js';
import type { Route__Output } from '@weft/proto/gen/weft/control/v1/Route.js';
import type { RoutingInstance__Output } from '@weft/proto/gen/weft/control/v1/RoutingInstance.js';
import { HostState } from '../host-state/host-state.js';
import { HostSnapshot } from '../host-state/snapshot.js';
import { MAX_SERVICE_BACKENDS } from '../maps/constants.js';
import { BPFFS } from './bpffs.js';
import { Datapath } from './datapath.js';
import { datapathMissing } from './native.js';
import { DatapathReconciler, type HostSettings } from './reconciler.js';
import { createTestVeth, type TestVeth } from './test-links.js';

const BLUE = 'default-domain:tenant:blue:blue';

function routingInstance(o: Partial<RoutingInstance__Output> = {}): RoutingInstance__Output {
  return {
    name: BLUE,
    virtual_network_uuid: 'vn-blue',
    virtual_network: 'default-domain:tenant:blue',
    vrf_id: 11,
    vni: 1100,
    route_targets: [],
    acl_name: '',
    mtu: 0,
    router_external: false,
    services: [],
    ...o,
  };
}

function iface(uuid: string, mac: string, o: Partial<Interface__Output> = {}): Interface__Output {
  return {
    uuid,
    virtual_machine_uuid: `vm-${uuid}`,
    virtual_machine_name: `pods/${uuid}`,
    routing_instance: BLUE,
    mac,
    addresses: [],
    gateways: ['10.11.0.1'],
    dns_servers: [],
    name: 'eth0',
    order: 0,
    mtu: 1450,
    acl_name: '',
    port_security_enabled: false,
    floating_addresses: [],
    ...o,
  };
}

function config(o: Partial<ConfigUpdate__Output>): ConfigUpdate__Output {
  return {
    routing_instances: [],
    interfaces: [],
    acls: [],
    deleted_routing_instances: [],
    deleted_interfaces: [],
    deleted_acls: [],
    ...o,
  };
}

const toInterface = (prefix: string, uuid: string): Route__Output => ({
  prefix,
  next_hop: { kind: 'interface_uuid', interface_uuid: uuid },
});
const toTunnel = (prefix: string, mac: string): Route__Output => ({
  prefix,
  next_hop: { kind: 'tunnel', tunnel: { underlay_address: '192.0.2.9', vni: 1100, mac } },
});

const denySsh: AccessControlList__Output = {
  name: 'policy-blue',
  default_action: 'ACTION_PASS',
  rules: [
    {
      sequence: 2,
      protocol: 6,
      source: { match: 'prefix', prefix: '10.11.0.0/24' },
      destination: { match: 'any', any: true },
      source_ports: null,
      destination_ports: { start: 22, end: 22 },
      action: 'ACTION_DENY',
      bidirectional: true,
      origin: null,
    },
    {
      sequence: 1,
      protocol: 17,
      source: { match: 'routing_instance', routing_instance: BLUE },
      destination: null,
      source_ports: null,
      destination_ports: null,
      action: 'ACTION_PASS',
      bidirectional: false,
      origin: null,
    },
  ],
};

describe('datapath reconciler on real maps', { skip: datapathMissing() ?? false }, () => {
  const pinRoot = join(BPFFS, `weft-test-reconcile-${process.pid}-${randomBytes(4).toString('hex')}`);
  let datapath: Datapath;
  let links: TestVeth[];
  let host: HostSettings;
  let neighbours: Map<string, string>;
  let reconciler: DatapathReconciler;
  let desired: HostSnapshot;

  before(() => {
    links = [createTestVeth(), createTestVeth(), createTestVeth()];
    datapath = Datapath.open(pinRoot);
  });
  after(() => {
    datapath?.close();
    Datapath.removePins(pinRoot);
    for (const link of links ?? []) link.remove();
  });

  beforeEach(() => {
    // Array maps (config, the probe trace) hold their entries for good; the others start empty.
    for (const map of Object.values(datapath.maps))
      if (map !== datapath.maps.config && map !== datapath.maps.probe) map.clear();
    const [underlay] = links as [TestVeth];
    host = {
      routerMac: '00:00:5e:00:01:00',
      underlay: { ifindex: underlay.ifindex, address: '192.0.2.1', mac: '02:00:00:00:00:01', mtu: 1500 },
      sampleRate: 0,
    };
    neighbours = new Map([['192.0.2.9', '02:00:00:00:00:09']]);
    reconciler = new DatapathReconciler(datapath, host, { underlayMacOf: (address) => neighbours.get(address) });
    // Control's messages land in a snapshot, as in the agent; the reconciler converges on it.
    desired = new HostSnapshot();
    reconciler.replaceDesired(desired);
  });

  /** Control's full state for the blue network: two local pods, one remote, one remote subnet. */
  function sendBlue(): void {
    desired.applyConfig(
      config({
        routing_instances: [routingInstance({ acl_name: 'policy-blue' })],
        interfaces: [iface('a', '02:00:0b:00:00:02'), iface('b', '02:00:0b:00:00:03'), iface('x', '02:00:0b:00:00:07')],
        acls: [denySsh],
      }),
    );
    desired.applyRoutes({
      routing_instance: BLUE,
      add: [
        toInterface('10.11.0.2/32', 'a'),
        toInterface('10.11.0.3/32', 'b'),
        toInterface('10.11.0.7/32', 'x'),
        toTunnel('10.11.0.9/32', '02:00:0b:00:00:09'),
        toTunnel('10.11.5.0/24', '02:00:0b:00:05:00'),
      ],
      withdraw: [],
    });
    const [, a, b] = links as [TestVeth, TestVeth, TestVeth];
    reconciler.bindInterface('a', a.ifindex);
    reconciler.bindInterface('b', b.ifindex);
  }

  test('converges config and routes into the maps, then writes nothing when nothing changed', () => {
    sendBlue();
    const report = reconciler.reconcile();
    assert.deepEqual(report.errors, []);
    const [underlay, a, b] = links as [TestVeth, TestVeth, TestVeth];
    const m = datapath.maps;
    const vrf = m.vrfs.get(11)!;
    assert.equal(vrf.vni, 1100);
    assert.equal(vrf.gateway4, '10.11.0.1');
    assert.notEqual(vrf.aclId, 0);
    assert.equal(m.vnis.get(1100), 11);
    const acl = m.acls.get(vrf.aclId)!;
    assert.equal(acl.defaultAction, 'pass');
    assert.deepEqual(
      acl.rules.map((rule) => [rule.action, rule.protocol]),
      [
        ['pass', 17],
        ['deny', 6],
        ['deny', 6],
      ],
      'rules in sequence order, the bidirectional one doubled',
    );
    assert.deepEqual(acl.rules[0]!.source, { vrfId: 11 });
    assert.deepEqual(acl.rules[2]!.destination, { prefix: '10.11.0.0/24' });
    assert.deepEqual(acl.rules[2]!.sourcePorts, [22, 22]);
    assert.deepEqual(m.interfaces.get(a.ifindex), {
      vrfId: 11,
      aclId: 0,
      mtu: 1450,
      mac: '02:00:0b:00:00:02',
      portSecurity: false,
    });
    assert.deepEqual(
      m.txPorts
        .entries()
        .map(([key]) => key)
        .sort((x, y) => x - y),
      [underlay.ifindex, a.ifindex, b.ifindex].sort((x, y) => x - y),
    );
    assert.deepEqual(m.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.3/32' }), {
      kind: 'local',
      ifindex: b.ifindex,
      vrfId: 11,
      mac: '02:00:0b:00:00:03',
    });
    assert.equal(m.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.7/32' }), undefined, 'x is not attached here yet');
    assert.deepEqual(m.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.9/32' }), {
      kind: 'tunnel',
      ifindex: underlay.ifindex,
      vrfId: 11,
      vni: 1100,
      remoteAddress: '192.0.2.9',
      mac: '02:00:0b:00:00:09',
      remoteMac: '02:00:00:00:00:09',
    });
    assert.equal(m.prefixRoutes4.entries()[0]?.[0].prefix, '10.11.5.0/24');
    assert.deepEqual(m.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.1/32' }), { kind: 'receive', vrfId: 11 });
    assert.ok(m.stats.get(a.ifindex), 'counters exist for an attached interface');

    const again = reconciler.reconcile();
    assert.deepEqual([again.written, again.deleted, again.conntrackFlushed], [0, 0, false]);
  });

  test('nothing is deleted before the first full sync; what is stale is swept after it', () => {
    const m = datapath.maps;
    // What a previous agent left pinned: a route and a network control no longer has.
    m.hostRoutes4.set({ vrfId: 11, prefix: '10.11.0.200/32' }, { kind: 'receive', vrfId: 11 });
    m.vrfs.set(99, { vni: 9900, aclId: 0 });
    sendBlue();
    assert.equal(reconciler.reconcile().deleted, 0);
    assert.ok(m.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.200/32' }), 'kept until control has sent everything');
    assert.ok(m.vrfs.get(99));
    reconciler.markSynced();
    const report = reconciler.reconcile();
    assert.equal(report.deleted, 2);
    assert.equal(m.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.200/32' }), undefined);
    assert.equal(m.vrfs.get(99), undefined);
    assert.ok(m.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.2/32' }), 'what is desired stays');
  });

  test('with no session (headless) the maps keep the last state; a new session resends it, and only what differs changes', () => {
    // As the agent does: each session of a replica fills a snapshot of HostState, and the
    // reconciler converges on the merged view.
    const state = new HostState();
    const complete = () => {
      desired.configComplete = true;
      desired.routesComplete = true;
      state.settle('control-1');
    };
    const converge = () => {
      reconciler.replaceDesired(state.view());
      return reconciler.reconcile();
    };
    desired = state.beginSync('control-1');
    sendBlue();
    complete();
    reconciler.markSynced();
    assert.ok(converge().written > 0);
    const m = datapath.maps;
    const remote = { vrfId: 11, prefix: '10.11.0.9/32' };
    const before = m.hostRoutes4.get(remote);
    assert.ok(before);

    // The session is lost, for as long as may be: nothing changes in the maps.
    state.endSession('control-1');
    const headless = converge();
    assert.deepEqual([headless.written, headless.deleted, headless.conntrackFlushed], [0, 0, false]);
    assert.deepEqual(m.hostRoutes4.get(remote), before);

    // A new session resends everything; until it is complete the last state holds, and once it
    // is, only the difference (a route control no longer sends) changes.
    desired = state.beginSync('control-1');
    sendBlue();
    desired.applyRoutes({ routing_instance: BLUE, add: [], withdraw: ['10.11.0.9/32'] });
    const resending = converge();
    assert.deepEqual([resending.written, resending.deleted], [0, 0], 'nothing while the resend is incomplete');
    assert.deepEqual(m.hostRoutes4.get(remote), before);
    assert.deepEqual(m.peers.get('192.0.2.9'), { routes: 2 });
    complete();
    const back = converge();
    // The route deleted, and its tunnel endpoint's count of routes written: nothing else.
    assert.deepEqual([back.written, back.deleted, back.conntrackFlushed], [1, 1, false]);
    assert.equal(m.hostRoutes4.get(remote), undefined);
    assert.deepEqual(m.peers.get('192.0.2.9'), { routes: 1 });
    assert.ok(m.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.2/32' }), 'the rest stays as it was');
  });

  test('withdrawn routes, detached and deleted interfaces leave the maps', () => {
    sendBlue();
    reconciler.markSynced();
    reconciler.reconcile();
    const [, a, b] = links as [TestVeth, TestVeth, TestVeth];
    desired.applyRoutes({ routing_instance: BLUE, add: [], withdraw: ['10.11.0.9/32', '10.11.5.0/24'] });
    reconciler.unbindInterface('b');
    desired.applyConfig(config({ deleted_interfaces: ['a'] }));
    reconciler.reconcile();
    const m = datapath.maps;
    assert.equal(m.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.9/32' }), undefined);
    assert.deepEqual(m.prefixRoutes4.entries(), []);
    assert.equal(m.interfaces.get(a.ifindex), undefined);
    assert.equal(m.interfaces.get(b.ifindex), undefined);
    assert.equal(m.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.3/32' }), undefined, 'no route to a detached port');
    assert.equal(m.txPorts.get(b.ifindex), undefined);
  });

  test('a policy change flushes conntrack, so flows are judged again', () => {
    sendBlue();
    reconciler.reconcile();
    datapath.maps.conntrack.set(
      { source: '10.11.0.2', destination: '10.11.0.3', sourcePort: 1, destinationPort: 22, protocol: 6, vrfId: 11 },
      { createdNs: 1n, lastSeenNs: 1n, ifindex: 1 },
    );
    assert.equal(reconciler.reconcile().conntrackFlushed, false, 'no change, no flush');
    desired.applyConfig(config({ acls: [{ ...denySsh, default_action: 'ACTION_DENY' }] }));
    assert.equal(reconciler.reconcile().conntrackFlushed, true);
    assert.deepEqual(datapath.maps.conntrack.entries(), []);
  });

  test('bad input is reported with its field and skipped; the rest is applied, and policy fails closed', () => {
    sendBlue();
    desired.applyRoutes({ routing_instance: BLUE, add: [toInterface('10.11.0.300/32', 'a')], withdraw: [] });
    desired.applyConfig(
      config({
        acls: [
          {
            ...denySsh,
            rules: [{ ...denySsh.rules[0]!, source: { match: 'security_group_id', security_group_id: 8 } }],
          },
        ],
      }),
    );
    const report = reconciler.reconcile();
    assert.ok(
      report.errors.some((e) => e.field === `routes["${BLUE}"]["10.11.0.300/32"]` && /CIDR/.test(e.reason)),
      JSON.stringify(report.errors),
    );
    assert.ok(report.errors.some((e) => /security-group endpoints/.test(e.reason)));
    const vrf = datapath.maps.vrfs.get(11)!;
    assert.equal(
      datapath.maps.acls.get(vrf.aclId),
      undefined,
      'an ACL that cannot be compiled is absent: the datapath denies',
    );
    assert.ok(datapath.maps.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.2/32' }), 'good routes are applied');
  });

  test('floating IPs of bound interfaces land (the first per address is its source), move, and leave', () => {
    sendBlue();
    const fips = (uuid: string, list: Array<[string, string]>) =>
      iface(uuid, uuid === 'a' ? '02:00:0b:00:00:02' : '02:00:0b:00:00:03', {
        addresses: [uuid === 'a' ? '10.11.0.2/24' : '10.11.0.3/24'],
        floating_addresses: list.map(([address, fixed_address]) => ({ address, fixed_address })),
      });
    desired.applyConfig(
      config({
        interfaces: [
          fips('a', [
            ['203.0.113.10', '10.11.0.2'],
            ['203.0.113.11', '10.11.0.2'],
            ['2001:db8::10', '10.11.0.2'],
            ['203.0.113.12', '10.11.0.99'],
          ]),
          fips('b', []),
        ],
      }),
    );
    const report = reconciler.reconcile();
    assert.deepEqual(
      report.errors.map((error) => error.field),
      ['interface "a".floating_addresses[2]', 'interface "a".floating_addresses[3]'],
      'an IPv6 floating IP and one for an address the interface lacks are reported, the rest applied',
    );
    const [, a, b] = links as [TestVeth, TestVeth, TestVeth];
    const m = datapath.maps;
    assert.deepEqual(m.floatingIps.get('203.0.113.10'), { fixedAddress: '10.11.0.2', ifindex: a.ifindex, vrfId: 11 });
    assert.deepEqual(m.floatingIps.get('203.0.113.11'), { fixedAddress: '10.11.0.2', ifindex: a.ifindex, vrfId: 11 });
    assert.deepEqual(m.floatingSources.entries(), [[{ vrfId: 11, address: '10.11.0.2' }, '203.0.113.10']]);

    reconciler.markSynced();
    desired.applyConfig(
      config({ interfaces: [fips('a', [['203.0.113.11', '10.11.0.2']]), fips('b', [['203.0.113.10', '10.11.0.3']])] }),
    );
    reconciler.reconcile();
    assert.deepEqual(m.floatingIps.get('203.0.113.10'), { fixedAddress: '10.11.0.3', ifindex: b.ifindex, vrfId: 11 });
    assert.deepEqual(
      m.floatingSources.entries().sort((x, y) => x[1].localeCompare(y[1])),
      [
        [{ vrfId: 11, address: '10.11.0.3' }, '203.0.113.10'],
        [{ vrfId: 11, address: '10.11.0.2' }, '203.0.113.11'],
      ],
    );

    desired.applyConfig(config({ interfaces: [fips('a', []), fips('b', [])] }));
    reconciler.reconcile();
    assert.deepEqual(m.floatingIps.entries(), []);
    assert.deepEqual(m.floatingSources.entries(), []);
  });

  test("a network routed to the outside maps its ports' own addresses to themselves, first; off again, they leave", () => {
    sendBlue();
    const ports = (external: boolean) =>
      config({
        routing_instances: [routingInstance({ acl_name: 'policy-blue', router_external: external })],
        interfaces: [
          iface('a', '02:00:0b:00:00:02', {
            addresses: ['10.11.0.2/24', 'fd00:11::2/64'],
            floating_addresses: [{ address: '203.0.113.10', fixed_address: '10.11.0.2' }],
          }),
          iface('b', '02:00:0b:00:00:03', { addresses: ['10.11.0.3/24'] }),
        ],
      });
    desired.applyConfig(ports(true));
    assert.deepEqual(reconciler.reconcile().errors, []);
    const [, a, b] = links as [TestVeth, TestVeth, TestVeth];
    const m = datapath.maps;
    const byAddress = (x: [string, unknown], y: [string, unknown]) => x[0].localeCompare(y[0]);
    assert.deepEqual(m.floatingIps.entries().sort(byAddress), [
      ['10.11.0.2', { fixedAddress: '10.11.0.2', ifindex: a.ifindex, vrfId: 11 }],
      ['10.11.0.3', { fixedAddress: '10.11.0.3', ifindex: b.ifindex, vrfId: 11 }],
      ['203.0.113.10', { fixedAddress: '10.11.0.2', ifindex: a.ifindex, vrfId: 11 }],
    ]);
    assert.deepEqual(
      m.floatingSources.entries().sort((x, y) => x[1].localeCompare(y[1])),
      [
        [{ vrfId: 11, address: '10.11.0.2' }, '10.11.0.2'],
        [{ vrfId: 11, address: '10.11.0.3' }, '10.11.0.3'],
      ],
      'a routed port leaves with its own address, not its floating IP',
    );

    reconciler.markSynced();
    desired.applyConfig(ports(false));
    reconciler.reconcile();
    assert.deepEqual(m.floatingIps.entries(), [
      ['203.0.113.10', { fixedAddress: '10.11.0.2', ifindex: a.ifindex, vrfId: 11 }],
    ]);
    assert.deepEqual(m.floatingSources.entries(), [[{ vrfId: 11, address: '10.11.0.2' }, '203.0.113.10']]);
  });

  test('a route learnt from the gateway lands with the outside next hop; a bad gateway is reported', () => {
    sendBlue();
    desired.applyRoutes({
      routing_instance: BLUE,
      add: [
        { prefix: '198.51.100.0/24', next_hop: { kind: 'underlay_gateway', underlay_gateway: '192.0.2.254' } },
        { prefix: '0.0.0.0/0', next_hop: { kind: 'underlay_gateway', underlay_gateway: 'gw' } },
      ],
      withdraw: [],
    });
    const report = reconciler.reconcile();
    assert.deepEqual(
      report.errors.map((error) => error.field),
      [`routes["${BLUE}"]["0.0.0.0/0"].underlay_gateway`],
    );
    assert.deepEqual(datapath.maps.prefixRoutes4.get({ vrfId: 11, prefix: '198.51.100.0/24' }), {
      kind: 'outside',
      vrfId: 11,
      gateway: '192.0.2.254',
    });
    assert.equal(datapath.maps.prefixRoutes4.get({ vrfId: 11, prefix: '0.0.0.0/0' }), undefined);
  });

  test('services of the routing instances land with their backends, change in one update, and leave', () => {
    sendBlue();
    const backend = (address: string) => ({ address, port: 8080 });
    const withServices = (services: RoutingInstance__Output['services']) =>
      config({ routing_instances: [routingInstance({ acl_name: 'policy-blue', services })] });
    desired.applyConfig(
      withServices([
        { address: '10.96.0.10', port: 80, protocol: 'tcp', backends: [backend('10.11.0.2'), backend('10.11.0.3')] },
        { address: '10.96.0.10', port: 53, protocol: 'udp', backends: [] },
        { address: 'fd00:96::10', port: 80, protocol: 'tcp', backends: [] },
        { address: '10.96.0.11', port: 80, protocol: 'sctp', backends: [] },
        {
          address: '10.96.0.12',
          port: 80,
          protocol: 'tcp',
          backends: Array.from({ length: MAX_SERVICE_BACKENDS + 1 }, (_, i) => backend(`10.11.1.${i + 1}`)),
        },
      ]),
    );
    const report = reconciler.reconcile();
    assert.deepEqual(
      report.errors.map((error) => error.field),
      [`routingInstance "${BLUE}".services[2]`, `routingInstance "${BLUE}".services[3]`, 'service.backends'],
      'an IPv6 service, another protocol and too many backends are reported by field, the rest applied',
    );
    const m = datapath.maps;
    assert.deepEqual(m.services.get({ vrfId: 11, address: '10.96.0.10', port: 80, protocol: 'tcp' }), [
      backend('10.11.0.2'),
      backend('10.11.0.3'),
    ]);
    assert.deepEqual(m.services.get({ vrfId: 11, address: '10.96.0.10', port: 53, protocol: 'udp' }), []);

    reconciler.markSynced();
    desired.applyConfig(
      withServices([{ address: '10.96.0.10', port: 80, protocol: 'tcp', backends: [backend('10.11.0.3')] }]),
    );
    reconciler.reconcile();
    assert.deepEqual(m.services.entries(), [
      [{ vrfId: 11, address: '10.96.0.10', port: 80, protocol: 'tcp' }, [backend('10.11.0.3')]],
    ]);

    desired.applyConfig(withServices([]));
    reconciler.reconcile();
    assert.deepEqual(m.services.entries(), []);
  });

  test('a tunnel route waits for the underlay neighbour, then lands', () => {
    neighbours.clear();
    sendBlue();
    reconciler.reconcile();
    assert.equal(datapath.maps.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.9/32' }), undefined);
    // The host the route points at is a known peer at once: its VXLAN passes the underlay's first stage.
    assert.ok(
      datapath.maps.peers.get('192.0.2.9'),
      'the tunnel endpoint is a known peer before its neighbour resolves',
    );
    neighbours.set('192.0.2.9', '02:00:00:00:00:09');
    assert.ok(reconciler.reconcile().written >= 2);
    assert.equal(datapath.maps.hostRoutes4.get({ vrfId: 11, prefix: '10.11.0.9/32' })?.kind, 'tunnel');
  });

  test('thousands of routes converge in one reconcile, in batches', () => {
    sendBlue();
    const add = Array.from({ length: 5000 }, (_, i) => toTunnel(`10.12.${i >> 8}.${i & 255}/32`, '02:00:0c:00:00:01'));
    desired.applyConfig(config({ routing_instances: [routingInstance({ name: 'green', vrf_id: 12, vni: 1200 })] }));
    desired.applyRoutes({ routing_instance: 'green', add, withdraw: [] });
    const report = reconciler.reconcile();
    assert.deepEqual(report.errors, []);
    assert.equal(datapath.maps.hostRoutes4.entries().filter(([key]) => key.vrfId === 12).length, 5000);
  });
});
