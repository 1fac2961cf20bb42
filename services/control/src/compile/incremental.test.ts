// The incremental graph against a compile from scratch (fast-check): random sequences of config
// changes (networks, policies, security groups, logical routers, pods, interfaces, addresses,
// floating IPs, loadbalancers with listeners, pools and members, created, changed and removed in any order) are applied one by one; after each, the graph's
// compiled state must equal compileFromScratch over the same store, and its delta must name
// every host whose config changed, every instance whose routes must be recomputed, and every
// interface that moved between instances.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConfigObjectOf, HOST_BINDING_KEY, INTERFACE_ORDER_ANNOTATION, type PolicyRule } from '@weft/model';
import fc from 'fast-check';
import type { CompiledType } from '../config-feed/store.js';
import { ConfigStore } from '../config-feed/store.js';
import { stored } from '../testing/fixtures.js';
import { compileFromScratch } from './full-compile.js';
import { CompilationGraph } from './graph.js';
import { type CompiledState, hostAcls } from './state.js';

const SIZES = {
  'virtual-network': 4,
  'network-policy': 3,
  'security-group': 3,
  'logical-router': 2,
  'virtual-machine': 3,
  'virtual-machine-interface': 7,
  'instance-ip': 9,
  'floating-ip': 3,
  loadbalancer: 2,
  'loadbalancer-listener': 3,
  'loadbalancer-pool': 3,
  'loadbalancer-member': 6,
} as const satisfies Record<CompiledType, number>;
const HOSTS = ['h0', 'h1', 'h2'];

const uuidOf = (type: CompiledType, index: number) =>
  `00000000-0000-4000-8000-${(Object.keys(SIZES).indexOf(type) * 100 + index).toString(16).padStart(12, '0')}`;
const fqOf = (type: CompiledType, index: number) => ['d', 'p', `${type}-${index}`];
const networkFq = (index: number) => fqOf('virtual-network', index).join(':');
const groupFq = (index: number) => fqOf('security-group', index).join(':');
const ref = (type: CompiledType, index: number) => ({ to: fqOf(type, index), uuid: uuidOf(type, index) });

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
/** Mostly one reference, sometimes none. */
const one = (type: CompiledType) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.nat(SIZES[type] - 1).map((i) => [ref(type, i)]) },
    { weight: 1, arbitrary: fc.constant([] as { to: string[]; uuid: string }[]) },
  );
const some = (type: CompiledType, maxLength = 3) =>
  fc.uniqueArray(fc.nat(SIZES[type] - 1), { maxLength }).map((indexes) => indexes.map((i) => ref(type, i)));
const address = fc.oneof(
  fc.tuple(fc.nat(3), fc.integer({ min: 1, max: 6 })).map(([n, k]) => `10.${n}.0.${k}`),
  fc.integer({ min: 1, max: 3 }).map((k) => `fd00::${k}`),
);
const target = pick(['target:64512:1', 'target:64512:2', 'target:64512:3']);
const targets = fc.option(fc.record({ route_target: fc.uniqueArray(target, { maxLength: 2 }) }), { nil: undefined });

/** An address of a rule: networks and groups that exist or not, "local", "any", subnets. */
const ruleAddress = fc.oneof(
  { weight: 4, arbitrary: fc.nat(4).map((n) => ({ virtual_network: networkFq(n) })) },
  { weight: 1, arbitrary: pick(['any', 'local']).map((name) => ({ virtual_network: name })) },
  { weight: 3, arbitrary: fc.nat(3).map((n) => ({ security_group: groupFq(n) })) },
  { weight: 1, arbitrary: pick(['any', 'local']).map((name) => ({ security_group: name })) },
  { weight: 1, arbitrary: fc.nat(3).map((n) => ({ subnet: { ip_prefix: `10.${n}.0.0`, ip_prefix_len: 24 } })) },
  { weight: 1, arbitrary: fc.constant({}) },
);
const rule: fc.Arbitrary<PolicyRule> = fc.record({
  direction: pick(['>', '<>'] as const),
  protocol: pick(['any', 'tcp', 'udp', 'icmp']),
  src_addresses: fc.array(ruleAddress, { minLength: 1, maxLength: 2 }),
  dst_addresses: fc.array(ruleAddress, { minLength: 1, maxLength: 2 }),
  dst_ports: fc.array(
    pick([-1, 22, 80]).map((port) => ({ start_port: port, end_port: port })),
    { maxLength: 1 },
  ),
  action_list: fc.record({ simple_action: pick(['pass', 'pass', 'deny'] as const) }),
});
const rules = fc.array(rule, { maxLength: 3 }).map((list) => ({ policy_rule: list }));

