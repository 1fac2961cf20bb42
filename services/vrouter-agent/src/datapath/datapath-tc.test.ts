// The TC programs in the kernel through BPF_PROG_TEST_RUN, on the same seeded host and packet
// fixtures as the XDP ones: the same decisions (lib/forward.h), carried out the TC way.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { createHostFixture, GATEWAY, GATEWAY6, type HostFixture, ROUTER_MAC, VNI, VRF } from './host-fixture.js';
import { datapathMissing } from './native.js';
import {
  arp,
  ETH_P_ARP,
  ETH_P_IP,
  ETH_P_IPV6,
  ethernet,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  icmpFragNeeded,
  icmpv6PacketTooBig,
  ipv4,
  ipv6,
  TCP_SYN,
  tcp,
  udp,
  udpFrame4 as udpFrame,
} from './packets.js';
import { TcAction } from './test-run.js';

describe('TC datapath in the kernel (BPF_PROG_TEST_RUN)', { skip: datapathMissing() ?? false }, () => {
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
  const egress = (packet: Buffer, ifindex = host.a.ifindex) => host.datapath.runTc('podEgressTc', packet, ifindex);

  test('local delivery: MACs rewritten, TTL down by one, redirected into the other pod', () => {
    const { a, b } = host;
    const run = egress(udpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: b.ip, sport: 40000, dport: 53 }));
    assert.equal(run.verdict, TcAction.redirect);
    assert.deepEqual(
      run.packet,
      udpFrame({ dst: b.mac, src: ROUTER_MAC, from: a.ip, to: b.ip, sport: 40000, dport: 53, ttl: 63 }),
    );
  });

  test('a remote next hop: the inner frame rewritten and handed to the tunnel device', () => {
    const { a, c } = host;
    const before = host.datapath.maps.stats.get(a.ifindex)!.txTunnel;
    const run = egress(udpFrame({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: c.ip, sport: 40001, dport: 53 }));
    assert.equal(run.verdict, TcAction.redirect);
    // The kernel's VXLAN device encapsulates; the program leaves the inner frame ready for it.
    assert.deepEqual(
      run.packet,
      udpFrame({ dst: c.mac, src: ROUTER_MAC, from: a.ip, to: c.ip, sport: 40001, dport: 53, ttl: 63 }),
    );
    assert.equal(host.datapath.maps.stats.get(a.ifindex)!.txTunnel - before, 1n);
  });

  test('policy deny drops (TC_ACT_SHOT) and is counted', () => {
    const { a, b } = host;
    host.datapath.maps.acls.set(10, { defaultAction: 'pass', rules: [{ protocol: IPPROTO_TCP, action: 'deny' }] });
    host.datapath.maps.vrfs.set(VRF, { vni: VNI, aclId: 10, gateway4: GATEWAY });
    const before = host.datapath.maps.stats.get(a.ifindex)!.drops.policy;
    const syn = ethernet({
      dst: ROUTER_MAC,
      src: a.mac,
      type: ETH_P_IP,
      payload: ipv4({
        src: a.ip,
        dst: b.ip,
        protocol: IPPROTO_TCP,
        payload: tcp({ src: a.ip, dst: b.ip, sport: 40002, dport: 80, flags: TCP_SYN }),
      }),
    });
    assert.equal(egress(syn).verdict, TcAction.shot);
    assert.equal(host.datapath.maps.stats.get(a.ifindex)!.drops.policy - before, 1n);
  });

  test('gateway ARP: answered and sent back out of the pod’s device', () => {
    const { a } = host;
    const run = egress(
      ethernet({
        dst: 'ff:ff:ff:ff:ff:ff',
        src: a.mac,
        type: ETH_P_ARP,
        payload: arp({ op: 1, senderMac: a.mac, senderIp: a.ip, targetMac: '00:00:00:00:00:00', targetIp: GATEWAY }),
      }),
    );
    assert.equal(run.verdict, TcAction.redirect);
    assert.deepEqual(
      run.packet,
      ethernet({
        dst: a.mac,
        src: ROUTER_MAC,
        type: ETH_P_ARP,
        payload: arp({ op: 2, senderMac: ROUTER_MAC, senderIp: GATEWAY, targetMac: a.mac, targetIp: a.ip }),
      }),
    );
  });

  test('what is not Weft’s passes untouched: a foreign device, a packet without tunnel metadata', () => {
    const packet = udpFrame({ dst: ROUTER_MAC, src: host.a.mac, from: host.a.ip, to: host.b.ip, sport: 1, dport: 2 });
    const foreign = egress(packet, host.underlay.peerIfindex);
    assert.equal(foreign.verdict, TcAction.ok);
    assert.deepEqual(foreign.packet, packet);
    const untunnelled = host.datapath.runTc('tunnelIngressTc', packet, host.underlay.ifindex);
    assert.equal(untunnelled.verdict, TcAction.ok);
    assert.deepEqual(untunnelled.packet, packet);
  });

  test('path MTU, IPv4: a DF packet larger than the overlay carries becomes fragmentation needed (mtu 1450) back to the pod', () => {
    const { a, c } = host;
    // 1451 bytes of IP packet: one more than the overlay carries with a 1500-byte underlay.
    const l4 = udp({ src: a.ip, dst: c.ip, sport: 40010, dport: 53, payload: Buffer.alloc(1451 - 28, 1) });
    const offending = ipv4({ src: a.ip, dst: c.ip, protocol: IPPROTO_UDP, df: true, payload: l4 });
    const before = host.datapath.maps.stats.get(a.ifindex)!.drops.mtu;
    const run = egress(ethernet({ dst: ROUTER_MAC, src: a.mac, type: ETH_P_IP, payload: offending }));
    assert.equal(run.verdict, TcAction.redirect, 'sent back out of the pod’s device');
    const quoted = offending.subarray(0, 28);
    assert.deepEqual(
      run.packet,
      ethernet({
        dst: a.mac,
        src: ROUTER_MAC,
        type: ETH_P_IP,
        payload: withTos(
          ipv4({ src: GATEWAY, dst: a.ip, protocol: IPPROTO_ICMP, payload: icmpFragNeeded({ mtu: 1450, quoted }) }),
          0xc0,
        ),
      }),
    );
    assert.equal(host.datapath.maps.stats.get(a.ifindex)!.drops.mtu - before, 1n, 'counted as an MTU drop');
    // 1450 bytes fit, and go to the tunnel.
    const fits = ipv4({ src: a.ip, dst: c.ip, protocol: IPPROTO_UDP, df: true, payload: l4.subarray(0, 1450 - 20) });
    assert.equal(
      egress(ethernet({ dst: ROUTER_MAC, src: a.mac, type: ETH_P_IP, payload: fits })).verdict,
      TcAction.redirect,
    );
  });

  test('path MTU, IPv4: without DF the packet is dropped, not answered', () => {
    const { a, c } = host;
    const l4 = udp({ src: a.ip, dst: c.ip, sport: 40011, dport: 53, payload: Buffer.alloc(1480 - 28, 1) });
    const packet = ethernet({
      dst: ROUTER_MAC,
      src: a.mac,
      type: ETH_P_IP,
      payload: ipv4({ src: a.ip, dst: c.ip, protocol: IPPROTO_UDP, payload: l4 }),
    });
    assert.equal(egress(packet).verdict, TcAction.shot);
  });

  test('path MTU, IPv6: a packet larger than the overlay carries becomes packet too big (mtu 1450) back to the pod', () => {
    const { a, c } = host;
    const l4 = udp({ src: a.ip6, dst: c.ip6, sport: 40012, dport: 53, payload: Buffer.alloc(1451 - 48, 1) });
    const offending = ipv6({ src: a.ip6, dst: c.ip6, nextHeader: IPPROTO_UDP, payload: l4 });
    const run = egress(ethernet({ dst: ROUTER_MAC, src: a.mac, type: ETH_P_IPV6, payload: offending }));
    assert.equal(run.verdict, TcAction.redirect);
    const error = icmpv6PacketTooBig({ src: GATEWAY6, dst: a.ip6, mtu: 1450, quoted: offending.subarray(0, 48) });
    assert.deepEqual(
      run.packet,
      ethernet({
        dst: a.mac,
        src: ROUTER_MAC,
        type: ETH_P_IPV6,
        payload: ipv6({ src: GATEWAY6, dst: a.ip6, nextHeader: IPPROTO_ICMPV6, hopLimit: 255, payload: error }),
      }),
    );
  });
});

/** An IPv4 packet with another type of service (and its header checksum redone). */
function withTos(packet: Buffer, tos: number): Buffer {
  const out = Buffer.from(packet);
  out[1] = tos;
  out.writeUInt16BE(0, 10);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += out.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  out.writeUInt16BE(~sum & 0xffff, 10);
  return out;
}
