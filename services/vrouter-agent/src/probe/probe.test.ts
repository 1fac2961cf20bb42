// Probes against the real programs in the kernel (BPF_PROG_TEST_RUN) on a seeded host: the
// verdict, the ACL and the rule that decided come back from the datapath's trace, in TC and XDP
// mode, and the trace is armed for the probe's flow only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AccessControlList__Output } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import { compileAcl } from '../datapath/compile.js';
import {
  createHostFixture,
  type HostFixture,
  REMOTE_HOST_ADDRESS,
  ROUTER_MAC,
  UNDERLAY_ADDRESS,
  VNI,
  VRF,
} from '../datapath/host-fixture.js';
import { datapathMissing } from '../datapath/native.js';
import { ethernet, IPPROTO_UDP, ipv4, udp } from '../datapath/packets.js';
import { aclIds } from '../datapath/reconciler.js';
import type { HostView } from '../host-state/host-state.js';
import type { DatapathInspection } from '../introspect/inspection.js';
import { probeTraceLayout } from '../maps/index.js';
import { probeFromPort, probeFromTunnel } from './probe.js';

const skip = datapathMissing();
const NETWORK = 'default-domain:p:blue:blue';
const ACL = 'default-domain:p:blue:network-policy';
const ANY_PORTS = { start: 0, end: 65535 };

/** No SSH to B (rule 0, from policy no-ssh), then everything within the network (rule 1). */
const acl: AccessControlList__Output = {
  name: ACL,
  default_action: 'ACTION_DENY',
  rules: [
    {
      sequence: 0,
      protocol: 6,
      source: { match: 'any', any: true },
      destination: { match: 'prefix', prefix: '10.1.0.3/32' },
      source_ports: ANY_PORTS,
      destination_ports: { start: 22, end: 22 },
      action: 'ACTION_DENY',
      bidirectional: false,
      origin: { type: 'network-policy', name: 'default-domain:p:no-ssh', rule: 0 },
    },
    {
      sequence: 1,
      protocol: 0,
      source: { match: 'routing_instance', routing_instance: NETWORK },
      destination: { match: 'routing_instance', routing_instance: NETWORK },
      source_ports: ANY_PORTS,
      destination_ports: ANY_PORTS,
      action: 'ACTION_PASS',
      bidirectional: true,
      origin: null,
    },
  ],
};

let host: HostFixture;
let view: HostView;
const inspection = (mode: 'tc' | 'xdp'): DatapathInspection => ({
  hostName: 'probe-test',
  datapath: host.datapath,
  mode,
  bindings: new Map([
    ['vmi-a', host.a.ifindex],
    ['vmi-b', host.b.ifindex],
  ]),
  underlayIfindex: host.underlay.ifindex,
  underlayAddress: UNDERLAY_ADDRESS,
  tunnelPort: 4789,
});

const iface = (uuid: string, pod: { ip: string; ip6: string; mac: string }) =>
  ({
    uuid,
    routing_instance: NETWORK,
    mac: pod.mac,
    addresses: [`${pod.ip}/24`, `${pod.ip6}/64`],
    virtual_machine_name: `default/${uuid}`,
  }) as never;

