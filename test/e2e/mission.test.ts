// The whole mission, end to end, as a user runs it: a lab of two hosts, networks and a policy
// created through REST, pods set up by the CNI plugin, traffic between them through the BPF
// datapath, analytics watching, and restarts of control and an agent that lose no packet.
// Only public interfaces: the REST APIs, the CNI plugin, and what a pod sees.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { tempDir, waitFor } from '@weft/kit/testing';
import type { Ref } from '../lab/config-client.js';
import { freeLabPorts, freeUnderlaySubnet, Lab, labUnavailable } from '../lab/lab.js';
import { isAlive } from '../lab/processes.js';
import { netnsPath } from '../lab/shell.js';

const skip = labUnavailable();
let lab: Lab;
let dir: ReturnType<typeof tempDir>;
const networks: Record<string, Ref> = {};
let policy: Ref;
let downDone = false;

function reaches(from: string, address: string): boolean {
  try {
    lab.exec(from, 'ping', ['-c', '1', '-W', '1', address]);
    return true;
  } catch {
    return false;
  }
}

async function eventually(from: string, address: string, expected: boolean, what: string): Promise<void> {
  await waitFor(() => reaches(from, address) === expected, { timeoutMs: 15_000, intervalMs: 200, what });
}

/**
 * Pings every 20 ms until stopped. A packet counts as lost when a later one was answered and it
 * was not: the one in flight when ping is stopped is not a loss.
 */
function continuousPing(from: string, address: string) {
  const pod = lab.pods.find((item) => item.name === from)!;
  const child = spawn('nsenter', [`--net=${netnsPath(pod.netns)}`, 'ping', '-i', '0.02', '-W', '1', address], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const answered = new Set<number>();
  child.stdout.on('data', (chunk: Buffer) => {
    for (const match of chunk.toString().matchAll(/icmp_seq=(\d+)/g)) answered.add(Number(match[1]));
  });
  return {
    answered: () => answered.size,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
      const last = Math.max(0, ...answered);
      const lost = Array.from({ length: last }, (_, index) => index + 1).filter((seq) => !answered.has(seq));
      return { answered: answered.size, lost };
    },
  };
}

before(async () => {
  if (skip) return;
  dir = tempDir('weft-lab-mission-');
  // A name, underlay subnet and ports of this run's own, so that it meets nothing another run
  // (or one that crashed) left behind.
  const ports = await freeLabPorts();
  lab = await Lab.up({
    name: `wfm${process.pid % 100_000}`,
    hosts: 2,
    subnet: freeUnderlaySubnet(20 + (process.pid % 200)),
    dir: dir.path,
    ports,
  });
});

after(async () => {
  if (skip || !lab || downDone) return;
  await lab.down();
  dir.remove();
});

test('1-2: networks, a policy and three pods through REST and one CNI call each', { skip }, async () => {
  networks.red = await lab.config.createNetwork('red', '10.11.0.0/24');
  networks.blue = await lab.config.createNetwork('blue', '10.12.0.0/24');
  networks.green = await lab.config.createNetwork('green', '10.13.0.0/24');
  policy = await lab.config.createPolicy('red-blue', 'red', 'blue', 'pass');
  await lab.config.setNetworkPolicies(networks.red, [policy]);
  await lab.config.setNetworkPolicies(networks.blue, [policy]);

  const a = await lab.addPod('a', 'h1', ['red', 'green']);
  await lab.addPod('b', 'h2', ['blue']);
  await lab.addPod('c', 'h2', ['green']);
  assert.match(lab.podAddress('a', 'red'), /^10\.11\.0\.\d+$/);
  assert.match(lab.podAddress('a', 'green'), /^10\.13\.0\.\d+$/);
  assert.match(lab.exec('a', 'ip', ['-o', 'addr']), /net1/);
  assert.equal((a.result.interfaces as unknown[]).length, 4, 'two interfaces, each with its host and pod end');
});

