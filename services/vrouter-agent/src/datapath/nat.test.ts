// Floating IPs (bpf/lib/nat.h) in the kernel through BPF_PROG_TEST_RUN, on the seeded host:
// traffic from outside to a floating address arrives on the underlay and is translated to the
// port's own address and redirected into the pod; the pod's replies and its own connections
// leave with the floating address as their source; conntrack keeps the two directions on the
// same floating address when a port has several; a floating address that moved or went away
// cuts the flows of the port that had it. Each fixture is a packet in and the packet out, whole:
// equal frames mean the IP and TCP/UDP checksums were patched right too.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { createHostFixture, type HostFixture, ROUTER_MAC, UNDERLAY_MAC, VRF } from './host-fixture.js';
import { datapathMissing } from './native.js';
import {
  ETH_P_IP,
  ethernet,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  icmpEcho,
  ipv4,
  TCP_ACK,
  TCP_SYN,
  tcpFrame4,
  udpFrame4,
} from './packets.js';
import { TcAction } from './test-run.js';

const OUTSIDE = '198.51.100.7';
const GATEWAY_MAC = '02:00:c6:33:64:01';
const FIP = '203.0.113.10';
const FIP2 = '203.0.113.11';

function pingFrame(o: { dst: string; src: string; from: string; to: string; type: 0 | 8; ttl?: number }) {
  return ethernet({
    dst: o.dst,
    src: o.src,
    type: ETH_P_IP,
    payload: ipv4({
      src: o.from,
      dst: o.to,
      protocol: IPPROTO_ICMP,
      ttl: o.ttl ?? 64,
      payload: icmpEcho({ type: o.type, id: 7, seq: 1 }),
    }),
  });
}

