// The underlay's first stage (underlay_guard.c) in the kernel through BPF_PROG_TEST_RUN, as XDP
// and as its TC twin, on the seeded host: VXLAN from an unknown peer, for an unknown VNI, for no
// port of this host, or of a new flow that policy denies is dropped and counted by reason;
// VXLAN of an allowed or known flow, and everything that is not VXLAN to this host, passes.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { type DropReasonName, XdpAction } from '../maps/constants.js';
import {
  createHostFixture,
  GATEWAY,
  type HostFixture,
  REMOTE_HOST_ADDRESS,
  REMOTE_HOST_MAC,
  ROUTER_MAC,
  UNDERLAY_ADDRESS,
  UNDERLAY_MAC,
  VNI,
  VRF,
} from './host-fixture.js';
import { datapathMissing } from './native.js';
import { ETH_P_IP, ethernet, IPPROTO_TCP, IPPROTO_UDP, ipv4, TCP_SYN, tcp, udp, vxlan } from './packets.js';
import { TcAction } from './test-run.js';

function syn(src: string, dst: string, from: string, to: string, dport: number): Buffer {
  return ethernet({
    dst,
    src,
    type: ETH_P_IP,
    payload: ipv4({
      src: from,
      dst: to,
      protocol: IPPROTO_TCP,
      ttl: 63,
      payload: tcp({ src: from, dst: to, sport: 41000, dport, flags: TCP_SYN }),
    }),
  });
}

function tunnelled(inner: Buffer, o: { from?: string; vni?: number; port?: number } = {}): Buffer {
  const from = o.from ?? REMOTE_HOST_ADDRESS;
  return ethernet({
    dst: UNDERLAY_MAC,
    src: REMOTE_HOST_MAC,
    type: ETH_P_IP,
    payload: ipv4({
      src: from,
      dst: UNDERLAY_ADDRESS,
      protocol: IPPROTO_UDP,
      df: true,
      payload: udp({
        src: from,
        dst: UNDERLAY_ADDRESS,
        sport: 50000,
        dport: o.port ?? 4789,
        checksum: false,
        payload: vxlan({ vni: o.vni ?? VNI, frame: inner }),
      }),
    }),
  });
}

describe('the underlay first stage in the kernel (BPF_PROG_TEST_RUN)', { skip: datapathMissing() ?? false }, () => {
  let host: HostFixture;
  before(() => {
    host = createHostFixture();
  });
  after(() => host?.dispose());
  afterEach(() => {
    host.datapath.maps.conntrack.clear();
    host.datapath.maps.acls.clear();
    host.datapath.maps.vrfs.set(VRF, { vni: VNI, aclId: 0, gateway4: GATEWAY, gateway6: 'fd00:1::1' });
  });

  const toA = (dport = 80) => syn(ROUTER_MAC, host.c.mac, host.c.ip, host.a.ip, dport);
  const drops = () => host.datapath.maps.stats.get(host.underlay.ifindex)!.drops;
  /** Both entry points on the same packet: the XDP verdict and the TC verdict, as pass/drop. */
  function judge(packet: Buffer): { xdp: 'pass' | 'drop'; tc: 'pass' | 'drop' } {
    const xdp = host.datapath.run('underlayGuard', packet, { ingressIfindex: host.underlay.ifindex });
    const tc = host.datapath.runTc('underlayGuardTc', packet, host.underlay.ifindex);
    assert.deepEqual(xdp.packet, packet, 'the first stage never changes a packet');
    const verdict = (value: number, pass: number) => (value === pass ? 'pass' : 'drop');
    return { xdp: verdict(xdp.verdict, XdpAction.pass), tc: verdict(tc.verdict, TcAction.ok) };
  }

  function dropsBy(reason: DropReasonName, packet: Buffer): void {
    const before = drops()[reason];
    assert.deepEqual(judge(packet), { xdp: 'drop', tc: 'drop' }, reason);
    assert.equal(drops()[reason] - before, 2n, `${reason} counted once per entry point`);
  }

  test('VXLAN of an allowed flow to a pod of this host passes', () => {
    assert.deepEqual(judge(tunnelled(toA())), { xdp: 'pass', tc: 'pass' });
  });

  test('VXLAN from an address no route points at is dropped (unknown peer)', () => {
    dropsBy('unknownPeer', tunnelled(toA(), { from: '192.0.2.99' }));
  });

  test('VXLAN for a VNI of no routing instance here is dropped (unknown VNI)', () => {
    dropsBy('unknownVni', tunnelled(toA(), { vni: 4242 }));
  });

  test('VXLAN for an address that is no port of this host is dropped (no route)', () => {
    dropsBy('noRoute', tunnelled(syn(ROUTER_MAC, host.c.mac, host.c.ip, '10.1.0.99', 80)));
  });

  test('a new flow that policy denies at ingress is dropped; a flow conntrack knows passes', () => {
    host.datapath.maps.acls.set(10, {
      defaultAction: 'pass',
      rules: [{ protocol: IPPROTO_TCP, destinationPorts: [22, 22], action: 'deny' }],
    });
    host.datapath.maps.vrfs.set(VRF, { vni: VNI, aclId: 10, gateway4: GATEWAY });
    dropsBy('policy', tunnelled(toA(22)));
    assert.deepEqual(judge(tunnelled(toA(80))), { xdp: 'pass', tc: 'pass' }, 'the policy lets port 80 through');
    // The first stage learns nothing: conntrack is the forwarding stage's.
    assert.equal(host.datapath.maps.conntrack.entries().length, 0);
    // A flow the forwarding stage let in (before the deny) passes on its conntrack entry.
    host.datapath.maps.conntrack.set(
      {
        source: host.c.ip,
        destination: host.a.ip,
        sourcePort: 41000,
        destinationPort: 22,
        protocol: IPPROTO_TCP,
        vrfId: VRF,
      },
      { createdNs: 1n, lastSeenNs: 1n, ifindex: host.underlay.ifindex },
    );
    assert.deepEqual(judge(tunnelled(toA(22))), { xdp: 'pass', tc: 'pass' });
  });

  test('what is not VXLAN to this host passes untouched: other ports, other traffic', () => {
    assert.deepEqual(judge(tunnelled(toA(), { port: 4790 })), { xdp: 'pass', tc: 'pass' });
    assert.deepEqual(judge(syn(UNDERLAY_MAC, REMOTE_HOST_MAC, REMOTE_HOST_ADDRESS, UNDERLAY_ADDRESS, 22)), {
      xdp: 'pass',
      tc: 'pass',
    });
  });
});