test('3: A reaches B over the policy and C on green; B and C cannot reach each other', { skip }, async () => {
  await eventually('a', lab.podAddress('b', 'blue'), true, 'A to reach B over the red-blue policy');
  await eventually('a', lab.podAddress('c', 'green'), true, 'A to reach C on green');
  assert.equal(reaches('b', lab.podAddress('c', 'green')), false, 'B is on no network with C');
  assert.equal(reaches('c', lab.podAddress('b', 'blue')), false);
});

test('3: TCP flows between pods on two hosts', { skip }, async () => {
  const server = spawn(
    'nsenter',
    [`--net=${netnsPath(lab.pods.find((pod) => pod.name === 'b')!.netns)}`, 'iperf3', '-s', '-1'],
    {
      stdio: 'ignore',
    },
  );
  try {
    await waitFor(
      () => {
        try {
          lab.exec('a', 'iperf3', ['-c', lab.podAddress('b', 'blue'), '-t', '1', '--connect-timeout', '1000']);
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 15_000, intervalMs: 500, what: 'an iperf3 run from A to B' },
    );
  } finally {
    server.kill();
  }
});

test('3: one CNI call gives a pod an interface on each of three networks; it reaches a peer on each, and no other network', {
  skip,
}, async () => {
  await lab.config.createNetwork('yellow', '10.14.0.0/24');
  await lab.addPod('d', 'h2', ['red', 'blue', 'green']);
  await lab.addPod('e', 'h1', ['yellow']);
  assert.deepEqual(
    lab
      .exec('d', 'ip', ['-o', '-4', 'addr'])
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(/\s+/)[1])
      .filter((name) => name !== 'lo'),
    ['eth0', 'net1', 'net2'],
  );
  await eventually('d', lab.podAddress('a', 'red'), true, 'D to reach A on red, across hosts');
  await eventually('d', lab.podAddress('b', 'blue'), true, 'D to reach B on blue, on its own host');
  await eventually('d', lab.podAddress('c', 'green'), true, 'D to reach C on green');
  assert.equal(reaches('d', lab.podAddress('e', 'yellow')), false, 'D is not on yellow');
  assert.equal(reaches('e', lab.podAddress('d', 'red')), false, 'nor E on red');
  await lab.deletePod('e');
});

test('4: deleting the policy cuts A from B; adding it back restores them', { skip }, async () => {
  await lab.config.setNetworkPolicies(networks.red!, []);
  await lab.config.setNetworkPolicies(networks.blue!, []);
  await eventually('a', lab.podAddress('b', 'blue'), false, 'A to lose B once the policy is gone');
  await lab.config.setNetworkPolicies(networks.red!, [policy]);
  await lab.config.setNetworkPolicies(networks.blue!, [policy]);
  await eventually('a', lab.podAddress('b', 'blue'), true, 'A to reach B again');
});

