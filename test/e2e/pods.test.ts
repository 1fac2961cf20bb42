// Pods as users get them: built by weft-cni and the agent in a lab whose hosts run each datapath
// mode, with the offloads their mode needs (read inside the pod with ethtool), TCP between two
// such pods that runs for four seconds without error, path MTU discovery for a pod whose MTU is
// larger than the overlay carries, and the underlay's first stage in place. No speed is
// asserted here; the datapath benchmark measures it (test/bench/datapath.bench.ts).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { tempDir, waitFor } from '@weft/kit/testing';
import { POD_OFFLOADS } from '@weft/vrouter-agent';
import { freeLabPorts, freeUnderlaySubnet, Lab, labUnavailable } from '../lab/lab.js';
import { netnsPath } from '../lab/shell.js';
import { iperf3 } from '../lab/traffic.js';

const skip = labUnavailable();
let lab: Lab;
let dir: ReturnType<typeof tempDir>;

before(async () => {
  if (skip) return;
  dir = tempDir('weft-lab-pods-');
  const ports = await freeLabPorts();
  lab = await Lab.up({
    name: `wfp${process.pid % 100_000}`,
    hosts: 4,
    modes: ['tc', 'tc', 'xdp', 'xdp'],
    subnet: freeUnderlaySubnet(20 + ((process.pid + 100) % 200)),
    dir: dir.path,
    ports,
  });
  await lab.config.createNetwork('offloads', '10.21.0.0/24');
  await lab.addPod('tc1', 'h1', ['offloads']);
  await lab.addPod('tc2', 'h2', ['offloads']);
  await lab.addPod('xdp1', 'h3', ['offloads']);
  await lab.addPod('xdp2', 'h4', ['offloads']);
});

after(async () => {
  if (skip || !lab) return;
  await lab.down();
  dir.remove();
});

function pinged(from: string, address: string): boolean {
  try {
    lab.exec(from, 'ping', ['-c', '1', '-W', '1', address]);
    return true;
  } catch {
    return false;
  }
}

/** The pod's eth0 features as ethtool reads them: name → active. */
function features(pod: string): Record<string, boolean> {
  const [read] = JSON.parse(lab.exec(pod, 'ethtool', ['--json', '-k', 'eth0'])) as Record<
    string,
    { active?: boolean }
  >[];
  return Object.fromEntries(Object.entries(read ?? {}).map(([name, value]) => [name, value?.active === true]));
}

test('a pod built by weft-cni in TC mode keeps TX checksum offload, TSO and GSO', { skip }, () => {
  for (const pod of ['tc1', 'tc2']) {
    const read = features(pod);
    assert.equal(read['tx-checksum-ip-generic'], true, `${pod}: TX checksum offload`);
    assert.equal(read['tx-tcp-segmentation'], true, `${pod}: TSO`);
    assert.equal(read['generic-segmentation-offload'], true, `${pod}: GSO`);
    for (const [name, on] of Object.entries(POD_OFFLOADS.tc)) assert.equal(read[name], on, `${pod}: ${name}`);
  }
});

test('a pod built by weft-cni in XDP mode sends full checksums (TX checksum offload off, and TSO with it)', {
  skip,
}, () => {
  for (const pod of ['xdp1', 'xdp2']) {
    const read = features(pod);
    assert.equal(read['tx-checksum-ip-generic'], false, `${pod}: TX checksum offload`);
    assert.equal(read['tx-tcp-segmentation'], false, `${pod}: TSO`);
    for (const [name, on] of Object.entries(POD_OFFLOADS.xdp)) assert.equal(read[name], on, `${pod}: ${name}`);
  }
});

for (const [mode, client, server] of [
  ['TC', 'tc1', 'tc2'],
  ['XDP', 'xdp1', 'xdp2'],
] as const) {
  test(`TCP for 4 s between two such pods on two hosts (${mode} mode)`, { skip }, async () => {
    const pods = Object.fromEntries(lab.pods.map((pod) => [pod.name, pod]));
    const address = lab.podAddress(server, 'offloads');
    // The route to the other host's pod arrives through control a moment after the pod is up.
    await waitFor(() => pinged(client, address), {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: `${client} to reach ${server}`,
    });
    const result = await iperf3(
      { clientNs: pods[client]!.netns, serverNs: pods[server]!.netns, serverAddress: address },
      { seconds: 4 },
    );
    assert.ok(result.gbitPerSecond > 0, 'bytes arrived');
  });
}

test('path MTU: a pod whose MTU exceeds what the overlay carries gets fragmentation needed (mtu 1450), and its kernel learns it', {
  skip,
}, async () => {
  const pod = lab.pods.find((item) => item.name === 'tc1')!;
  const address = lab.podAddress('tc2', 'offloads');
  await waitFor(() => pinged('tc1', address), { timeoutMs: 15_000, intervalMs: 200, what: 'tc1 to reach tc2' });
  lab.exec('tc1', 'ip', ['link', 'set', 'dev', 'eth0', 'mtu', '1500']);
  try {
    // 1472 bytes of ICMP payload: a 1500-byte IP packet with DF set, 50 more than the overlay carries.
    const ping = (size: number) =>
      spawnSync(
        'nsenter',
        [`--net=${netnsPath(pod.netns)}`, 'ping', '-M', 'do', '-c', '1', '-W', '2', '-s', String(size), address],
        {
          encoding: 'utf8',
        },
      );
    const first = ping(1472);
    assert.notEqual(first.status, 0, 'the oversized ping is not answered');
    assert.match(`${first.stdout}${first.stderr}`, /mtu ?= ?1450/i, 'the datapath said what fits');
    // The pod's kernel keeps the path MTU: a second try fails locally, naming it.
    const route = lab.exec('tc1', 'ip', ['route', 'get', address]);
    assert.match(route, /mtu 1450/, 'the route cache holds the learnt MTU');
    const fits = ping(1422);
    assert.equal(fits.status, 0, `a 1450-byte packet passes: ${fits.stdout}${fits.stderr}`);
  } finally {
    lab.exec('tc1', 'ip', ['link', 'set', 'dev', 'eth0', 'mtu', '1450']);
  }
});

test('TC-mode hosts run the first stage for traffic from other hosts on their underlay (at TC ingress of a veth)', {
  skip,
}, () => {
  for (const host of lab.topology.hosts.filter((item) => item.datapathMode === 'tc')) {
    const [net] = JSON.parse(lab.execHost(host.name, 'bpftool', ['-j', 'net', 'show', 'dev', host.underlayDevice])) as {
      xdp: unknown[];
      tc: { kind: string; name: string }[];
    }[];
    assert.deepEqual(
      // The kernel keeps 15 characters of a program's name: weft_underlay_guard_tc is weft_underlay_g.
      net?.tc.map((item) => [item.kind, item.name.split(':')[0]]),
      [['clsact/ingress', 'weft_underlay_g']],
      `${host.name}: the first stage on ${host.underlayDevice}`,
    );
    assert.deepEqual(net?.xdp, [], `${host.name}: no XDP on a veth underlay, where it would cost GSO`);
  }
});
