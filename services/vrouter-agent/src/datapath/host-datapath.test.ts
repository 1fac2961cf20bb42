// The agent's BPF datapath end to end on one host: pods made the way the CNI flow makes them
// (a veth pair, the pod end in its own network namespace), attached through attachPort,
// converged from a host view as control sends it; a ping crosses; counters report it; and
// cleanup leaves nothing of Weft in the kernel.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '@weft/kit';
import { waitFor } from '@weft/kit/testing';
import type { HostView } from '../host-state/host-state.js';
import type { Interface, NextHop, RoutingInstance } from '../host-state/snapshot.js';
import type { PortRecord } from '../ports/port-store.js';
import { BPFFS } from './bpffs.js';
import { Datapath } from './datapath.js';
import { HostDatapath, type HostDatapathOptions } from './host-datapath.js';
import { datapathMissing, loadNative } from './native.js';
import { tcIngressProgram } from './tc.js';
import { createTestVeth, type TestVeth } from './test-links.js';
import { attachedXdpProgram } from './xdp.js';

function missing(): string | undefined {
  const datapath = datapathMissing();
  if (datapath) return datapath;
  for (const tool of ['ping', 'bpftool', 'nsenter']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0)
      return `${tool} is not installed`;
  }
  return undefined;
}

const RI = 'default-domain:lab:red:red';

function deviceIndex(name: string): number {
  return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'));
}

