// Typed maps against the kernel: what goes in comes back out, bad input changes nothing, and a
// second load on the same pin root adopts the maps with their entries (an agent restart).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WeftError } from '@weft/kit';
import type { AclEntry } from '../maps/acls.js';
import type { NextHop } from '../maps/next-hop.js';
import { BPFFS } from './bpffs.js';
import { Datapath } from './datapath.js';
import { datapathMissing } from './native.js';
import { ETH_P_IP, ethernet, IPPROTO_UDP, ipv4, udp, vxlan } from './packets.js';
import { createTestVeth, type TestVeth } from './test-links.js';

describe('datapath maps in the kernel', { skip: datapathMissing() ?? false }, () => {
  const pinRoot = join(BPFFS, `weft-test-maps-${process.pid}-${randomBytes(4).toString('hex')}`);
  let datapath: Datapath;
  let link: TestVeth;

  before(() => {
    link = createTestVeth();
    datapath = Datapath.open(pinRoot);
  });
  after(() => {
    datapath?.close();
    Datapath.removePins(pinRoot);
    link?.remove();
  });

  test('routes of every kind round-trip through the kernel', () => {
    const tunnel: NextHop = {
      kind: 'tunnel',
      ifindex: link.ifindex,
      vrfId: 7,
      vni: 7000,
      remoteAddress: '192.0.2.20',
      mac: '02:00:00:00:07:01',
      remoteMac: '02:00:00:00:00:20',
    };
    const local: NextHop = { kind: 'local', ifindex: link.ifindex, vrfId: 7, mac: '02:00:00:00:07:02' };
    datapath.maps.hostRoutes4.set({ vrfId: 7, prefix: '10.7.0.5/32' }, tunnel);
    datapath.maps.hostRoutes6.set({ vrfId: 7, prefix: 'fd00:7::5/128' }, local);
    datapath.maps.prefixRoutes4.set({ vrfId: 7, prefix: '10.7.1.99/24' }, tunnel);
    datapath.maps.prefixRoutes6.set({ vrfId: 7, prefix: 'fd00:7:1::/48' }, { kind: 'receive', vrfId: 7 });
    assert.deepEqual(datapath.maps.hostRoutes4.get({ vrfId: 7, prefix: '10.7.0.5/32' }), tunnel);
    assert.deepEqual(datapath.maps.hostRoutes6.get({ vrfId: 7, prefix: 'fd00:7::5/128' }), local);
    // Host bits of a prefix are cleared: the route is the network's.
    assert.deepEqual(datapath.maps.prefixRoutes4.entries(), [[{ vrfId: 7, prefix: '10.7.1.0/24' }, tunnel]]);
    assert.deepEqual(datapath.maps.prefixRoutes6.entries(), [
      [
        { vrfId: 7, prefix: 'fd00:7:1::/48' },
        { kind: 'receive', vrfId: 7 },
      ],
    ]);
  });

  test('ACLs round-trip with their rules in order', () => {
    const acl: AclEntry = {
      defaultAction: 'deny',
      rules: [
        { protocol: 6, source: { prefix: '10.0.0.0/8' }, destinationPorts: [80, 443], action: 'pass' },
        { source: { vrfId: 3 }, destination: { prefix: 'fd00::/16', vrfId: 4 }, action: 'deny' },
        { action: 'pass' },
      ],
    };
    datapath.maps.acls.set(33, acl);
    assert.deepEqual(datapath.maps.acls.get(33), acl);
  });

  test('a batch with one bad entry throws naming the field, and writes none of it', () => {
    datapath.maps.vnis.clear();
    assert.throws(
      () =>
        datapath.maps.vnis.update([
          [100, 1],
          [0x1000000, 2],
        ]),
      (error: unknown) =>
        error instanceof WeftError &&
        error.code === 'INVALID_FIELD' &&
        /vni: must be an integer from 1 to 16777215/.test(error.message),
    );
    assert.deepEqual(datapath.maps.vnis.entries(), []);
    assert.throws(
      () => datapath.maps.acls.set(34, { defaultAction: 'pass', rules: Array(33).fill({ action: 'pass' }) }),
      /acl.rules: the datapath holds at most 32 rules per ACL, got 33/,
    );
    assert.throws(
      () => datapath.maps.hostRoutes4.set({ vrfId: 1, prefix: '10.0.0.0/24' }, { kind: 'receive', vrfId: 1 }),
      /route.prefix: an IPv4 host route is \/32/,
    );
    assert.throws(
      () =>
        datapath.maps.interfaces.set(link.ifindex, {
          vrfId: 1,
          aclId: 0,
          mtu: 1450,
          mac: 'not-a-mac',
          portSecurity: false,
        }),
      /interface.mac: must be a MAC address/,
    );
    assert.equal(datapath.maps.acls.get(34), undefined);
    assert.equal(datapath.maps.interfaces.get(link.ifindex), undefined);
  });

  test('batches larger than one bpf() call are written whole, and deleted whole', () => {
    const routes = Array.from(
      { length: 3000 },
      (_, i) =>
        [
          { vrfId: 9, prefix: `10.9.${i >> 8}.${i & 255}/32` },
          { kind: 'local', ifindex: link.ifindex, vrfId: 9, mac: '02:00:00:00:09:01' } as NextHop,
        ] as const,
    );
    assert.equal(datapath.maps.hostRoutes4.update(routes), 3000);
    assert.equal(datapath.maps.hostRoutes4.entries().filter(([key]) => key.vrfId === 9).length, 3000);
    assert.equal(datapath.maps.hostRoutes4.delete(routes.map(([key]) => key)), 3000);
    assert.equal(datapath.maps.hostRoutes4.delete([{ vrfId: 9, prefix: '10.9.0.1/32' }]), 0, 'absent keys are fine');
  });

  test('per-CPU counters count what the programs see, summed over every CPU', () => {
    datapath.maps.stats.set(link.ifindex, {
      rxPackets: 0n,
      rxBytes: 0n,
      txLocal: 0n,
      txTunnel: 0n,
      toHost: 0n,
      arpReplies: 0n,
      drops: {
        noRoute: 0n,
        policy: 0n,
        malformed: 0n,
        mtu: 0n,
        ttl: 0n,
        noTxPort: 0n,
        unknownVni: 0n,
        unknownPeer: 0n,
      },
    });
    datapath.maps.config.set(0, {
      routerMac: '00:00:5e:00:01:00',
      underlayMac: '02:00:00:00:00:01',
      underlayIfindex: link.ifindex,
      underlayAddress: '192.0.2.1',
      underlayMtu: 1500,
      sampleRate: 0,
      tunnelPort: 4789,
    });
    datapath.maps.vnis.set(77, 7);
    datapath.maps.peers.set('192.0.2.2', { routes: 1 });
    // VXLAN from a known peer for a known VNI whose inner destination has no route: counted, then dropped.
    const inner = ethernet({
      dst: '00:00:5e:00:01:00',
      src: '02:00:00:00:07:09',
      type: ETH_P_IP,
      payload: ipv4({ src: '10.7.9.9', dst: '10.7.200.1', protocol: IPPROTO_UDP, payload: Buffer.alloc(8) }),
    });
    const packet = ethernet({
      dst: '02:00:00:00:00:01',
      src: '02:00:00:00:00:02',
      type: ETH_P_IP,
      payload: ipv4({
        src: '192.0.2.2',
        dst: '192.0.2.1',
        protocol: IPPROTO_UDP,
        payload: udp({
          src: '192.0.2.2',
          dst: '192.0.2.1',
          sport: 50000,
          dport: 4789,
          checksum: false,
          payload: vxlan({ vni: 77, frame: inner }),
        }),
      }),
    });
    for (let i = 0; i < 5; i++) datapath.run('underlayIngress', packet, { ingressIfindex: link.ifindex });
    const stats = datapath.maps.stats.get(link.ifindex)!;
    assert.equal(stats.rxPackets, 5n);
    assert.equal(stats.rxBytes, BigInt(5 * packet.length));
    assert.equal(stats.drops.noRoute, 5n);
  });

  test('maps of an older layout version are unpinned, the current ones kept', () => {
    // What an agent of an older version left: a map under a name this version does not use.
    datapath.native.objPin(datapath.maps.vnis.fd, join(pinRoot, 'weft_vni_v0'));
    assert.deepEqual(datapath.removeStalePins(), ['weft_vni_v0']);
    assert.equal(existsSync(join(pinRoot, 'weft_vni_v0')), false);
    assert.equal(existsSync(join(pinRoot, 'weft_vni_v1')), true);
    assert.deepEqual(datapath.removeStalePins(), []);
  });

  test('a second load on the same pin root adopts the maps with their entries (agent restart)', () => {
    datapath.maps.vrfs.set(42, { vni: 4242, aclId: 0, gateway4: '10.42.0.1' });
    datapath.maps.txPorts.set(link.ifindex, link.ifindex);
    const restarted = Datapath.open(pinRoot);
    try {
      assert.deepEqual(restarted.maps.vrfs.get(42), { vni: 4242, aclId: 0, gateway4: '10.42.0.1' });
      assert.equal(restarted.maps.txPorts.get(link.ifindex), link.ifindex);
      // One map, two handles: a write through one is seen through the other.
      restarted.maps.vrfs.set(43, { vni: 4343, aclId: 0 });
      assert.deepEqual(datapath.maps.vrfs.get(43), { vni: 4343, aclId: 0 });
    } finally {
      restarted.close();
    }
  });
});
