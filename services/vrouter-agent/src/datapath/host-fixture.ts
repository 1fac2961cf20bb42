// A host's datapath seeded for tests and benchmarks: two local pods (A, B) and one remote pod
// (C) on one virtual network, a second network (D) for cross-network cases, an underlay device,
// and the virtual gateway. Real devices (veth pairs) back every ifindex. The addresses are
// documentation ranges and exist only inside these maps.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { VXLAN_PORT } from '../maps/constants.js';
import { emptyStats } from '../maps/stats.js';
import { BPFFS } from './bpffs.js';
import { Datapath } from './datapath.js';
import { createTestVeth, type TestVeth } from './test-links.js';

export const ROUTER_MAC = '00:00:5e:00:01:00';
export const UNDERLAY_MAC = '02:00:c0:00:02:01';
export const UNDERLAY_ADDRESS = '192.0.2.1';
export const REMOTE_HOST_ADDRESS = '192.0.2.2';
export const REMOTE_HOST_MAC = '02:00:c0:00:02:02';
export const VRF = 1;
export const VNI = 100;
export const GATEWAY = '10.1.0.1';
export const GATEWAY6 = 'fd00:1::1';
export const OTHER_VRF = 2;
export const OTHER_VNI = 200;

export interface Pod {
  ip: string;
  ip6: string;
  mac: string;
  ifindex: number;
}

export interface HostFixture {
  datapath: Datapath;
  underlay: TestVeth;
  a: Pod;
  b: Pod;
  /** On another host, behind the tunnel. */
  c: Pod;
  /** On this host, in the other network. */
  d: Pod;
  dispose(): void;
}

export function createHostFixture(): HostFixture {
  const pinRoot = join(BPFFS, `weft-test-${process.pid}-${randomBytes(4).toString('hex')}`);
  const links = [createTestVeth(), createTestVeth(), createTestVeth(), createTestVeth()];
  const [underlay, linkA, linkB, linkD] = links as [TestVeth, TestVeth, TestVeth, TestVeth];
  let datapath: Datapath;
  try {
    datapath = Datapath.open(pinRoot);
  } catch (error) {
    Datapath.removePins(pinRoot);
    for (const link of links) link.remove();
    throw error;
  }
  const a: Pod = { ip: '10.1.0.2', ip6: 'fd00:1::2', mac: '02:00:0a:01:00:02', ifindex: linkA.ifindex };
  const b: Pod = { ip: '10.1.0.3', ip6: 'fd00:1::3', mac: '02:00:0a:01:00:03', ifindex: linkB.ifindex };
  const c: Pod = { ip: '10.1.0.4', ip6: 'fd00:1::4', mac: '02:00:0a:01:00:04', ifindex: 0 };
  const d: Pod = { ip: '10.2.0.2', ip6: 'fd00:2::2', mac: '02:00:0a:02:00:02', ifindex: linkD.ifindex };
  const m = datapath.maps;
  m.config.set(0, {
    routerMac: ROUTER_MAC,
    underlayMac: UNDERLAY_MAC,
    underlayIfindex: underlay.ifindex,
    underlayAddress: UNDERLAY_ADDRESS,
    underlayMtu: 1500,
    sampleRate: 0,
    tunnelPort: VXLAN_PORT,
  });
  m.peers.set(REMOTE_HOST_ADDRESS, { routes: 2 });
  m.vrfs.update([
    [VRF, { vni: VNI, aclId: 0, gateway4: GATEWAY, gateway6: GATEWAY6 }],
    [OTHER_VRF, { vni: OTHER_VNI, aclId: 0, gateway4: '10.2.0.1' }],
  ]);
  m.vnis.update([
    [VNI, VRF],
    [OTHER_VNI, OTHER_VRF],
  ]);
  m.interfaces.update([
    [a.ifindex, { vrfId: VRF, aclId: 0, mtu: 1450, mac: a.mac, portSecurity: false }],
    [b.ifindex, { vrfId: VRF, aclId: 0, mtu: 1450, mac: b.mac, portSecurity: false }],
    [d.ifindex, { vrfId: OTHER_VRF, aclId: 0, mtu: 1450, mac: d.mac, portSecurity: false }],
  ]);
  m.txPorts.update([a.ifindex, b.ifindex, d.ifindex, underlay.ifindex].map((i) => [i, i] as const));
  m.stats.update([a.ifindex, b.ifindex, d.ifindex, underlay.ifindex].map((i) => [i, emptyStats()] as const));
  const local = (pod: Pod, vrfId: number) => ({ kind: 'local' as const, ifindex: pod.ifindex, vrfId, mac: pod.mac });
  const tunnel = {
    kind: 'tunnel' as const,
    ifindex: underlay.ifindex,
    vrfId: VRF,
    vni: VNI,
    remoteAddress: REMOTE_HOST_ADDRESS,
    mac: c.mac,
    remoteMac: REMOTE_HOST_MAC,
  };
  m.hostRoutes4.update([
    [{ vrfId: VRF, prefix: `${a.ip}/32` }, local(a, VRF)],
    [{ vrfId: VRF, prefix: `${b.ip}/32` }, local(b, VRF)],
    [{ vrfId: VRF, prefix: `${c.ip}/32` }, tunnel],
    [
      { vrfId: VRF, prefix: `${GATEWAY}/32` },
      { kind: 'receive', vrfId: VRF },
    ],
    [{ vrfId: OTHER_VRF, prefix: `${d.ip}/32` }, local(d, OTHER_VRF)],
  ]);
  m.hostRoutes6.update([
    [{ vrfId: VRF, prefix: `${a.ip6}/128` }, local(a, VRF)],
    [{ vrfId: VRF, prefix: `${b.ip6}/128` }, local(b, VRF)],
    [{ vrfId: VRF, prefix: `${c.ip6}/128` }, tunnel],
  ]);
  return {
    datapath,
    underlay,
    a,
    b,
    c,
    d,
    dispose() {
      datapath.close();
      Datapath.removePins(pinRoot);
      for (const link of links) link.remove();
    },
  };
}
