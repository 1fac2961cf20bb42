// The real programs in the kernel, through BPF_PROG_TEST_RUN, against real maps: each case is
// an input packet, the maps as seeded by host-fixture.ts (plus what the case adds), and the
// verdict and output bytes expected. Packets are built with packets.ts, so each expectation
// reads as the packet it is.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { AclEntry } from '../maps/acls.js';
import { DropReason, XdpAction } from '../maps/constants.js';
import {
  createHostFixture,
  GATEWAY,
  GATEWAY6,
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
import {
  arp,
  ETH_P_ARP,
  ETH_P_IP,
  ETH_P_IPV6,
  ethernet,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  icmpv6Echo,
  ipv4,
  ipv6,
  neighbourDiscovery,
  TCP_ACK,
  TCP_SYN,
  tcp,
  udp,
  udpFrame4 as udpFrame,
  vxlan,
} from './packets.js';

const missing = datapathMissing();

function tcpFrame(o: {
  dst: string;
  src: string;
  from: string;
  to: string;
  sport: number;
  dport: number;
  ttl?: number;
  flags?: number;
}) {
  return ethernet({
    dst: o.dst,
    src: o.src,
    type: ETH_P_IP,
    payload: ipv4({
      src: o.from,
      dst: o.to,
      protocol: IPPROTO_TCP,
      ttl: o.ttl ?? 64,
      payload: tcp({ src: o.from, dst: o.to, sport: o.sport, dport: o.dport, flags: o.flags ?? TCP_SYN }),
    }),
  });
}

/** The VXLAN packet a remote host sends for an inner frame. */
function tunnelled(inner: Buffer, o: { vni?: number; to?: string; dport?: number } = {}) {
  const to = o.to ?? UNDERLAY_ADDRESS;
  return ethernet({
    dst: UNDERLAY_MAC,
    src: REMOTE_HOST_MAC,
    type: ETH_P_IP,
    payload: ipv4({
      src: REMOTE_HOST_ADDRESS,
      dst: to,
      protocol: IPPROTO_UDP,
      df: true,
      payload: udp({
        src: REMOTE_HOST_ADDRESS,
        dst: to,
        sport: 50000,
        dport: o.dport ?? 4789,
        checksum: false,
        payload: vxlan({ vni: o.vni ?? VNI, frame: inner }),
      }),
    }),
  });
}

describe('XDP datapath in the kernel (BPF_PROG_TEST_RUN)', { skip: missing ?? false }, () => {
  let host: HostFixture;

  before(() => {
    host = createHostFixture();
  });
  after(() => host?.dispose());
  afterEach(() => {
    // Each case starts without flows or policies of an earlier one.
    host.datapath.maps.conntrack.clear();
    host.datapath.maps.acls.clear();
    host.datapath.maps.vrfs.update([[VRF, { vni: VNI, aclId: 0, gateway4: GATEWAY, gateway6: 'fd00:1::1' }]]);
    for (const pod of [host.a, host.b]) {
      const entry = host.datapath.maps.interfaces.get(pod.ifindex)!;
      host.datapath.maps.interfaces.set(pod.ifindex, { ...entry, aclId: 0, portSecurity: false });
    }
  });

  const egress = (packet: Buffer, ifindex = host.a.ifindex) =>
    host.datapath.run('podEgress', packet, { ingressIfindex: ifindex });
  const ingress = (packet: Buffer) =>
    host.datapath.run('underlayIngress', packet, { ingressIfindex: host.underlay.ifindex });

  test('local delivery: rewrites MACs, decrements TTL, redirects to the other pod', () => {
    const { a, b } = host;
    const before = host.datapath.maps.stats.get(a.ifindex)!;
    const run = egress(udpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: b.ip, sport: 40000, dport: 53 }));
    assert.equal(run.verdict, XdpAction.redirect);
    assert.deepEqual(
      run.packet,
      udpFrame({ dst: b.mac, src: ROUTER_MAC, from: a.ip, to: b.ip, sport: 40000, dport: 53, ttl: 63 }),
    );
    const stats = host.datapath.maps.stats.get(a.ifindex)!;
    assert.equal(stats.rxPackets - before.rxPackets, 1n);
    assert.equal(stats.txLocal - before.txLocal, 1n);
  });

  test('local delivery over IPv6: hop limit down by one, MACs rewritten', () => {
    const { a, b } = host;
    const frame = (dst: string, src: string, hopLimit: number) =>
      ethernet({
        dst,
        src,
        type: ETH_P_IPV6,
        payload: ipv6({
          src: a.ip6,
          dst: b.ip6,
          nextHeader: IPPROTO_ICMPV6,
          hopLimit,
          payload: icmpv6Echo({ src: a.ip6, dst: b.ip6, type: 128, id: 7, seq: 1 }),
        }),
      });
    const run = egress(frame(ROUTER_MAC, a.mac, 64));
    assert.equal(run.verdict, XdpAction.redirect);
    assert.deepEqual(run.packet, frame(b.mac, ROUTER_MAC, 63));
  });

  test('encapsulation: a remote next hop gets VXLAN with the network VNI towards the remote host', () => {
    const { a, c } = host;
    const run = egress(tcpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: c.ip, sport: 40001, dport: 80 }));
    assert.equal(run.verdict, XdpAction.redirect);
    const sport = run.packet.readUInt16BE(34);
    assert.ok(sport >= 49152, `the outer source port ${sport} is from the dynamic range`);
    const inner = tcpFrame({ dst: c.mac, src: ROUTER_MAC, from: a.ip, to: c.ip, sport: 40001, dport: 80, ttl: 63 });
    const expected = ethernet({
      dst: REMOTE_HOST_MAC,
      src: UNDERLAY_MAC,
      type: ETH_P_IP,
      payload: ipv4({
        src: UNDERLAY_ADDRESS,
        dst: REMOTE_HOST_ADDRESS,
        protocol: IPPROTO_UDP,
        df: true,
        payload: udp({
          src: UNDERLAY_ADDRESS,
          dst: REMOTE_HOST_ADDRESS,
          sport,
          dport: 4789,
          checksum: false,
          payload: vxlan({ vni: VNI, frame: inner }),
        }),
      }),
    });
    assert.deepEqual(run.packet, expected);
    // The same flow always takes the same source port (one underlay path per flow).
    const again = egress(tcpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: c.ip, sport: 40001, dport: 80 }));
    assert.equal(again.packet.readUInt16BE(34), sport);
  });

  test('decapsulation: VXLAN to this host with a known VNI is delivered to the pod', () => {
    const { a, c } = host;
    const inner = udpFrame({ dst: ROUTER_MAC, src: c.mac, from: c.ip, to: a.ip, sport: 53, dport: 40000, ttl: 63 });
    const run = ingress(tunnelled(inner));
    assert.equal(run.verdict, XdpAction.redirect);
    assert.deepEqual(
      run.packet,
      udpFrame({ dst: a.mac, src: ROUTER_MAC, from: c.ip, to: a.ip, sport: 53, dport: 40000, ttl: 63 }),
    );
    assert.equal(host.datapath.maps.stats.get(host.underlay.ifindex)!.txLocal >= 1n, true);
  });

  test('policy deny: a network policy drops the flow it denies and lets others through', () => {
    const { a, b } = host;
    const policy: AclEntry = {
      defaultAction: 'pass',
      rules: [
        { protocol: IPPROTO_TCP, destination: { prefix: '10.1.0.0/24' }, destinationPorts: [22, 22], action: 'deny' },
      ],
    };
    host.datapath.maps.acls.set(10, policy);
    host.datapath.maps.vrfs.set(VRF, { vni: VNI, aclId: 10, gateway4: GATEWAY });
    const before = host.datapath.maps.stats.get(a.ifindex)!.drops.policy;
    const ssh = egress(tcpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: b.ip, sport: 40002, dport: 22 }));
    assert.equal(ssh.verdict, XdpAction.drop);
    assert.equal(host.datapath.maps.stats.get(a.ifindex)!.drops.policy - before, 1n);
    const web = egress(tcpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: b.ip, sport: 40002, dport: 80 }));
    assert.equal(web.verdict, XdpAction.redirect);
    // The same policy holds for traffic that arrives through a tunnel.
    const fromRemote = ingress(
      tunnelled(tcpFrame({ dst: ROUTER_MAC, src: host.c.mac, from: host.c.ip, to: a.ip, sport: 40003, dport: 22 })),
    );
    assert.equal(fromRemote.verdict, XdpAction.drop);
  });

  test('security group, stateful: replies to a flow the pod opened pass, unsolicited traffic does not', () => {
    const { a, b, c } = host;
    // A's security group: A may open anything; nothing may open a connection to A.
    host.datapath.maps.acls.set(20, {
      defaultAction: 'deny',
      rules: [{ source: { prefix: `${a.ip}/32` }, action: 'pass' }],
    });
    host.datapath.maps.interfaces.set(a.ifindex, { vrfId: VRF, aclId: 20, mtu: 1450, mac: a.mac, portSecurity: true });

    const reply = () =>
      egress(
        tcpFrame({
          dst: ROUTER_MAC,
          src: b.mac,
          from: b.ip,
          to: a.ip,
          sport: 80,
          dport: 40004,
          flags: TCP_SYN | TCP_ACK,
        }),
        b.ifindex,
      );
    assert.equal(reply().verdict, XdpAction.drop, 'B cannot open a connection to A');

    const open = egress(tcpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: b.ip, sport: 40004, dport: 80 }));
    assert.equal(open.verdict, XdpAction.redirect, 'A opens a connection to B');
    assert.ok(
      host.datapath.maps.conntrack
        .entries()
        .some(([flow]) => flow.source === a.ip && flow.destination === b.ip && flow.destinationPort === 80),
      'conntrack holds the flow',
    );
    assert.equal(reply().verdict, XdpAction.redirect, "B's reply reaches A");

    // The same across hosts: A opens to C, C's reply comes back through the tunnel.
    const remoteReply = () =>
      ingress(
        tunnelled(udpFrame({ dst: ROUTER_MAC, src: c.mac, from: c.ip, to: a.ip, sport: 53, dport: 40005, ttl: 63 })),
      );
    assert.equal(remoteReply().verdict, XdpAction.drop, 'C cannot open a flow to A');
    assert.equal(
      egress(udpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: c.ip, sport: 40005, dport: 53 })).verdict,
      XdpAction.redirect,
    );
    assert.equal(remoteReply().verdict, XdpAction.redirect, "C's reply reaches A through the tunnel");
  });

  test('gateway ARP: the datapath answers for the virtual gateway, and sends the reply back', () => {
    const { a } = host;
    const request = ethernet({
      dst: 'ff:ff:ff:ff:ff:ff',
      src: a.mac,
      type: ETH_P_ARP,
      payload: arp({ op: 1, senderMac: a.mac, senderIp: a.ip, targetMac: '00:00:00:00:00:00', targetIp: GATEWAY }),
    });
    const run = egress(request);
    assert.equal(run.verdict, XdpAction.tx);
    assert.deepEqual(
      run.packet,
      ethernet({
        dst: a.mac,
        src: ROUTER_MAC,
        type: ETH_P_ARP,
        payload: arp({ op: 2, senderMac: ROUTER_MAC, senderIp: GATEWAY, targetMac: a.mac, targetIp: a.ip }),
      }),
    );
    // A pod's own address is never answered (duplicate address detection).
    const own = egress(
      ethernet({
        dst: 'ff:ff:ff:ff:ff:ff',
        src: a.mac,
        type: ETH_P_ARP,
        payload: arp({ op: 1, senderMac: a.mac, senderIp: '0.0.0.0', targetMac: '00:00:00:00:00:00', targetIp: a.ip }),
      }),
    );
    assert.equal(own.verdict, XdpAction.pass);
  });

  test('gateway neighbour discovery: the datapath advertises the IPv6 gateway', () => {
    const { a } = host;
    const solicitation = ethernet({
      dst: '33:33:ff:00:00:01',
      src: a.mac,
      type: ETH_P_IPV6,
      payload: ipv6({
        src: a.ip6,
        dst: 'ff02::1:ff00:1',
        nextHeader: IPPROTO_ICMPV6,
        hopLimit: 255,
        payload: neighbourDiscovery({ src: a.ip6, dst: 'ff02::1:ff00:1', type: 135, target: GATEWAY6, mac: a.mac }),
      }),
    });
    const run = egress(solicitation);
    assert.equal(run.verdict, XdpAction.tx);
    assert.deepEqual(
      run.packet,
      ethernet({
        dst: a.mac,
        src: ROUTER_MAC,
        type: ETH_P_IPV6,
        payload: ipv6({
          src: GATEWAY6,
          dst: a.ip6,
          nextHeader: IPPROTO_ICMPV6,
          hopLimit: 255,
          payload: neighbourDiscovery({
            src: GATEWAY6,
            dst: a.ip6,
            type: 136,
            target: GATEWAY6,
            flags: 0xe0,
            mac: ROUTER_MAC,
          }),
        }),
      }),
    );
  });

  test('unknown traffic passes to the kernel untouched', () => {
    const { a, c } = host;
    const inner = udpFrame({ dst: ROUTER_MAC, src: c.mac, from: c.ip, to: a.ip, sport: 53, dport: 40000 });
    const notOurs = [
      // Plain traffic to the host itself.
      tcpFrame({
        dst: UNDERLAY_MAC,
        src: REMOTE_HOST_MAC,
        from: REMOTE_HOST_ADDRESS,
        to: UNDERLAY_ADDRESS,
        sport: 5555,
        dport: 22,
      }),
      // VXLAN with a VNI we do not know (a Linux VXLAN device may own it).
      tunnelled(inner, { vni: 999 }),
      // VXLAN addressed to another host.
      tunnelled(inner, { to: '192.0.2.9' }),
      // Another UDP port.
      tunnelled(inner, { dport: 8472 }),
      // Not IP at all.
      ethernet({ dst: UNDERLAY_MAC, src: REMOTE_HOST_MAC, type: 0x88cc, payload: Buffer.alloc(46) }),
    ];
    for (const packet of notOurs) {
      const run = ingress(packet);
      assert.equal(run.verdict, XdpAction.pass);
      assert.deepEqual(run.packet, packet);
    }
    // What belongs to the pod's link (an IPv6 router solicitation, a DHCP discover) is the
    // host's, not a routing failure.
    const before = host.datapath.maps.stats.get(a.ifindex)!;
    for (const linkLocal of [
      ethernet({
        dst: '33:33:00:00:00:02',
        src: a.mac,
        type: ETH_P_IPV6,
        payload: ipv6({
          src: 'fe80::2',
          dst: 'ff02::2',
          nextHeader: IPPROTO_ICMPV6,
          hopLimit: 255,
          payload: Buffer.alloc(8),
        }),
      }),
      udpFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: a.mac, from: '0.0.0.0', to: '255.255.255.255', sport: 68, dport: 67 }),
    ]) {
      const run = egress(linkLocal);
      assert.equal(run.verdict, XdpAction.pass);
      assert.deepEqual(run.packet, linkLocal);
    }
    const afterLinkLocal = host.datapath.maps.stats.get(a.ifindex)!;
    assert.equal(afterLinkLocal.toHost - before.toHost, 2n);
    assert.equal(afterLinkLocal.drops.noRoute, before.drops.noRoute);
    // A device that is not a pod interface of ours.
    const packet = udpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: host.b.ip, sport: 1, dport: 2 });
    const foreign = egress(packet, host.underlay.peerIfindex);
    assert.equal(foreign.verdict, XdpAction.pass);
    assert.deepEqual(foreign.packet, packet);
  });

  test('drops are counted by reason: no route, malformed, MTU, TTL', () => {
    const { a, b, c } = host;
    const drops = () => host.datapath.maps.stats.get(a.ifindex)!.drops;
    const before = drops();
    assert.equal(
      egress(udpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: '10.9.9.9', sport: 1, dport: 2 })).verdict,
      XdpAction.drop,
    );
    const truncated = udpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: b.ip, sport: 1, dport: 2 }).subarray(
      0,
      30,
    );
    assert.equal(egress(truncated).verdict, XdpAction.drop);
    const big = ethernet({
      dst: ROUTER_MAC,
      src: a.mac,
      type: ETH_P_IP,
      payload: ipv4({
        src: a.ip,
        dst: c.ip,
        protocol: IPPROTO_UDP,
        payload: udp({ src: a.ip, dst: c.ip, sport: 1, dport: 2, payload: Buffer.alloc(1460) }),
      }),
    });
    assert.equal(
      egress(big).verdict,
      XdpAction.drop,
      'a 1488-byte packet does not fit a 1500-byte underlay with VXLAN',
    );
    assert.equal(
      egress(udpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: b.ip, sport: 1, dport: 2, ttl: 1 })).verdict,
      XdpAction.drop,
    );
    const after = drops();
    assert.equal(after.noRoute - before.noRoute, 1n);
    assert.equal(after.malformed - before.malformed, 1n);
    assert.equal(after.mtu - before.mtu, 1n);
    assert.equal(after.ttl - before.ttl, 1n);
    assert.equal(DropReason.noRoute, 0);
  });

  test('pods on different networks do not reach each other without a route', () => {
    const { a, d } = host;
    const run = egress(udpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: d.ip, sport: 1, dport: 2 }));
    assert.equal(run.verdict, XdpAction.drop);
  });

  test('flow samples: a new flow and a denied flow each leave a record', () => {
    const { a, b } = host;
    const reader = host.datapath.flowSamples();
    reader.drain();
    egress(udpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: b.ip, sport: 41000, dport: 9 }));
    egress(udpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: '10.9.9.9', sport: 41001, dport: 9 }));
    const samples = reader.drain();
    const local = samples.find((s) => s.flow.sourcePort === 41000);
    assert.ok(local, 'the forwarded flow was sampled');
    assert.equal(local.verdict, 'local');
    assert.equal(local.flow.source, a.ip);
    assert.equal(local.flow.destination, b.ip);
    assert.equal(local.flow.protocol, IPPROTO_UDP);
    assert.equal(local.ifindex, a.ifindex);
    const dropped = samples.find((s) => s.flow.sourcePort === 41001);
    assert.ok(dropped, 'the dropped flow was sampled');
    assert.equal(dropped.verdict, 'drop');
    assert.equal(dropped.dropReason, 'noRoute');
  });
});
