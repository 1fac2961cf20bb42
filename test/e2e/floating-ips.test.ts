// Floating IPs and BGP with a real gateway, in the lab (`npm run lab -- up --gateway`): FRR in
// a namespace of its own between the underlay and an "outside" namespace peers with control's
// speaker (gobgpd). The gateway learns each floating IP from Weft over BGP, next hop the host
// holding the port; a client outside pings the pod by its floating IP and opens TCP to it; the
// pod reaches the client with the floating IP as its source; moving the floating IP to a pod on
// the other host moves the route and the traffic; restarting control during a ping loses no
// packet; disassociating withdraws the route from FRR and cuts the path.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tempDir, waitFor } from '@weft/kit/testing';
import type { Ref } from '../lab/config-client.js';
import { frrMissing, gatewayRoutes, vtysh } from '../lab/gateway.js';
import { freeLabPorts, freeUnderlaySubnet, Lab, labUnavailable } from '../lab/lab.js';
import { netnsPath } from '../lab/shell.js';

const skip = labUnavailable() ?? frrMissing();
const FIP = '203.0.113.10';
const PORT = 8080;
let lab: Lab;
let dir: ReturnType<typeof tempDir>;
let fip: Ref;
let pool: Ref;
const servers: ChildProcess[] = [];

// A TCP server that answers each connection with its own name and the address it came from.
const SERVER = `const net = require('node:net');
const [name, port] = process.argv.slice(2);
net.createServer((s) => s.end(name + ' ' + s.remoteAddress.replace('::ffff:', '') + '\\n')).listen(Number(port));`;
// Connects, prints what the server says.
const CLIENT = `const net = require('node:net');
const [host, port] = process.argv.slice(2);
const s = net.connect({ host, port: Number(port), timeout: 2000 }, () => {});
let out = '';
s.on('data', (d) => (out += d));
s.on('end', () => { process.stdout.write(out); process.exit(0); });
s.on('timeout', () => process.exit(2));
s.on('error', () => process.exit(3));`;

function inNetns(netns: string, args: string[]): ChildProcess {
  return spawn('nsenter', [`--net=${netnsPath(netns)}`, process.execPath, ...args], { stdio: 'ignore' });
}

/** What a TCP server at host:port answers a client in netns, or undefined when none answers. */
function ask(netns: string, host: string, port = PORT): string | undefined {
  const run = spawnSyncIn(netns, [join(dir.path, 'client.js'), host, String(port)]);
  return run.status === 0 ? run.stdout.trim() : undefined;
}

function spawnSyncIn(netns: string, args: string[]) {
  return spawnSync('nsenter', [`--net=${netnsPath(netns)}`, process.execPath, ...args], {
    encoding: 'utf8',
    timeout: 5_000,
  });
}

function pings(address: string): boolean {
  return (
    spawnSync('nsenter', [
      `--net=${netnsPath(lab.topology.gateway!.outsideNetns)}`,
      'ping',
      '-c',
      '1',
      '-W',
      '1',
      address,
    ]).status === 0
  );
}

const interfaceOf = (pod: string): Ref => lab.pods.find((item) => item.name === pod)!.config!.interfaces[0]!;
const podNetns = (pod: string) => lab.pods.find((item) => item.name === pod)!.netns;
const nextHopsOf = (prefix: string) => gatewayRoutes(lab.topology.gateway!).get(prefix) ?? [];

before(async () => {
  if (skip) return;
  dir = tempDir('weft-lab-bgp-');
  writeFileSync(join(dir.path, 'server.js'), SERVER);
  writeFileSync(join(dir.path, 'client.js'), CLIENT);
  const ports = await freeLabPorts();
  lab = await Lab.up({
    name: `bgp${process.pid % 10_000}`,
    hosts: 2,
    subnet: freeUnderlaySubnet(20 + ((process.pid + 150) % 200)),
    dir: dir.path,
    ports,
    gateway: true,
  });
  await lab.config.createNetwork('inside', '10.31.0.0/24');
  ({ pool } = await lab.config.createFloatingIpPool('public', '203.0.113.0/24'));
  await lab.addPod('p1', 'h1', ['inside']);
  await lab.addPod('p2', 'h2', ['inside']);
  for (const pod of ['p1', 'p2'])
    servers.push(inNetns(podNetns(pod), [join(dir.path, 'server.js'), pod, String(PORT)]));
  servers.push(inNetns(lab.topology.gateway!.outsideNetns, [join(dir.path, 'server.js'), 'outside', String(PORT)]));
  fip = await lab.config.createFloatingIp(pool, 'fip1', interfaceOf('p1'), FIP);
});

after(async () => {
  for (const server of servers) server.kill();
  if (skip || !lab) return;
  await lab.down();
  dir.remove();
});