const bodies: {
  [T in CompiledType]: (index: number) => fc.Arbitrary<Omit<ConfigObjectOf<T>, 'uuid' | 'fq_name' | 'name'>>;
} = {
  'virtual-network': (index) =>
    fc.record({
      network_ipam_refs: fc.constant([
        {
          ...ref('virtual-network', 9),
          attr: {
            ipam_subnets: [
              { subnet: { ip_prefix: `10.${index}.0.0`, ip_prefix_len: 24 }, default_gateway: `10.${index}.0.1` },
              { subnet: { ip_prefix: 'fd00::', ip_prefix_len: 64 } },
            ],
          },
        },
      ]),
      virtual_network_properties: fc.record(
        { vxlan_network_identifier: fc.integer({ min: 1, max: 3 }), mtu: pick([1500, 9000]) },
        { requiredKeys: [] },
      ),
      virtual_network_network_id: fc.option(fc.constant(index + 1), { nil: undefined }),
      route_target_list: targets,
      import_route_target_list: targets,
      export_route_target_list: targets,
      network_policy_refs: fc
        .uniqueArray(fc.nat(SIZES['network-policy'] - 1), { maxLength: 2 })
        .chain((indexes) =>
          fc.tuple(
            ...indexes.map((i) =>
              fc.nat(2).map((major) => ({ ...ref('network-policy', i), attr: { sequence: { major, minor: 0 } } })),
            ),
          ),
        ),
      port_security_enabled: fc.option(fc.boolean(), { nil: undefined }),
    }),
  'network-policy': () => fc.record({ network_policy_entries: rules }),
  'security-group': (index) => fc.record({ security_group_entries: rules, security_group_id: fc.constant(index + 1) }),
  'logical-router': () => fc.record({ virtual_machine_interface_refs: some('virtual-machine-interface') }),
  'virtual-machine': () => fc.record({ display_name: fc.option(pick(['pod-a', 'pod-b']), { nil: undefined }) }),
  'virtual-machine-interface': () =>
    fc.record({
      virtual_network_refs: one('virtual-network'),
      virtual_machine_refs: one('virtual-machine'),
      security_group_refs: some('security-group', 2),
      virtual_machine_interface_bindings: fc
        .option(pick(HOSTS), { nil: undefined, freq: 6 })
        .map((host) => ({ key_value_pair: host ? [{ key: HOST_BINDING_KEY, value: host }] : [] })),
      annotations: fc.option(fc.nat(2), { nil: undefined }).map((order) => ({
        key_value_pair: order === undefined ? [] : [{ key: INTERFACE_ORDER_ANNOTATION, value: `${order}` }],
      })),
      virtual_machine_interface_mtu: fc.option(fc.constant(1400), { nil: undefined }),
      port_security_enabled: fc.option(fc.boolean(), { nil: undefined }),
    }),
  'instance-ip': () =>
    fc.record({
      instance_ip_address: fc.option(address, { nil: undefined, freq: 6 }),
      virtual_machine_interface_refs: one('virtual-machine-interface'),
    }),
  'floating-ip': (index) =>
    fc.record({
      floating_ip_address: fc.constant(`203.0.113.${index + 1}`),
      floating_ip_fixed_ip_address: fc.option(address, { nil: undefined }),
      virtual_machine_interface_refs: one('virtual-machine-interface'),
    }),
  loadbalancer: (index) =>
    fc.record({
      loadbalancer_properties: fc.record(
        { vip_address: fc.constant(`10.96.0.${index + 1}`), admin_state: fc.option(fc.boolean(), { nil: undefined }) },
        { requiredKeys: ['vip_address'] },
      ),
      virtual_machine_interface_refs: one('virtual-machine-interface'),
    }),
  'loadbalancer-listener': () =>
    fc.record({
      loadbalancer_listener_properties: fc.record({
        protocol: pick(['TCP', 'UDP', 'HTTP'] as const),
        protocol_port: pick([80, 443]),
        admin_state: fc.option(fc.boolean(), { nil: undefined, freq: 4 }),
      }),
      loadbalancer_refs: one('loadbalancer'),
    }),
  'loadbalancer-pool': () =>
    fc.record({
      loadbalancer_pool_properties: fc.record({ admin_state: fc.option(fc.boolean(), { nil: undefined, freq: 4 }) }),
      loadbalancer_listener_refs: one('loadbalancer-listener'),
    }),
  'loadbalancer-member': () =>
    fc.record({
      parent_uuid: fc.nat(SIZES['loadbalancer-pool'] - 1).map((i) => uuidOf('loadbalancer-pool', i)),
      loadbalancer_member_properties: fc.record({
        address: address,
        protocol_port: pick([8080, 8443]),
        admin_state: fc.option(fc.boolean(), { nil: undefined, freq: 4 }),
      }),
    }),
};