describe('probes through the datapath', { skip }, () => {
  before(() => {
    host = createHostFixture();
    const id = aclIds([ACL]).get(ACL)!;
    host.datapath.maps.acls.set(
      id,
      compileAcl(acl, { vrfOf: (name: string) => (name === NETWORK ? VRF : undefined) } as never),
    );
    host.datapath.maps.vrfs.set(VRF, { vni: VNI, aclId: id, gateway4: '10.1.0.1' });
    view = {
      routingInstances: new Map([[NETWORK, { name: NETWORK, vrf_id: VRF } as never]]),
      interfaces: new Map([
        ['vmi-a', iface('vmi-a', host.a)],
        ['vmi-b', iface('vmi-b', host.b)],
      ]),
      acls: new Map([[ACL, acl as never]]),
      routes: new Map(),
    };
  });
  after(() => host?.dispose());

  for (const mode of ['tc', 'xdp'] as const) {
    test(`${mode}: a denied probe names the ACL, the rule and the policy it came from`, async () => {
      const before = host.datapath.maps.stats.get(host.a.ifindex)!.drops.policy;
      const leg = await probeFromPort(inspection(mode), view, {
        interface_uuid: 'vmi-a',
        destination: host.b.ip,
        protocol: 'tcp',
        port: 22,
      });
      assert.equal(leg.result, 'drop');
      assert.equal(leg.reason, 'policy');
      assert.equal(leg.verdict, 'drop');
      assert.deepEqual(leg.acls, [
        {
          acl: ACL,
          rule: 0,
          action: 'deny',
          origin: { type: 'network-policy', name: 'default-domain:p:no-ssh', rule: 0 },
        },
      ]);
      assert.equal(host.datapath.maps.stats.get(host.a.ifindex)!.drops.policy - before, 1n, 'the probe is counted');
    });

    test(`${mode}: a probe the policy passes is delivered to the pod, by the rule that passed it`, async () => {
      const leg = await probeFromPort(inspection(mode), view, {
        interface_uuid: 'vmi-a',
        destination: host.b.ip,
        protocol: 'icmp',
      });
      assert.equal(leg.result, 'local');
      assert.equal(leg.verdict, 'redirect');
      assert.deepEqual(leg.delivered, { ifindex: host.b.ifindex, mac: host.b.mac, interface_uuid: 'vmi-b' });
      // Rule 1 is bidirectional: two rules in the datapath, one rule of control's ACL.
      assert.deepEqual(
        leg.acls.map(({ acl: name, rule, action }) => ({ name, rule, action })),
        [{ name: ACL, rule: 1, action: 'pass' }],
      );
    });
  }

  test('IPv6: the echo of the destination’s family, through the same ACL', async () => {
    const leg = await probeFromPort(inspection('tc'), view, {
      interface_uuid: 'vmi-a',
      destination: host.b.ip6,
      protocol: 'icmp',
    });
    assert.equal(leg.flow.protocol, 58, 'ICMPv6');
    assert.equal(leg.result, 'local');
    assert.equal(leg.delivered?.interface_uuid, 'vmi-b');
    assert.deepEqual(
      leg.acls.map(({ rule, action }) => ({ rule, action })),
      [{ rule: 1, action: 'pass' }],
    );
  });

  test('to another host: the tunnel, and the frame the remote leg runs through its underlay program', async () => {
    const leg = await probeFromPort(inspection('tc'), view, {
      interface_uuid: 'vmi-a',
      destination: host.c.ip,
      protocol: 'udp',
      port: 53,
    });
    assert.equal(leg.result, 'tunnel');
    assert.equal(leg.tunnel?.remote, REMOTE_HOST_ADDRESS);
    assert.equal(leg.tunnel?.vni, VNI);
    const inner = Buffer.from(leg.tunnel!.frame, 'hex');
    assert.equal(inner.subarray(0, 6).toString('hex'), host.c.mac.replaceAll(':', ''), 'addressed to the remote pod');

    // The same host plays the receiver: a datagram from C's host to B arrives through the tunnel.
    const toB = ethernet({
      dst: host.b.mac,
      src: ROUTER_MAC,
      type: 0x0800,
      payload: ipv4({
        src: host.c.ip,
        dst: host.b.ip,
        protocol: IPPROTO_UDP,
        payload: udp({ src: host.c.ip, dst: host.b.ip, sport: 40000, dport: 53 }),
      }),
    });
    const arriving = await probeFromTunnel(inspection('tc'), view, {
      frame: toB.toString('hex'),
      vni: VNI,
      from: REMOTE_HOST_ADDRESS,
      flow: {
        source: host.c.ip,
        destination: host.b.ip,
        sourcePort: 40000,
        destinationPort: 53,
        protocol: IPPROTO_UDP,
        vrfId: 0,
      },
    });
    assert.equal(arriving.program, 'weft_underlay_ingress');
    assert.equal(arriving.result, 'local');
    assert.equal(arriving.delivered?.interface_uuid, 'vmi-b');
  });

  test('an ACL the host does not hold denies, and the probe says so', async () => {
    host.datapath.maps.vrfs.set(VRF, { vni: VNI, aclId: 0x7777, gateway4: '10.1.0.1' });
    try {
      const leg = await probeFromPort(inspection('tc'), view, {
        interface_uuid: 'vmi-a',
        destination: host.b.ip,
        protocol: 'icmp',
      });
      assert.equal(leg.result, 'drop');
      assert.deepEqual(leg.acls, [{ acl: 'acl 30583', rule: null, action: 'deny', missing: true }]);
    } finally {
      host.datapath.maps.vrfs.set(VRF, { vni: VNI, aclId: aclIds([ACL]).get(ACL)!, gateway4: '10.1.0.1' });
    }
  });

  test('the trace is disarmed after a probe: traffic that is not the probe leaves it empty', async () => {
    await probeFromPort(inspection('tc'), view, { interface_uuid: 'vmi-a', destination: host.b.ip, protocol: 'icmp' });
    assert.deepEqual(host.datapath.maps.probe.get(0), Buffer.alloc(probeTraceLayout.size));
  });

  test('bad requests name the field', async () => {
    await assert.rejects(
      probeFromPort(inspection('tc'), view, { interface_uuid: 'nope', destination: host.b.ip, protocol: 'icmp' }),
      /interface_uuid/,
    );
    await assert.rejects(
      probeFromTunnel(inspection('tc'), view, { frame: '00', vni: 4242, from: REMOTE_HOST_ADDRESS, flow: {} as never }),
      /vni/,
    );
  });
});