for (const mode of ['tc', 'xdp'] as const)
  describe(`HostDatapath (${mode}): the agent-facing datapath on one host`, { skip: missing() ?? false }, () => {
    const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
    const pinRoot = join(BPFFS, `weft-test-agent-${id}`);
    const logger = createLogger({ service: 'vrouter-agent', level: 'silent' });
    let datapath: HostDatapath;
    let options: HostDatapathOptions;
    let underlay: TestVeth;
    const pods: Array<{ port: PortRecord; iface: Interface; link: TestVeth; ip: string }> = [];

    before(async () => {
      underlay = createTestVeth();
      options = {
        hostName: 'lab',
        pinRoot,
        underlayDevice: underlay.name,
        underlayAddress: '192.0.2.1',
        logger,
        mode,
        // Unique, since this host is the test's own network namespace, shared with other tests.
        tunnelDevice: `wt${id}vx`,
        // Another external VXLAN device may own 4789 in this shared namespace.
        tunnelPort: 40000 + (process.pid % 20000),
      };
      datapath = new HostDatapath(options);
      for (const [i, ip] of ['10.3.0.2', '10.3.0.3'].entries()) {
        const link = createTestVeth();
        const netns = `wt-${id}-${i}`;
        execFileSync('ip', ['netns', 'add', netns]);
        execFileSync('ip', ['link', 'set', link.peer, 'netns', netns]);
        const inNs = (...args: string[]) => execFileSync('ip', ['-n', netns, ...args]);
        const mac = `02:00:0a:03:00:0${i + 2}`;
        inNs('link', 'set', link.peer, 'name', 'eth0');
        inNs('link', 'set', 'eth0', 'address', mac, 'mtu', '1450', 'up');
        inNs('addr', 'add', `${ip}/24`, 'dev', 'eth0');
        inNs('route', 'add', 'default', 'via', '10.3.0.1');
        inNs('addr', 'add', `fd00:3::${i + 2}/64`, 'dev', 'eth0', 'nodad');
        const uuid = `vmi-${i}`;
        pods.push({
          ip,
          link,
          port: {
            container_id: `c${i}`,
            ifname: 'eth0',
            interface_uuid: uuid,
            host_ifname: link.name,
            netns: `/var/run/netns/${netns}`,
            mac,
            addresses: [`${ip}/24`],
          },
          iface: {
            uuid,
            virtual_machine_uuid: `vm-${i}`,
            virtual_machine_name: `lab/pod-${i}`,
            routing_instance: RI,
            mac,
            addresses: [`${ip}/24`],
            gateways: ['10.3.0.1', 'fd00:3::1'],
            dns_servers: [],
            name: 'eth0',
            order: 0,
            mtu: 1450,
            acl_name: '',
            port_security_enabled: false,
            floating_addresses: [],
          },
        });
      }
      await datapath.start();
    });

    after(async () => {
      await datapath?.cleanup().catch(() => undefined);
      for (const pod of pods) {
        spawnSync('ip', ['netns', 'del', pod.port.netns.split('/').pop()!]);
        pod.link.remove();
      }
      underlay?.remove();
    });

    function view(): HostView {
      const ri: RoutingInstance = {
        name: RI,
        virtual_network_uuid: 'vn-red',
        virtual_network: RI.split(':').slice(0, -1).join(':'),
        vrf_id: 31,
        vni: 3100,
        route_targets: [],
        acl_name: '',
        mtu: 0,
        router_external: false,
        services: [],
      };
      const routes = new Map<string, NextHop>(
        pods.flatMap((pod, i) => [
          [`${pod.ip}/32`, { kind: 'interface_uuid', interface_uuid: pod.iface.uuid }] as const,
          [`fd00:3::${i + 2}/128`, { kind: 'interface_uuid', interface_uuid: pod.iface.uuid }] as const,
        ]),
      );
      return {
        routingInstances: new Map([[RI, ri]]),
        interfaces: new Map(pods.map((pod) => [pod.iface.uuid, pod.iface])),
        acls: new Map(),
        routes: new Map([[RI, routes]]),
      };
    }

    test('attached ports forward a ping (IPv4 and IPv6) once the host view is reconciled, and counters show it', async () => {
      assert.equal(datapath.unavailable(), undefined);
      if (mode === 'xdp')
        assert.notEqual(await attachedXdpProgram(underlay.ifindex), 0, 'the underlay program is attached');
      else
        assert.notEqual(tcIngressProgram(loadNative(), deviceIndex(`wt${id}vx`)), 0, 'the tunnel program is attached');
      for (const pod of pods) await datapath.attachPort(pod.port, pod.iface);
      await datapath.reconcile(
        view(),
        pods.map((pod) => pod.port),
      );
      const [a, b] = pods as [(typeof pods)[0], (typeof pods)[0]];
      const ping = spawnSync(
        'ip',
        ['netns', 'exec', a.port.netns.split('/').pop()!, 'ping', '-c', '3', '-i', '0.2', '-W', '1', b.ip],
        {
          timeout: 15_000,
        },
      );
      assert.equal(ping.status, 0, 'ping from pod 0 to pod 1');
      const ping6 = spawnSync(
        'ip',
        ['netns', 'exec', a.port.netns.split('/').pop()!, 'ping', '-c', '2', '-i', '0.2', '-W', '1', 'fd00:3::3'],
        { timeout: 15_000 },
      );
      assert.equal(
        ping6.status,
        0,
        'ping over IPv6 from pod 0 to pod 1 (neighbour discovery answered by the datapath)',
      );
      const counters = await datapath.counters();
      assert.ok((counters.interfaces[a.iface.uuid]?.txPackets ?? 0) >= 3, JSON.stringify(counters));
      assert.ok((counters.interfaces[b.iface.uuid]?.txPackets ?? 0) >= 3);
      assert.equal(counters.drops.no_route, 0);
    });

    /**
     * Runs a 20 ms ping from pod 0 to pod 1 while `replaceAgent` swaps the agent, and returns the
     * echo requests that got no reply, of those sent before the last reply.
     */
    async function lostDuring(replaceAgent: () => Promise<void>): Promise<number[]> {
      const [a, b] = pods as [(typeof pods)[0], (typeof pods)[0]];
      const netns = a.port.netns.split('/').pop()!;
      const ping = spawn('ip', ['netns', 'exec', netns, 'ping', '-i', '0.02', '-W', '1', b.ip]);
      let output = '';
      ping.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = new Promise((resolve) => ping.once('exit', resolve));
      const replies = () => [...output.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
      try {
        await waitFor(() => replies().length >= 10, { what: 'the ping under way', timeoutMs: 10_000 });
        await replaceAgent();
        const replacedAt = Math.max(...replies());
        await waitFor(() => Math.max(...replies()) >= replacedAt + 25, {
          what: 'replies after the new agent took over',
          timeoutMs: 10_000,
        });
      } finally {
        ping.kill('SIGINT');
        await exited;
      }
      const seen = new Set(replies());
      const last = Math.max(...seen);
      return Array.from({ length: last }, (_, i) => i + 1).filter((seq) => !seen.has(seq));
    }

    const programOf = async (ifindex: number) =>
      mode === 'tc' ? tcIngressProgram(loadNative(), ifindex) : await attachedXdpProgram(ifindex);

    test('an agent upgrade in which the interfaces map changed layout loses no packet of a 20 ms ping', async () => {
      const port = pods[0]!.link.ifindex;
      const lost = await lostDuring(async () => {
        const before = await programOf(port);
        // The previous agent exits, leaving its programs attached and its maps pinned; the
        // upgraded one's interfaces map has another layout, so another versioned name.
        await datapath.stop();
        renameSync(join(pinRoot, 'weft_if_v1'), join(pinRoot, 'weft_if_v0'));
        const upgraded = new HostDatapath(options);
        datapath = upgraded;
        await upgraded.start();
        assert.equal(await programOf(port), before, 'the older program forwards until the new map is full');
        await upgraded.reconcile(
          view(),
          pods.map((pod) => pod.port),
        );
        assert.notEqual(await programOf(port), before, "the port runs the upgraded agent's program");
        assert.equal(existsSync(join(pinRoot, 'weft_if_v0')), false, 'the older map is unpinned');
      });
      assert.deepEqual(lost, [], 'echo requests without a reply');
    });

    test('an agent upgrade with the same layouts puts its programs on the adopted ports, losing no packet', async () => {
      const port = pods[0]!.link.ifindex;
      const lost = await lostDuring(async () => {
        const before = await programOf(port);
        await datapath.stop();
        const upgraded = new HostDatapath(options);
        datapath = upgraded;
        await upgraded.start();
        await upgraded.reconcile(
          view(),
          pods.map((pod) => pod.port),
        );
        // The same maps, adopted full; the program is this agent's build, not the previous one's.
        assert.notEqual(await programOf(port), before, "the port runs the new agent's program");
      });
      assert.deepEqual(lost, [], 'echo requests without a reply');
    });

    test('cleanup detaches the programs, deletes the pod veths and removes the pins', async () => {
      await datapath.cleanup();
      assert.equal(await attachedXdpProgram(underlay.ifindex), 0, 'the underlay device runs no XDP program');
      assert.equal(existsSync(`/sys/class/net/wt${id}vx`), false, 'the tunnel device is gone');
      for (const pod of pods)
        assert.equal(existsSync(`/sys/class/net/${pod.link.name}`), false, `${pod.link.name} is gone`);
      assert.equal(existsSync(pinRoot), false, 'the pins are gone');
    });
  });

describe('HostDatapath upgrade whose maps changed layout', { skip: missing() ?? false }, () => {
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const pinRoot = join(BPFFS, `weft-test-upgrade-${id}`);
  const logger = createLogger({ service: 'vrouter-agent', level: 'silent' });
  let underlay: TestVeth;
  let datapath: HostDatapath;

  before(() => {
    underlay = createTestVeth();
    // What an agent of an older version left: its maps pinned under names this version does
    // not use (here one map, pinned under an older versioned name).
    const older = join(BPFFS, `weft-test-older-${id}`);
    const previous = Datapath.open(older);
    mkdirSync(pinRoot, { recursive: true });
    previous.native.objPin(previous.maps.vnis.fd, join(pinRoot, 'weft_vni_v0'));
    previous.close();
    Datapath.removePins(older);
    datapath = new HostDatapath({
      hostName: 'lab',
      pinRoot,
      underlayDevice: underlay.name,
      underlayAddress: '192.0.2.1',
      logger,
      mode: 'xdp',
    });
  });
  after(async () => {
    await datapath?.cleanup().catch(() => undefined);
    Datapath.removePins(pinRoot);
    underlay?.remove();
  });

  test('the new programs wait for the new maps to be filled, then take over; the old maps go', async () => {
    await datapath.start();
    assert.equal(await attachedXdpProgram(underlay.ifindex), 0, 'not attached while its maps are empty');
    assert.equal(existsSync(join(pinRoot, 'weft_vni_v0')), true, 'the older maps stay while nothing replaced them');
    const view: HostView = { routingInstances: new Map(), interfaces: new Map(), acls: new Map(), routes: new Map() };
    await datapath.reconcile(view, []);
    assert.notEqual(await attachedXdpProgram(underlay.ifindex), 0, 'attached after the first converge');
    assert.equal(existsSync(join(pinRoot, 'weft_vni_v0')), false, 'the older maps are unpinned');
  });
});

describe('HostDatapath upgrade in which one map changed layout', { skip: missing() ?? false }, () => {
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const pinRoot = join(BPFFS, `weft-test-onemap-${id}`);
  const logger = createLogger({ service: 'vrouter-agent', level: 'silent' });
  let underlay: TestVeth;
  let datapath: HostDatapath;

  before(() => {
    underlay = createTestVeth();
    // What an agent of the previous version left: every map as this version has it, except the
    // interfaces map, whose layout (so its versioned name) this version changed.
    const previous = Datapath.open(pinRoot);
    previous.close();
    renameSync(join(pinRoot, 'weft_if_v1'), join(pinRoot, 'weft_if_v0'));
    datapath = new HostDatapath({
      hostName: 'lab',
      pinRoot,
      underlayDevice: underlay.name,
      underlayAddress: '192.0.2.1',
      logger,
      mode: 'xdp',
    });
  });
  after(async () => {
    await datapath?.cleanup().catch(() => undefined);
    Datapath.removePins(pinRoot);
    underlay?.remove();
  });

  test('the other maps are adopted, and the programs wait until the new map is filled', async () => {
    await datapath.start();
    assert.equal(await attachedXdpProgram(underlay.ifindex), 0, 'not attached while the interfaces map is empty');
    assert.equal(existsSync(join(pinRoot, 'weft_if_v0')), true, 'the older interfaces map stays meanwhile');
    const view: HostView = { routingInstances: new Map(), interfaces: new Map(), acls: new Map(), routes: new Map() };
    await datapath.reconcile(view, []);
    assert.notEqual(await attachedXdpProgram(underlay.ifindex), 0, 'attached after the first converge');
    assert.equal(existsSync(join(pinRoot, 'weft_if_v0')), false, 'the older map is unpinned');
    assert.equal(existsSync(join(pinRoot, 'weft_if_v1')), true);
  });
});