type Operation = { type: CompiledType; index: number; body?: object };
const write = (type: CompiledType, index: number): fc.Arbitrary<Operation> =>
  (bodies[type] as (index: number) => fc.Arbitrary<object>)(index).map((body) => ({ type, index, body }));
const operation: fc.Arbitrary<Operation> = pick(Object.keys(SIZES) as CompiledType[]).chain((type) =>
  fc
    .nat(SIZES[type] - 1)
    .chain((index) =>
      fc.oneof({ weight: 4, arbitrary: write(type, index) }, { weight: 1, arbitrary: fc.constant({ type, index }) }),
    ),
);
/** Every object created once, in any order, then changes of any kind. */
const scenario = fc
  .tuple(
    ...Object.entries(SIZES).flatMap(([type, size]) =>
      Array.from({ length: size }, (_, index) => write(type as CompiledType, index)),
    ),
  )
  .chain((creates) => fc.shuffledSubarray(creates, { minLength: creates.length, maxLength: creates.length }))
  .chain((creates) =>
    fc.array(operation, { minLength: 1, maxLength: 30, size: 'max' }).map((changes) => [...creates, ...changes]),
  );

/** The state as text that does not depend on the order maps were filled in. */
function canonical(state: CompiledState): string {
  const sorted = <T>(map: Map<string, T>, value: (item: T) => unknown) =>
    [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, item]) => [key, value(item)]);
  const set = (items: Iterable<string>) => [...items].sort();
  return JSON.stringify({
    instances: sorted(state.routingInstances, (instance) => ({ ...instance })),
    acls: sorted(state.acls, (acl) => acl),
    interfaces: sorted(state.interfaces, (item) => item),
    hosts: sorted(state.hosts, (host) => ({ interfaces: set(host.interfaces), instances: set(host.routingInstances) })),
    carriers: sorted(state.carriers, set),
    hostsOf: sorted(state.hostsOf, set),
  });
}

/** What a host is sent: its instances and the ones they import, its interfaces, its ACLs. */
function hostView(state: CompiledState, host: string): string {
  const set = state.hosts.get(host);
  const instances = new Map<string, unknown>();
  for (const name of set?.routingInstances ?? []) {
    const instance = state.routingInstances.get(name)!;
    instances.set(name, instance.message);
    for (const imported of instance.imports) instances.set(imported, state.routingInstances.get(imported)!.message);
  }
  const interfaces = [...(set?.interfaces ?? [])].sort().map((uuid) => state.interfaces.get(uuid)!.message);
  const acls = [...hostAcls(state, host)].sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([[...instances].sort(([a], [b]) => a.localeCompare(b)), interfaces, acls]);
}