test('5: analytics shows the flows from A to B, the vrouters, and no alarm', { skip }, async () => {
  const a = lab.podAddress('a', 'red');
  const b = lab.podAddress('b', 'blue');
  await waitFor(
    async () => {
      const response = await fetch(`${lab.analyticsUrl}/analytics/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...lab.authHeaders },
        body: JSON.stringify({
          table: 'FlowRecordTable',
          start_time: 'now-10m',
          end_time: 'now',
          select_fields: ['source_ip', 'destination_ip', 'SUM(bytes)'],
          where: [
            [
              { name: 'source_ip', value: a, op: 'EQUAL' },
              { name: 'destination_ip', value: b, op: 'EQUAL' },
            ],
          ],
        }),
      });
      if (!response.ok) return false;
      const rows = ((await response.json()) as { value: Record<string, number>[] }).value;
      return rows.some((row) => (row['SUM(bytes)'] ?? 0) > 0);
    },
    { timeoutMs: 30_000, intervalMs: 500, what: 'a flow from A to B with bytes in analytics' },
  );
  for (const host of lab.topology.hosts) {
    const response = await fetch(`${lab.analyticsUrl}/analytics/uves/vrouter/${host.name}`, {
      headers: lab.authHeaders,
    });
    assert.equal(response.status, 200, `the UVE of ${host.name}`);
  }
  for (const network of ['red', 'blue', 'green']) {
    const name = encodeURIComponent(`default-domain:default-project:${network}:${network}`);
    const response = await fetch(`${lab.analyticsUrl}/analytics/uves/routing-instance/${name}`, {
      headers: lab.authHeaders,
    });
    assert.equal(response.status, 200, `the UVE of network ${network}`);
  }
  // Alarms follow reports; once the system has settled there is none.
  let alarms: unknown;
  await waitFor(
    async () => {
      alarms = (
        (await (await fetch(`${lab.analyticsUrl}/analytics/alarms`, { headers: lab.authHeaders })).json()) as {
          alarms: unknown[];
        }
      ).alarms;
      return Array.isArray(alarms) && alarms.length === 0;
    },
    { timeoutMs: 20_000, intervalMs: 500, what: 'no alarm' },
  ).catch(() => assert.fail(`alarms stay raised: ${JSON.stringify(alarms)}`));
});

test('6: restarting control, then an agent, during a continuous ping loses no packet', { skip }, async () => {
  const ping = continuousPing('a', lab.podAddress('c', 'green'));
  await waitFor(() => ping.answered() >= 10, { what: 'the ping to run' });
  await lab.restartController('control');
  const afterControl = ping.answered();
  await lab.restartAgent(lab.host('h2'));
  const afterAgent = ping.answered();
  await waitFor(() => ping.answered() >= afterAgent + 25, { what: 'pings after both restarts' });
  const { answered, lost } = await ping.stop();
  assert.ok(afterControl > 10 && afterAgent >= afterControl, 'pings were answered across the restarts');
  assert.deepEqual(lost, [], `${lost.length} of ${answered + lost.length} pings lost`);
});

test('7: CNI DEL for every pod leaves no interface and returns every address', { skip }, async () => {
  const hostEnds = lab.pods.flatMap((pod) =>
    ((pod.result.interfaces ?? []) as { name: string; sandbox?: string }[])
      .filter((item) => !item.sandbox)
      .map((item) => [pod.host, item.name]),
  );
  for (const pod of lab.pods) await lab.deletePod(pod.name);
  for (const [host, name] of hostEnds) {
    const links = JSON.parse(lab.execHost(host!, 'ip', ['-j', 'link'])) as { ifname: string }[];
    assert.ok(!links.some((link) => link.ifname === name), `${name} is left on ${host}`);
  }
  const ips = await lab.config.request<{ 'instance-ips': unknown[] }>('GET', '/instance-ips');
  assert.equal(ips['instance-ips'].length, 0, 'every address is back in its pool');
  for (const host of lab.topology.hosts) {
    const state = (await (await fetch(`${lab.agentUrl(host)}/host-state`, { headers: lab.authHeaders })).json()) as {
      ports: unknown[];
    };
    assert.deepEqual(state.ports, [], `the agent of ${host.name} still holds ports`);
  }
});

test('8: lab down leaves no namespace, link, pinned object or process of the lab', { skip }, async () => {
  const pids = lab.processIds();
  const name = lab.topology.lab;
  const pinRoots = lab.topology.hosts.map((host) => `/sys/fs/bpf/weft/${host.name}`);
  await lab.down();
  downDone = true;
  assert.deepEqual(
    execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.startsWith(`${name}-`)),
    [],
  );
  assert.doesNotMatch(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }), new RegExp(`${name}-`));
  for (const pinRoot of pinRoots) assert.equal(existsSync(pinRoot), false, `${pinRoot} is left`);
  for (const pid of pids) assert.equal(isAlive(pid), false, `process ${pid} is left`);
});
