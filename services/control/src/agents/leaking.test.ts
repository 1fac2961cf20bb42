// With the real config-api and NATS: what each agent gets, and route leaking by policy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { natsServerMissing, waitFor } from '@weft/kit/testing';
import { messageCodec } from '@weft/proto';
import type { Uve, Uve__Output } from '@weft/proto/gen/weft/analytics/v1/Uve.js';
import { connect, type NatsConnection } from 'nats';
import { configApiMissing, getJson, type Lab, PROJECT, startLab } from '../testing/lab.js';

const skip = natsServerMissing() ?? (await configApiMissing());
const RED = `${PROJECT.join(':')}:red:red`;
const BLUE = `${PROJECT.join(':')}:blue:blue`;
const GREEN = `${PROJECT.join(':')}:green:green`;

describe('routes and config per agent, with config-api', { skip }, () => {
  let lab: Lab;
  let bus: NatsConnection;
  const codec = messageCodec<Uve, Uve__Output>('weft.analytics.v1.Uve');
  const seen = new Map<string, Uve__Output>();
  before(async () => {
    lab = await startLab();
    bus = await connect({ servers: lab.natsUrl });
    bus.subscribe('weft.uve.>', {
      callback: (_error, message) => {
        const uve = codec.decode(message.data);
        seen.set(`${uve.type} ${uve.name}`, uve);
      },
    });
  });
  after(async () => {
    await bus?.close();
    await lab?.close();
  });

  it('gives an agent only its own host config and the routes of networks it has interfaces on', async () => {
    const red = await lab.network('red', '10.11.0.0/24');
    const blue = await lab.network('blue', '10.12.0.0/24');
    const green = await lab.network('green', '10.13.0.0/24');
    const a1 = await lab.pod('only-a1', red, 'host-a');
    // A change of a type control does not compile, between those it does: no gap for the feed.
    await lab.create('virtual-router', {
      fq_name: ['default-global-system-config', 'host-a'],
      virtual_router_ip_address: '192.0.2.1',
    });
    const b1 = await lab.pod('only-b1', red, 'host-b');
    const b2 = await lab.pod('only-b2', blue, 'host-b');
    const c1 = await lab.pod('only-c1', green, 'host-c');
    const a = lab.agent('host-a', '192.0.2.1');
    const b = lab.agent('host-b', '192.0.2.2');
    const c = lab.agent('host-c', '192.0.2.3');
    a.portUp({ uuid: a1.vmi.uuid, mac: a1.mac, addresses: [a1.cidr] });
    b.portUp({ uuid: b1.vmi.uuid, mac: b1.mac, addresses: [b1.cidr] });
    b.portUp({ uuid: b2.vmi.uuid, mac: b2.mac, addresses: [b2.cidr] });
    c.portUp({ uuid: c1.vmi.uuid, mac: c1.mac, addresses: [c1.cidr] });

    await waitFor(() => a.channels[0]!.routes.get(RED)?.has(`${b1.address}/32`), { what: "b1's route at host-a" });
    const state = a.channels[0]!;
    assert.deepEqual([...state.interfaces.keys()], [a1.vmi.uuid]);
    assert.deepEqual([...state.routingInstances.keys()], [RED]);
    assert.equal(state.interfaces.get(a1.vmi.uuid)!.addresses![0], a1.cidr);
    assert.equal(state.routingInstances.get(RED)!.vni, red.virtual_network_properties?.vxlan_network_identifier);
    assert.deepEqual([...state.routes.keys()], [RED]);
    assert.deepEqual([...state.routes.get(RED)!.keys()].sort(), [`${a1.address}/32`, `${b1.address}/32`].sort());
    // Its own port is reached directly, the other host's through a tunnel to that host.
    assert.deepEqual(state.routes.get(RED)!.get(`${a1.address}/32`)!.next_hop!.interface_uuid, a1.vmi.uuid);
    const tunnel = state.routes.get(RED)!.get(`${b1.address}/32`)!.next_hop!.tunnel!;
    assert.equal(tunnel.underlay_address, '192.0.2.2');
    assert.equal(tunnel.vni, red.virtual_network_properties?.vxlan_network_identifier);
    assert.equal(tunnel.mac, b1.mac);

    // Wait for the state itself, not for EndOfRoutes: a host can get its first EndOfRoutes before
    // control has seen the config of its pod, and then gets that config just after.
    await waitFor(
      () =>
        b.synced &&
        b.channels[0]!.routingInstances.size === 2 &&
        c.synced &&
        c.channels[0]!.routes.get(GREEN)?.has(`${c1.address}/32`),
      { what: "hosts b and c with their networks and c1's route" },
    );
    assert.deepEqual([...b.channels[0]!.routingInstances.keys()].sort(), [BLUE, RED].sort());
    assert.deepEqual([...c.channels[0]!.routingInstances.keys()], [GREEN]);
    assert.deepEqual([...c.channels[0]!.routes.get(GREEN)!.keys()], [`${c1.address}/32`]);
    assert.equal(c.channels[0]!.routes.has(RED), false);
  });

  it('leaks routes both ways under a pass policy, withdraws them when the policy goes, and compiles a deny rule', async () => {
    const left = await lab.network('left', '10.21.0.0/24');
    const right = await lab.network('right', '10.22.0.0/24');
    const LEFT = `${PROJECT.join(':')}:left:left`;
    const RIGHT = `${PROJECT.join(':')}:right:right`;
    const policy = await lab.policy('left-right', [
      {
        direction: '<>',
        protocol: 'tcp',
        src_addresses: [{ virtual_network: left.fq_name.join(':') }],
        dst_addresses: [{ virtual_network: right.fq_name.join(':') }],
        src_ports: [{ start_port: -1, end_port: -1 }],
        dst_ports: [{ start_port: 22, end_port: 22 }],
        action_list: { simple_action: 'deny' },
      },
      {
        direction: '<>',
        protocol: 'any',
        src_addresses: [{ virtual_network: left.fq_name.join(':') }],
        dst_addresses: [{ virtual_network: right.fq_name.join(':') }],
        src_ports: [{ start_port: -1, end_port: -1 }],
        dst_ports: [{ start_port: -1, end_port: -1 }],
        action_list: { simple_action: 'pass' },
      },
    ]);
    const l1 = await lab.pod('leak-l1', left, 'host-l');
    const r1 = await lab.pod('leak-r1', right, 'host-r');
    const l = lab.agent('host-l', '192.0.2.11');
    const r = lab.agent('host-r', '192.0.2.12');
    l.portUp({ uuid: l1.vmi.uuid, mac: l1.mac, addresses: [l1.cidr] });
    r.portUp({ uuid: r1.vmi.uuid, mac: r1.mac, addresses: [r1.cidr] });
    await waitFor(() => l.synced && r.synced, { what: 'both agents synced' });
    assert.equal(l.channels[0]!.routes.get(LEFT)?.has(`${r1.address}/32`) ?? false, false, 'no leak before the policy');

    const ref = [{ to: policy.fq_name, attr: { sequence: { major: 0, minor: 0 } } }];
    await lab.update('virtual-network', left.uuid, { network_policy_refs: ref });
    await lab.update('virtual-network', right.uuid, { network_policy_refs: ref });
    await waitFor(
      () =>
        l.channels[0]!.routes.get(LEFT)?.has(`${r1.address}/32`) &&
        r.channels[0]!.routes.get(RIGHT)?.has(`${l1.address}/32`),
      { what: 'routes leaked both ways' },
    );
    const leaked = l.channels[0]!.routes.get(LEFT)!.get(`${r1.address}/32`)!.next_hop!.tunnel!;
    assert.equal(leaked.underlay_address, '192.0.2.12');
    assert.equal(
      leaked.vni,
      right.virtual_network_properties?.vxlan_network_identifier,
      'the VNI of the network the address is in',
    );

    const aclName = l.channels[0]!.routingInstances.get(LEFT)!.acl_name!;
    const acl = l.channels[0]!.acls.get(aclName)!;
    const deny = acl.rules!.find((rule) => rule.action === 'ACTION_DENY')!;
    assert.equal(deny.protocol, 6);
    assert.deepEqual(deny.destination_ports, { start: 22, end: 22 });
    assert.equal(deny.destination!.routing_instance, RIGHT);
    const acls = await getJson(`${lab.controls[0]!.httpUrl}/acls`);
    assert.ok(
      acls.acls.some((entry: { name: string }) => entry.name === aclName),
      'the ACL on the introspection port',
    );

    await lab.update('virtual-network', left.uuid, { network_policy_refs: [] });
    await lab.update('virtual-network', right.uuid, { network_policy_refs: [] });
    await lab.remove('network-policy', policy.uuid);
    await waitFor(
      () =>
        !l.channels[0]!.routes.get(LEFT)?.has(`${r1.address}/32`) &&
        !r.channels[0]!.routes.get(RIGHT)?.has(`${l1.address}/32`),
      { what: 'leaked routes withdrawn' },
    );
    assert.ok(l.channels[0]!.routes.get(LEFT)!.has(`${l1.address}/32`), 'its own network routes stay');
    assert.equal(l.channels[0]!.routingInstances.get(LEFT)!.acl_name, '');
  });

  it('compiles security groups into a per-interface ACL, none when port security is off', async () => {
    const network = await lab.network('guarded', '10.71.0.0/24');
    const group = await lab.create('security-group', {
      fq_name: [...PROJECT, 'web'],
      security_group_entries: {
        policy_rule: [
          {
            direction: '>',
            protocol: 'tcp',
            src_addresses: [{ subnet: { ip_prefix: '0.0.0.0', ip_prefix_len: 0 } }],
            dst_addresses: [{ security_group: 'local' }],
            src_ports: [{ start_port: -1, end_port: -1 }],
            dst_ports: [{ start_port: 80, end_port: 80 }],
            action_list: { simple_action: 'pass' },
          },
          {
            direction: '>',
            protocol: 'any',
            src_addresses: [{ security_group: 'local' }],
            dst_addresses: [{ subnet: { ip_prefix: '0.0.0.0', ip_prefix_len: 0 } }],
            action_list: { simple_action: 'pass' },
          },
        ],
      },
    });
    const pod = await lab.pod('guarded-1', network, 'host-g');
    await lab.update('virtual-machine-interface', pod.vmi.uuid, { security_group_refs: [{ uuid: group.uuid }] });
    const agent = lab.agent('host-g', '192.0.2.61');
    const ownPrefix = `${pod.address}/32`;
    const acl = await waitFor(
      () => {
        const name = agent.channels[0]!.interfaces.get(pod.vmi.uuid)?.acl_name;
        return name ? agent.channels[0]!.acls.get(name) : undefined;
      },
      { what: "the interface's security-group ACL" },
    );
    assert.equal(acl.default_action, 'ACTION_DENY');
    const [ingress, egress] = acl.rules!;
    assert.equal(ingress!.source!.prefix, '0.0.0.0/0');
    assert.equal(ingress!.destination!.prefix, ownPrefix, 'ingress ends at this interface');
    assert.deepEqual(ingress!.destination_ports, { start: 80, end: 80 });
    assert.equal(ingress!.protocol, 6);
    assert.equal(egress!.source!.prefix, ownPrefix, 'egress starts at this interface');
    assert.equal(egress!.destination!.prefix, '0.0.0.0/0');

    await lab.update('virtual-machine-interface', pod.vmi.uuid, { port_security_enabled: false });
    await waitFor(() => agent.channels[0]!.interfaces.get(pod.vmi.uuid)?.acl_name === '', {
      what: 'no ACL without port security',
    });
    await waitFor(() => !agent.channels[0]!.acls.has(acl.name!), { what: 'the ACL deleted at the agent' });
  });

  it('reports each routing instance and agent connection as a UVE on NATS', async () => {
    {
      const instance = await waitFor(() => seen.get(`routing-instance ${RED}`), {
        what: 'a routing-instance UVE',
        timeoutMs: 15_000,
      });
      assert.equal(instance.source, 'control:lab-0');
      // Route counts are published on a short timer: wait for the settled figure.
      await waitFor(() => JSON.parse(seen.get(`routing-instance ${RED}`)!.fields_json).routes === 2, {
        what: 'the route count in the UVE',
      });
      const fields = JSON.parse(seen.get(`routing-instance ${RED}`)!.fields_json);
      assert.ok(fields.vrf_id > 0);
      const vrouter = await waitFor(() => seen.get('vrouter host-a'), { what: 'a vrouter UVE', timeoutMs: 15_000 });
      assert.equal(JSON.parse(vrouter.fields_json).control_connected, true);
    }
  });

  it('answers introspection: routing instances, routes by VRF, agents; a bad query names the field', async () => {
    const base = lab.controls[0]!.httpUrl;
    const instances = await getJson(`${base}/routing-instances`);
    const red = instances.routing_instances.find((entry: { name: string }) => entry.name === RED);
    assert.ok(red.vrf_id > 0);
    const routes = await getJson(`${base}/routes?vrf=${red.vrf_id}`);
    assert.equal(routes.routing_instance, RED);
    assert.equal(routes.routes.length, 2);
    const agents = await getJson(`${base}/agents`);
    assert.ok(
      agents.agents.some((agent: { host: string; connected: boolean }) => agent.host === 'host-a' && agent.connected),
    );
    const missing = await fetch(`${base}/routes`);
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as { error: { field: string } }).error.field, 'vrf');
    const unknown = await fetch(`${base}/routes?vrf=nope`);
    assert.equal(unknown.status, 404);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /weft_control_agent_queue_depth\{of="sum"\} \d+/);
    assert.match(metrics, new RegExp(`weft_control_routes\\{routing_instance="${RED}"\\} 2`));
    assert.match(metrics, /weft_control_agents_connected \d+/);
    assert.doesNotMatch(metrics, /weft_control_config_relists_total\{reason="(gap|trimmed)"\} [1-9]/);
    assert.match(metrics, /weft_control_agent_messages_out_total\{body="routes"\} \d+/);
  });
});