/** What an instance's routes depend on besides the ports: the instances they come from, and their VNIs. */
function routeContext(state: CompiledState, name: string): Map<string, number> {
  const instance = state.routingInstances.get(name);
  const origins = new Map<string, number>();
  if (!instance) return origins;
  origins.set(name, instance.vni);
  for (const imported of instance.imports) origins.set(imported, state.routingInstances.get(imported)!.vni);
  return origins;
}

function snapshot(state: CompiledState) {
  return {
    instances: new Map(
      [...state.routingInstances].map(([name, instance]) => [
        name,
        JSON.stringify([instance.message, instance.imports, [...(state.hostsOf.get(name) ?? [])].sort()]),
      ]),
    ),
    hosts: new Map(HOSTS.map((host) => [host, hostView(state, host)])),
    contexts: new Map([...state.routingInstances.keys()].map((name) => [name, routeContext(state, name)])),
    instanceOf: new Map([...state.interfaces].map(([uuid, item]) => [uuid, item.routingInstance])),
    /** What a port's routes come from: instance, host binding and allocated addresses. */
    routedBy: new Map(
      [...state.interfaces].map(([uuid, item]) => [
        uuid,
        JSON.stringify([item.routingInstance, item.host, item.message.addresses]),
      ]),
    ),
  };
}

test('the incremental graph equals a compile from scratch after every change, and its delta names what changed', () => {
  fc.assert(
    fc.property(scenario, (operations) => {
      const store = new ConfigStore();
      const graph = new CompilationGraph(store);
      graph.flush();
      let revision = 0;
      for (const [step, { type, index, body }] of operations.entries()) {
        const before = snapshot(graph.state);
        const uuid = uuidOf(type, index);
        revision += 1;
        if (body) {
          const fq = fqOf(type, index);
          const object = { ...body, uuid, fq_name: fq, name: fq.at(-1)!, parent_type: 'project' };
          store.upsert(stored(type, object as ConfigObjectOf<typeof type>, revision));
        } else store.remove(type, uuid);
        const delta = graph.flush();
        const where = `after step ${step} (${body ? 'write' : 'remove'} ${type} ${index})`;

        const full = compileFromScratch(store, (network, id) => graph.vrfIds.idOf(network, id));
        assert.equal(canonical(graph.state), canonical(full), `compiled state ${where}`);

        const after = snapshot(graph.state);
        for (const host of HOSTS) {
          if (before.hosts.get(host) !== after.hosts.get(host))
            assert.ok(delta.hosts.has(host), `host ${host} ${where}`);
        }
        for (const [name, context] of after.contexts) {
          const old = before.contexts.get(name);
          if (!old || !graph.state.hostsOf.has(name)) continue;
          const origins = new Set([...old.keys(), ...context.keys()]);
          if (
            [...origins].some(
              (origin) => old.has(origin) && context.has(origin) && old.get(origin) !== context.get(origin),
            )
          ) {
            assert.equal(delta.routeContexts.get(name), 'vni', `a VNI in the routes of ${name} ${where}`);
          } else if ([...origins].some((origin) => old.has(origin) !== context.has(origin))) {
            assert.ok(delta.routeContexts.has(name), `what ${name} imports ${where}`);
          }
        }
        for (const name of new Set([...before.instances.keys(), ...after.instances.keys()])) {
          if (before.instances.get(name) === after.instances.get(name)) continue;
          assert.ok(delta.instances.has(name), `instance ${name} changed ${where}`);
        }
        for (const uuid of new Set([...before.instanceOf.keys(), ...after.instanceOf.keys()])) {
          const from = before.instanceOf.get(uuid);
          const to = after.instanceOf.get(uuid);
          if (from === to) continue;
          assert.deepEqual(delta.moved.get(uuid), { before: from, after: to }, `interface ${uuid} moved ${where}`);
        }
        for (const uuid of new Set([...before.routedBy.keys(), ...after.routedBy.keys()])) {
          if (before.routedBy.get(uuid) === after.routedBy.get(uuid)) continue;
          assert.ok(delta.rerouted.has(uuid), `the routes of interface ${uuid} changed ${where}`);
        }
      }
    }),
    { numRuns: Number(process.env.WEFT_PROPERTY_RUNS ?? 200) },
  );
});