describe('floating IPs in the TC datapath (BPF_PROG_TEST_RUN)', { skip: datapathMissing() ?? false }, () => {
  let host: HostFixture;
  before(() => {
    host = createHostFixture();
  });
  after(() => host?.dispose());
  afterEach(() => {
    const m = host.datapath.maps;
    m.conntrack.clear();
    m.acls.clear();
    m.floatingIps.clear();
    m.floatingSources.clear();
    m.interfaces.set(host.a.ifindex, { vrfId: VRF, aclId: 0, mtu: 1450, mac: host.a.mac, portSecurity: false });
  });
  /** Pod a holds FIP (and FIP2 when asked); its own connections leave with FIP. */
  const associate = (both = false) => {
    const { a } = host;
    const m = host.datapath.maps;
    m.floatingIps.set(FIP, { fixedAddress: a.ip, ifindex: a.ifindex, vrfId: VRF });
    if (both) m.floatingIps.set(FIP2, { fixedAddress: a.ip, ifindex: a.ifindex, vrfId: VRF });
    m.floatingSources.set({ vrfId: VRF, address: a.ip }, FIP);
  };
  const fromOutside = (packet: Buffer, program: 'underlayGuardTc' | 'underlayNatTc' = 'underlayGuardTc') =>
    host.datapath.runTc(program, packet, host.underlay.ifindex);
  const fromPod = (packet: Buffer, ifindex = host.a.ifindex) => host.datapath.runTc('podEgressTc', packet, ifindex);
  const underlayStats = () => host.datapath.maps.stats.get(host.underlay.ifindex)!;

  test('outside → floating address: destination translated, TTL down, redirected into the pod', () => {
    const { a } = host;
    associate();
    const before = underlayStats().txLocal;
    const run = fromOutside(
      tcpFrame4({
        dst: UNDERLAY_MAC,
        src: GATEWAY_MAC,
        from: OUTSIDE,
        to: FIP,
        sport: 50000,
        dport: 80,
        flags: TCP_SYN,
      }),
    );
    assert.equal(run.verdict, TcAction.redirect);
    assert.deepEqual(
      run.packet,
      tcpFrame4({
        dst: a.mac,
        src: ROUTER_MAC,
        from: OUTSIDE,
        to: a.ip,
        sport: 50000,
        dport: 80,
        flags: TCP_SYN,
        ttl: 63,
      }),
    );
    assert.equal(underlayStats().txLocal - before, 1n);
    const entries = [...host.datapath.maps.conntrack.entries()];
    assert.equal(entries.length, 1);
    assert.equal(entries[0]![1].natAddress, FIP, 'conntrack holds the floating address of the flow');
  });

  test('the pod’s reply leaves with the floating address as its source, towards the host’s routing', () => {
    const { a } = host;
    associate();
    fromOutside(
      tcpFrame4({
        dst: UNDERLAY_MAC,
        src: GATEWAY_MAC,
        from: OUTSIDE,
        to: FIP,
        sport: 50001,
        dport: 80,
        flags: TCP_SYN,
      }),
    );
    const run = fromPod(
      tcpFrame4({
        dst: ROUTER_MAC,
        src: a.mac,
        from: a.ip,
        to: OUTSIDE,
        sport: 80,
        dport: 50001,
        flags: TCP_SYN | TCP_ACK,
      }),
    );
    assert.equal(run.verdict, TcAction.redirect);
    // bpf_redirect_neigh fills in the MACs once the kernel has resolved the gateway.
    assert.deepEqual(
      run.packet,
      tcpFrame4({
        dst: ROUTER_MAC,
        src: a.mac,
        from: FIP,
        to: OUTSIDE,
        sport: 80,
        dport: 50001,
        flags: TCP_SYN | TCP_ACK,
        ttl: 63,
      }),
    );
  });

  test('the pod’s own connection to the outside: source translated, and the answer comes back in', () => {
    const { a } = host;
    associate();
    const out = fromPod(udpFrame4({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: OUTSIDE, sport: 40000, dport: 53 }));
    assert.equal(out.verdict, TcAction.redirect);
    assert.deepEqual(
      out.packet,
      udpFrame4({ dst: ROUTER_MAC, src: a.mac, from: FIP, to: OUTSIDE, sport: 40000, dport: 53, ttl: 63 }),
    );
    const back = fromOutside(
      udpFrame4({ dst: UNDERLAY_MAC, src: GATEWAY_MAC, from: OUTSIDE, to: FIP, sport: 53, dport: 40000 }),
    );
    assert.equal(back.verdict, TcAction.redirect);
    assert.deepEqual(
      back.packet,
      udpFrame4({ dst: a.mac, src: ROUTER_MAC, from: OUTSIDE, to: a.ip, sport: 53, dport: 40000, ttl: 63 }),
    );
  });

  test('a routed address (mapped to itself): in from outside and back out untouched but for TTL and MACs', () => {
    const { a } = host;
    const m = host.datapath.maps;
    m.floatingIps.set(a.ip, { fixedAddress: a.ip, ifindex: a.ifindex, vrfId: VRF });
    m.floatingSources.set({ vrfId: VRF, address: a.ip }, a.ip);
    const frame = { from: OUTSIDE, to: a.ip, sport: 50003, dport: 80, flags: TCP_SYN };
    const into = fromOutside(tcpFrame4({ dst: UNDERLAY_MAC, src: GATEWAY_MAC, ...frame }));
    assert.equal(into.verdict, TcAction.redirect);
    assert.deepEqual(into.packet, tcpFrame4({ dst: a.mac, src: ROUTER_MAC, ...frame, ttl: 63 }));
    const reply = { from: a.ip, to: OUTSIDE, sport: 80, dport: 50003, flags: TCP_SYN | TCP_ACK };
    const out = fromPod(tcpFrame4({ dst: ROUTER_MAC, src: a.mac, ...reply }));
    assert.equal(out.verdict, TcAction.redirect);
    assert.deepEqual(out.packet, tcpFrame4({ dst: ROUTER_MAC, src: a.mac, ...reply, ttl: 63 }));
  });

  test('a route learnt from the gateway (outside next hop) lets a routed pod out; a pod without a way out stays in', () => {
    const { a } = host;
    const m = host.datapath.maps;
    const route = { vrfId: VRF, prefix: '198.51.100.0/24' };
    m.prefixRoutes4.set(route, { kind: 'outside', vrfId: VRF, gateway: '192.0.2.254' });
    try {
      const packet = udpFrame4({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: OUTSIDE, sport: 40001, dport: 53 });
      const podDrops = () => m.stats.get(a.ifindex)!.drops.noRoute;
      const before = podDrops();
      assert.equal(fromPod(packet).verdict, TcAction.shot, 'no own or floating address to leave with');
      assert.ok(podDrops() > before, 'counted as no route on the pod');
      m.floatingSources.set({ vrfId: VRF, address: a.ip }, a.ip);
      m.floatingIps.set(a.ip, { fixedAddress: a.ip, ifindex: a.ifindex, vrfId: VRF });
      const out = fromPod(packet);
      assert.equal(out.verdict, TcAction.redirect);
      assert.deepEqual(
        out.packet,
        udpFrame4({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: OUTSIDE, sport: 40001, dport: 53, ttl: 63 }),
      );
    } finally {
      m.prefixRoutes4.delete([route]);
    }
  });

  test('a UDP datagram without checksum keeps none; ICMP echo is translated both ways', () => {
    const { a } = host;
    associate();
    const out = fromPod(
      udpFrame4({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: OUTSIDE, sport: 40001, dport: 53, checksum: false }),
    );
    assert.deepEqual(
      out.packet,
      udpFrame4({
        dst: ROUTER_MAC,
        src: a.mac,
        from: FIP,
        to: OUTSIDE,
        sport: 40001,
        dport: 53,
        ttl: 63,
        checksum: false,
      }),
    );
    const ping = fromOutside(pingFrame({ dst: UNDERLAY_MAC, src: GATEWAY_MAC, from: OUTSIDE, to: FIP, type: 8 }));
    assert.equal(ping.verdict, TcAction.redirect);
    assert.deepEqual(
      ping.packet,
      pingFrame({ dst: a.mac, src: ROUTER_MAC, from: OUTSIDE, to: a.ip, type: 8, ttl: 63 }),
    );
    const pong = fromPod(pingFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: OUTSIDE, type: 0 }));
    assert.equal(pong.verdict, TcAction.redirect);
    assert.deepEqual(pong.packet, pingFrame({ dst: ROUTER_MAC, src: a.mac, from: FIP, to: OUTSIDE, type: 0, ttl: 63 }));
  });

  test('several floating addresses on one port: each connection answers from the address it came to', () => {
    const { a } = host;
    associate(true);
    fromOutside(
      tcpFrame4({
        dst: UNDERLAY_MAC,
        src: GATEWAY_MAC,
        from: OUTSIDE,
        to: FIP2,
        sport: 50002,
        dport: 80,
        flags: TCP_SYN,
      }),
    );
    fromOutside(
      tcpFrame4({
        dst: UNDERLAY_MAC,
        src: GATEWAY_MAC,
        from: OUTSIDE,
        to: FIP,
        sport: 50003,
        dport: 80,
        flags: TCP_SYN,
      }),
    );
    const reply = (dport: number) =>
      fromPod(tcpFrame4({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: OUTSIDE, sport: 80, dport, flags: TCP_ACK }));
    const via2 = reply(50002);
    const via1 = reply(50003);
    assert.equal(via2.verdict, TcAction.redirect);
    assert.deepEqual(
      via2.packet,
      tcpFrame4({
        dst: ROUTER_MAC,
        src: a.mac,
        from: FIP2,
        to: OUTSIDE,
        sport: 80,
        dport: 50002,
        flags: TCP_ACK,
        ttl: 63,
      }),
    );
    assert.deepEqual(
      via1.packet,
      tcpFrame4({
        dst: ROUTER_MAC,
        src: a.mac,
        from: FIP,
        to: OUTSIDE,
        sport: 80,
        dport: 50003,
        flags: TCP_ACK,
        ttl: 63,
      }),
    );
  });

  test('a floating address moved to another port: new traffic reaches that port, the old port’s flow is cut', () => {
    const { a, b } = host;
    associate();
    fromOutside(
      tcpFrame4({
        dst: UNDERLAY_MAC,
        src: GATEWAY_MAC,
        from: OUTSIDE,
        to: FIP,
        sport: 50004,
        dport: 80,
        flags: TCP_SYN,
      }),
    );
    const m = host.datapath.maps;
    m.floatingIps.set(FIP, { fixedAddress: b.ip, ifindex: b.ifindex, vrfId: VRF });
    m.floatingSources.delete([{ vrfId: VRF, address: a.ip }]);
    m.floatingSources.set({ vrfId: VRF, address: b.ip }, FIP);
    const drops = host.datapath.maps.stats.get(a.ifindex)!.drops.noRoute;
    const stale = fromPod(
      tcpFrame4({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: OUTSIDE, sport: 80, dport: 50004, flags: TCP_ACK }),
    );
    assert.equal(stale.verdict, TcAction.shot, 'the old port no longer speaks for the floating address');
    assert.equal(host.datapath.maps.stats.get(a.ifindex)!.drops.noRoute - drops, 1n);
    const run = fromOutside(
      tcpFrame4({
        dst: UNDERLAY_MAC,
        src: GATEWAY_MAC,
        from: OUTSIDE,
        to: FIP,
        sport: 50005,
        dport: 80,
        flags: TCP_SYN,
      }),
    );
    assert.equal(run.verdict, TcAction.redirect);
    assert.deepEqual(
      run.packet,
      tcpFrame4({
        dst: b.mac,
        src: ROUTER_MAC,
        from: OUTSIDE,
        to: b.ip,
        sport: 50005,
        dport: 80,
        flags: TCP_SYN,
        ttl: 63,
      }),
    );
  });

  test('without a floating address: the outside is no route, and the underlay passes the packet untouched', () => {
    const { a } = host;
    const drops = host.datapath.maps.stats.get(a.ifindex)!.drops.noRoute;
    const out = fromPod(udpFrame4({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: OUTSIDE, sport: 40002, dport: 53 }));
    assert.equal(out.verdict, TcAction.shot);
    assert.equal(host.datapath.maps.stats.get(a.ifindex)!.drops.noRoute - drops, 1n);
    const frame = udpFrame4({ dst: UNDERLAY_MAC, src: GATEWAY_MAC, from: OUTSIDE, to: FIP, sport: 53, dport: 40002 });
    for (const program of ['underlayGuardTc', 'underlayNatTc'] as const) {
      const run = fromOutside(frame, program);
      assert.equal(run.verdict, TcAction.ok);
      assert.deepEqual(run.packet, frame);
    }
  });

  test('the port’s security group judges traffic from outside (dropped and counted on the underlay)', () => {
    const { a } = host;
    associate();
    const m = host.datapath.maps;
    m.acls.set(20, {
      defaultAction: 'deny',
      rules: [{ protocol: IPPROTO_TCP, destinationPorts: [443, 443], action: 'pass' }],
    });
    m.interfaces.set(a.ifindex, { vrfId: VRF, aclId: 20, mtu: 1450, mac: a.mac, portSecurity: true });
    const drops = underlayStats().drops.policy;
    const denied = fromOutside(
      tcpFrame4({
        dst: UNDERLAY_MAC,
        src: GATEWAY_MAC,
        from: OUTSIDE,
        to: FIP,
        sport: 50006,
        dport: 80,
        flags: TCP_SYN,
      }),
      'underlayNatTc',
    );
    assert.equal(denied.verdict, TcAction.shot);
    assert.equal(underlayStats().drops.policy - drops, 1n);
    const allowed = fromOutside(
      tcpFrame4({
        dst: UNDERLAY_MAC,
        src: GATEWAY_MAC,
        from: OUTSIDE,
        to: FIP,
        sport: 50006,
        dport: 443,
        flags: TCP_SYN,
      }),
      'underlayNatTc',
    );
    assert.equal(allowed.verdict, TcAction.redirect);
  });
});