test('FRR learns the floating IP from Weft over BGP, next hop the host holding the pod', { skip }, async () => {
  const h1 = lab.host('h1').underlayAddress;
  // The session comes up once gobgpd and FRR have both retried (every 5 s) after the lab's start.
  await waitFor(() => nextHopsOf(`${FIP}/32`).includes(h1), {
    timeoutMs: 90_000,
    what: `FRR to learn ${FIP}/32 via ${h1}`,
  });
  const table = vtysh(lab.topology.gateway!, 'show ip bgp');
  assert.match(table, new RegExp(`${FIP.replaceAll('.', '\\.')}/32\\s+${h1.replaceAll('.', '\\.')}`));
  // The agent of h1 holds it in its datapath, for p1's interface.
  const datapath = (await (
    await fetch(`${lab.agentUrl(lab.host('h1'))}/datapath`, { headers: lab.authHeaders })
  ).json()) as {
    floating_ips: Array<{ address: string; interface_uuid: string; fixed_address: string; source: boolean }>;
  };
  assert.deepEqual(datapath.floating_ips, [
    {
      ...datapath.floating_ips[0],
      address: FIP,
      interface_uuid: interfaceOf('p1').uuid,
      fixed_address: lab.podAddress('p1', 'inside'),
      source: true,
    },
  ]);
});

test('the outside pings the pod by its floating IP and opens TCP to it', { skip }, async () => {
  await waitFor(() => pings(FIP), { timeoutMs: 20_000, what: `the outside to ping ${FIP}` });
  const client = lab.topology.gateway!.outsideClientAddress;
  assert.equal(ask(lab.topology.gateway!.outsideNetns, FIP), `p1 ${client}`, 'p1 sees the client’s own address');
});

test('the pod reaches the outside with the floating IP as its source', { skip }, () => {
  assert.equal(ask(podNetns('p1'), lab.topology.gateway!.outsideClientAddress), `outside ${FIP}`);
  // A pod without a floating IP has no way out.
  assert.equal(ask(podNetns('p2'), lab.topology.gateway!.outsideClientAddress), undefined);
});

test('moving the floating IP to a pod on the other host moves the route and the traffic', { skip }, async () => {
  await lab.config.associateFloatingIp(fip, interfaceOf('p2'));
  const h2 = lab.host('h2').underlayAddress;
  await waitFor(() => nextHopsOf(`${FIP}/32`).includes(h2), {
    timeoutMs: 20_000,
    what: `FRR to move ${FIP}/32 to ${h2}`,
  });
  const outside = lab.topology.gateway!.outsideNetns;
  await waitFor(() => ask(outside, FIP)?.startsWith('p2 ') ?? false, { timeoutMs: 10_000, what: 'TCP to reach p2' });
  assert.equal(ask(podNetns('p2'), lab.topology.gateway!.outsideClientAddress), `outside ${FIP}`);
  assert.equal(ask(podNetns('p1'), lab.topology.gateway!.outsideClientAddress), undefined, 'p1 lost its way out');
});

test('restarting control during a ping loses no packet', { skip }, async () => {
  await waitFor(() => pings(FIP), { timeoutMs: 10_000, what: `the outside to ping ${FIP}` });
  const ping = spawn(
    'nsenter',
    [`--net=${netnsPath(lab.topology.gateway!.outsideNetns)}`, 'ping', '-i', '0.1', '-c', '150', '-W', '1', FIP],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let output = '';
  ping.stdout!.on('data', (chunk) => (output += chunk));
  const done = new Promise((resolve) => ping.once('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await lab.restartController('control');
  await done;
  const summary = /(\d+) packets transmitted, (\d+) received/.exec(output);
  assert.ok(summary, `ping's summary: ${output.slice(-300)}`);
  assert.equal(summary[1], '150');
  assert.equal(summary[2], '150', 'every echo came back');
  assert.ok(nextHopsOf(`${FIP}/32`).length > 0, 'FRR still holds the floating IP');
});

test('restarting the BGP speaker (gobgpd) during a ping loses no packet: FRR keeps the route (graceful restart)', {
  skip,
}, async () => {
  await waitFor(() => pings(FIP), { timeoutMs: 10_000, what: `the outside to ping ${FIP}` });
  const ping = spawn(
    'nsenter',
    [`--net=${netnsPath(lab.topology.gateway!.outsideNetns)}`, 'ping', '-i', '0.1', '-c', '150', '-W', '1', FIP],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let output = '';
  ping.stdout!.on('data', (chunk) => (output += chunk));
  const done = new Promise((resolve) => ping.once('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await lab.restartController('gobgpd');
  await done;
  const summary = /(\d+) packets transmitted, (\d+) received/.exec(output);
  assert.ok(summary, `ping's summary: ${output.slice(-300)}`);
  assert.equal(summary[2], summary[1], 'every echo came back');
  // control sets the new gobgpd up again, and the session comes back with the path.
  await waitFor(() => nextHopsOf(`${FIP}/32`).includes(lab.host('h2').underlayAddress), {
    timeoutMs: 30_000,
    what: 'the route to come back from the restarted speaker',
  });
});

test('disassociating the floating IP withdraws the route from FRR and cuts the path', { skip }, async () => {
  await lab.config.associateFloatingIp(fip);
  await waitFor(() => nextHopsOf(`${FIP}/32`).length === 0, { timeoutMs: 20_000, what: `FRR to drop ${FIP}/32` });
  assert.equal(pings(FIP), false);
  assert.equal(ask(podNetns('p2'), lab.topology.gateway!.outsideClientAddress), undefined);
});
