// Real packets through the attached programs: two pods as network namespaces with veth pairs,
// the pod-egress program attached (through netlink) to each host end, the kernel's own
// forwarding not involved. A ping crosses the datapath (the proxy ARP answer included), and a
// network policy that denies ICMP stops it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BPFFS } from './bpffs.js';
import { Datapath } from './datapath.js';
import { datapathMissing } from './native.js';
import { createTestVeth, type TestVeth } from './test-links.js';
import { attachedXdpProgram, attachXdp } from './xdp.js';

const ROUTER_MAC = '00:00:5e:00:01:00';
const GATEWAY = '10.1.0.1';
const GATEWAY6 = 'fd00:1::1';
const VRF = 1;

function missing(): string | undefined {
  const datapath = datapathMissing();
  if (datapath) return datapath;
  if (spawnSync('ping', ['-V'], { stdio: 'ignore' }).status !== 0) return 'ping is not installed (iputils-ping)';
  return undefined;
}

interface PodNamespace {
  netns: string;
  ip: string;
  ip6: string;
  mac: string;
  link: TestVeth;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function ping(from: PodNamespace, to: string, count: number): boolean {
  const result = spawnSync(
    'ip',
    ['netns', 'exec', from.netns, 'ping', '-c', String(count), '-i', '0.2', '-W', '1', to],
    {
      encoding: 'utf8',
      timeout: 15_000,
    },
  );
  return result.status === 0;
}

describe('ping between two pods across the XDP datapath', { skip: missing() ?? false }, () => {
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const pinRoot = join(BPFFS, `weft-test-ping-${id}`);
  const pods: PodNamespace[] = [];
  let datapath: Datapath;

  before(async () => {
    datapath = Datapath.open(pinRoot);
    for (const [i, address] of ['10.1.0.2', '10.1.0.3'].entries()) {
      const pod: PodNamespace = {
        netns: `wt-${id}-${i}`,
        ip: address,
        ip6: `fd00:1::${i + 2}`,
        mac: `02:00:0a:01:00:0${i + 2}`,
        link: createTestVeth(),
      };
      pods.push(pod);
      ip('netns', 'add', pod.netns);
      // XDP_REDIRECT into a veth is delivered only when the receiving end runs XDP itself; an
      // XDP_PASS program is enough, and it stays attached when the device changes namespace.
      await attachXdp(pod.link.peerIfindex, datapath.programs.pass.fd);
      ip('link', 'set', pod.link.peer, 'netns', pod.netns);
      ip('-n', pod.netns, 'link', 'set', pod.link.peer, 'name', 'eth0');
      ip('-n', pod.netns, 'link', 'set', 'eth0', 'address', pod.mac, 'mtu', '1450', 'up');
      ip('-n', pod.netns, 'link', 'set', 'lo', 'up');
      ip('-n', pod.netns, 'addr', 'add', `${pod.ip}/24`, 'dev', 'eth0');
      ip('-n', pod.netns, 'route', 'add', 'default', 'via', GATEWAY);
      // nodad: the address is usable at once instead of after duplicate address detection.
      ip('-n', pod.netns, 'addr', 'add', `${pod.ip6}/64`, 'dev', 'eth0', 'nodad');
    }
    const m = datapath.maps;
    const [a, b] = pods as [PodNamespace, PodNamespace];
    m.config.set(0, {
      routerMac: ROUTER_MAC,
      underlayMac: '02:00:00:00:00:01',
      underlayIfindex: a.link.ifindex,
      underlayAddress: '192.0.2.1',
      underlayMtu: 1500,
      sampleRate: 0,
      tunnelPort: 4789,
    });
    m.vrfs.set(VRF, { vni: 100, aclId: 0, gateway4: GATEWAY, gateway6: GATEWAY6 });
    for (const pod of [a, b]) {
      m.hostRoutes6.set(
        { vrfId: VRF, prefix: `${pod.ip6}/128` },
        { kind: 'local', ifindex: pod.link.ifindex, vrfId: VRF, mac: pod.mac },
      );
      m.interfaces.set(pod.link.ifindex, { vrfId: VRF, aclId: 0, mtu: 1450, mac: pod.mac, portSecurity: false });
      m.txPorts.set(pod.link.ifindex, pod.link.ifindex);
      m.hostRoutes4.set(
        { vrfId: VRF, prefix: `${pod.ip}/32` },
        { kind: 'local', ifindex: pod.link.ifindex, vrfId: VRF, mac: pod.mac },
      );
      m.stats.set(pod.link.ifindex, m.stats.spec.decodeValue(Buffer.alloc(m.stats.spec.valueSize)));
      await attachXdp(pod.link.ifindex, datapath.programs.podEgress.fd);
    }
  });

  after(() => {
    for (const pod of pods) {
      spawnSync('ip', ['netns', 'del', pod.netns]);
      pod.link.remove();
    }
    datapath?.close();
    Datapath.removePins(pinRoot);
  });

  test('the pod-egress program is attached to each host end', async () => {
    for (const pod of pods) assert.notEqual(await attachedXdpProgram(pod.link.ifindex), 0);
  });

  test('a ping reaches the other pod and its reply comes back, through the datapath', () => {
    const [a, b] = pods as [PodNamespace, PodNamespace];
    assert.equal(ping(a, b.ip, 3), true, 'ping from A to B');
    const stats = datapath.maps.stats.get(a.link.ifindex)!;
    assert.ok(stats.arpReplies >= 1n, 'the datapath answered A’s ARP request');
    assert.ok(stats.txLocal >= 3n, `A's echo requests were redirected by the datapath (${stats.txLocal})`);
    assert.ok(datapath.maps.stats.get(b.link.ifindex)!.txLocal >= 3n, "B's replies were redirected by the datapath");
  });

  test('IPv6 too: neighbour discovery answered by the datapath, ping6 across', () => {
    const [a, b] = pods as [PodNamespace, PodNamespace];
    assert.equal(ping(a, b.ip6, 3), true, 'ping -6 from A to B');
  });

  test('a network policy that denies ICMP stops the ping, and dropping it is counted', () => {
    const [a, b] = pods as [PodNamespace, PodNamespace];
    datapath.maps.acls.set(1, { defaultAction: 'pass', rules: [{ protocol: 1, action: 'deny' }] });
    datapath.maps.vrfs.set(VRF, { vni: 100, aclId: 1, gateway4: GATEWAY });
    // A policy change ends the flows it now denies (the agent does this on every ACL change).
    datapath.maps.conntrack.clear();
    try {
      assert.equal(ping(a, b.ip, 2), false, 'ping from A to B is denied');
      assert.ok(datapath.maps.stats.get(a.link.ifindex)!.drops.policy >= 2n);
    } finally {
      datapath.maps.vrfs.set(VRF, { vni: 100, aclId: 0, gateway4: GATEWAY, gateway6: GATEWAY6 });
    }
    assert.equal(ping(a, b.ip, 1), true, 'ping works again once the policy is gone');
  });
});
