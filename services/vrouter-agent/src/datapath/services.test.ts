// Services (bpf/lib/service.h) in the kernel through BPF_PROG_TEST_RUN, on the seeded host: a
// pod's packet to a service's virtual IP leaves for one of its backends (address and port
// rewritten, checksums patched: equal frames say so), the backend's replies reach the client from
// the virtual IP again, a connection keeps the backend it got at its first packet even when the
// service's backends change, new connections spread over all backends, and a service with no
// ready backend drops what is sent to it.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { createHostFixture, type HostFixture, ROUTER_MAC, VRF } from './host-fixture.js';
import { datapathMissing } from './native.js';
import { TCP_ACK, TCP_SYN, tcpFrame4, udpFrame4 } from './packets.js';
import { TcAction } from './test-run.js';

const VIP = '10.96.0.10';
const BACKEND_PORT = 8080;

/** The IPv4 destination of an Ethernet frame. */
const destinationOf = (frame: Buffer) => [...frame.subarray(14 + 16, 14 + 20)].join('.');

describe('services in the TC datapath (BPF_PROG_TEST_RUN)', { skip: datapathMissing() ?? false }, () => {
  let host: HostFixture;
  before(() => {
    host = createHostFixture();
  });
  after(() => host?.dispose());
  afterEach(() => {
    const m = host.datapath.maps;
    m.conntrack.clear();
    m.services.clear();
    m.serviceFlows.clear();
  });
  const fromPod = (packet: Buffer, ifindex = host.a.ifindex) => host.datapath.runTc('podEgressTc', packet, ifindex);
  const serve = (backends: string[], protocol: 'tcp' | 'udp' = 'tcp') =>
    host.datapath.maps.services.set(
      { vrfId: VRF, address: VIP, port: 80, protocol },
      backends.map((address) => ({ address, port: BACKEND_PORT })),
    );
  const syn = (sport: number) =>
    tcpFrame4({ dst: ROUTER_MAC, src: host.a.mac, from: host.a.ip, to: VIP, sport, dport: 80, flags: TCP_SYN });

  test('a pod → the virtual IP: to the backend’s address and port, delivered to it', () => {
    const { a, b } = host;
    serve([b.ip]);
    const run = fromPod(syn(41000));
    assert.equal(run.verdict, TcAction.redirect);
    assert.deepEqual(
      run.packet,
      tcpFrame4({
        dst: b.mac,
        src: ROUTER_MAC,
        from: a.ip,
        to: b.ip,
        sport: 41000,
        dport: BACKEND_PORT,
        flags: TCP_SYN,
        ttl: 63,
      }),
    );
  });

  test('the backend’s reply reaches the client from the virtual IP and the service’s port', () => {
    const { a, b } = host;
    serve([b.ip]);
    fromPod(syn(41001));
    const reply = fromPod(
      tcpFrame4({
        dst: ROUTER_MAC,
        src: b.mac,
        from: b.ip,
        to: a.ip,
        sport: BACKEND_PORT,
        dport: 41001,
        flags: TCP_SYN | TCP_ACK,
      }),
      b.ifindex,
    );
    assert.equal(reply.verdict, TcAction.redirect);
    assert.deepEqual(
      reply.packet,
      tcpFrame4({
        dst: a.mac,
        src: ROUTER_MAC,
        from: VIP,
        to: a.ip,
        sport: 80,
        dport: 41001,
        flags: TCP_SYN | TCP_ACK,
        ttl: 63,
      }),
    );
  });

  test('a backend on another host: out through the tunnel, translated', () => {
    const { a, c } = host;
    serve([c.ip]);
    const run = fromPod(syn(41002));
    assert.equal(run.verdict, TcAction.redirect);
    assert.deepEqual(
      run.packet,
      tcpFrame4({
        dst: c.mac,
        src: ROUTER_MAC,
        from: a.ip,
        to: c.ip,
        sport: 41002,
        dport: BACKEND_PORT,
        flags: TCP_SYN,
        ttl: 63,
      }),
    );
  });

  test('UDP: translated with its checksum, and the reply too', () => {
    const { a, b } = host;
    serve([b.ip], 'udp');
    const out = fromPod(udpFrame4({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: VIP, sport: 5353, dport: 80 }));
    assert.equal(out.verdict, TcAction.redirect);
    assert.deepEqual(
      out.packet,
      udpFrame4({ dst: b.mac, src: ROUTER_MAC, from: a.ip, to: b.ip, sport: 5353, dport: BACKEND_PORT, ttl: 63 }),
    );
    const back = fromPod(
      udpFrame4({ dst: ROUTER_MAC, src: b.mac, from: b.ip, to: a.ip, sport: BACKEND_PORT, dport: 5353 }),
      b.ifindex,
    );
    assert.deepEqual(
      back.packet,
      udpFrame4({ dst: a.mac, src: ROUTER_MAC, from: VIP, to: a.ip, sport: 80, dport: 5353, ttl: 63 }),
    );
  });

  test('connections spread over every backend, and each keeps its backend when the backends change', () => {
    const { a, b, c } = host;
    // a is a backend of its own service too: a pod reaching itself through the virtual IP.
    const backends = [a.ip, b.ip, c.ip];
    serve(backends);
    const chosen = new Map<number, string>();
    for (let sport = 42000; sport < 42060; sport++) {
      const run = fromPod(syn(sport));
      assert.equal(run.verdict, TcAction.redirect, `connection from port ${sport}`);
      chosen.set(sport, destinationOf(run.packet));
    }
    assert.deepEqual(new Set(chosen.values()), new Set(backends), '60 connections reach all 3 backends');
    // Only b is ready now: established connections stay where they are, new ones go to b.
    serve([b.ip]);
    for (const [sport, backend] of chosen) {
      const ack = tcpFrame4({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: VIP, sport, dport: 80, flags: TCP_ACK });
      assert.equal(destinationOf(fromPod(ack).packet), backend, `connection from port ${sport} keeps ${backend}`);
    }
    for (let sport = 43000; sport < 43020; sport++) assert.equal(destinationOf(fromPod(syn(sport)).packet), b.ip);
  });

  test('a service with no ready backend: dropped as no route', () => {
    serve([]);
    const drops = host.datapath.maps.stats.get(host.a.ifindex)!.drops.noRoute;
    assert.equal(fromPod(syn(44000)).verdict, TcAction.shot);
    assert.equal(host.datapath.maps.stats.get(host.a.ifindex)!.drops.noRoute - drops, 1n);
  });

  test('another port of the virtual IP, or another protocol, is not the service', () => {
    const { a, b } = host;
    serve([b.ip]);
    const other = tcpFrame4({
      dst: ROUTER_MAC,
      src: a.mac,
      from: a.ip,
      to: VIP,
      sport: 45000,
      dport: 81,
      flags: TCP_SYN,
    });
    assert.equal(fromPod(other).verdict, TcAction.shot, 'no route to the virtual IP itself');
    const udpToTcpService = udpFrame4({ dst: ROUTER_MAC, src: a.mac, from: a.ip, to: VIP, sport: 45001, dport: 80 });
    assert.equal(fromPod(udpToTcpService).verdict, TcAction.shot);
    assert.equal([...host.datapath.maps.serviceFlows.entries()].length, 0);
  });
});
