// A network routed to the outside (router_external), in the lab with its gateway (`npm run lab --
// up --gateway`): control advertises each of its pods' own addresses as a /32 via the host that
// holds the pod, FRR learns them, and a client outside reaches the pod by its own address, no
// NAT either way; the route the gateway offers (its outside network) is learnt by control and
// handed to the agents of the routed network, next hop the gateway on the underlay (which a pod
// leaves by even when its host has no default route).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tempDir, waitFor } from '@weft/kit/testing';
import { frrMissing, gatewayRoutes, vtysh } from '../lab/gateway.js';
import { freeLabPorts, freeUnderlaySubnet, Lab, labUnavailable } from '../lab/lab.js';
import { inNs, netnsPath } from '../lab/shell.js';

const skip = labUnavailable() ?? frrMissing();
const PORT = 8080;
let lab: Lab;
let dir: ReturnType<typeof tempDir>;
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

/** What the TCP server at host answers a client in netns, or undefined when none answers. */
function ask(netns: string, host: string): string | undefined {
  const run = spawnSync(
    'nsenter',
    [`--net=${netnsPath(netns)}`, process.execPath, join(dir.path, 'client.js'), host, String(PORT)],
    {
      encoding: 'utf8',
      timeout: 5_000,
    },
  );
  return run.status === 0 ? run.stdout.trim() : undefined;
}

function pings(address: string): boolean {
  const outside = netnsPath(lab.topology.gateway!.outsideNetns);
  return spawnSync('nsenter', [`--net=${outside}`, 'ping', '-c', '1', '-W', '1', address]).status === 0;
}

const podNetns = (pod: string) => lab.pods.find((item) => item.name === pod)!.netns;
const nextHopsOf = (prefix: string) => gatewayRoutes(lab.topology.gateway!).get(prefix) ?? [];

before(async () => {
  if (skip) return;
  dir = tempDir('weft-lab-routed-');
  writeFileSync(join(dir.path, 'server.js'), SERVER);
  writeFileSync(join(dir.path, 'client.js'), CLIENT);
  const ports = await freeLabPorts();
  lab = await Lab.up({
    name: `rtd${process.pid % 10_000}`,
    hosts: 2,
    subnet: freeUnderlaySubnet(20 + ((process.pid + 90) % 200)),
    dir: dir.path,
    ports,
    gateway: true,
  });
  const routed = await lab.config.createNetwork('routed', '198.18.7.0/24');
  await lab.config.update('virtual-network', routed.uuid, { router_external: true });
  await lab.config.createNetwork('inside', '10.32.0.0/24');
  await lab.addPod('r1', 'h1', ['routed']);
  await lab.addPod('r2', 'h2', ['routed']);
  await lab.addPod('i1', 'h1', ['inside']);
  for (const pod of ['r1', 'r2', 'i1'])
    servers.push(inNetns(podNetns(pod), [join(dir.path, 'server.js'), pod, String(PORT)]));
  servers.push(inNetns(lab.topology.gateway!.outsideNetns, [join(dir.path, 'server.js'), 'outside', String(PORT)]));
});

after(async () => {
  for (const server of servers) server.kill();
  if (skip || !lab) return;
  await lab.down();
  dir.remove();
});

test('FRR learns each pod of the routed network by its own address, next hop the host holding it', {
  skip,
}, async () => {
  for (const [pod, host] of [
    ['r1', 'h1'],
    ['r2', 'h2'],
  ] as const) {
    const prefix = `${lab.podAddress(pod, 'routed')}/32`;
    const via = lab.host(host).underlayAddress;
    // The session comes up once gobgpd and FRR have both retried (every 5 s) after the lab's start.
    await waitFor(() => nextHopsOf(prefix).includes(via), {
      timeoutMs: 90_000,
      what: `FRR to learn ${prefix} via ${via}`,
    });
  }
  assert.match(vtysh(lab.topology.gateway!, 'show ip bgp'), /198\.18\.7\.\d+\/32/);
  assert.equal(
    nextHopsOf(`${lab.podAddress('i1', 'inside')}/32`).length,
    0,
    'a network not routed out is not advertised',
  );
});

test('the outside pings and opens TCP to a routed pod by its own address, which sees the client’s own', {
  skip,
}, async () => {
  const client = lab.topology.gateway!.outsideClientAddress;
  for (const pod of ['r1', 'r2']) {
    const address = lab.podAddress(pod, 'routed');
    await waitFor(() => pings(address), { timeoutMs: 20_000, what: `the outside to ping ${pod} at ${address}` });
    assert.equal(ask(lab.topology.gateway!.outsideNetns, address), `${pod} ${client}`);
  }
});

test('a routed pod reaches the outside with its own address as the source; a pod of another network does not', {
  skip,
}, () => {
  const client = lab.topology.gateway!.outsideClientAddress;
  assert.equal(ask(podNetns('r1'), client), `outside ${lab.podAddress('r1', 'routed')}`);
  assert.equal(ask(podNetns('i1'), client), undefined);
});

test('control learns the routes the gateway offers (a default route, its outside network) and shows them in /bgp', {
  skip,
}, async () => {
  const gateway = lab.topology.gateway!;
  const learnt = async () =>
    ((await (await fetch(`${lab.controlUrl}/bgp`)).json()) as { learnt: Array<{ prefix: string; nextHop: string }> })
      .learnt;
  const offered = async () =>
    (await learnt())
      .filter((path) => path.prefix === '198.51.100.0/24' || path.prefix === '0.0.0.0/0')
      .map((path) => [path.prefix, path.nextHop]);
  await waitFor(async () => (await offered()).length === 2, {
    timeoutMs: 30_000,
    what: 'control to learn 0.0.0.0/0 and 198.51.100.0/24',
  });
  assert.deepEqual(await offered(), [
    ['0.0.0.0/0', gateway.underlayAddress],
    ['198.51.100.0/24', gateway.underlayAddress],
  ]);
});

test('the agents of the routed network hold the gateway’s routes, next hop the gateway; the pod leaves by them', {
  skip,
}, async () => {
  const gateway = lab.topology.gateway!;
  type View = {
    routes: Array<{ routing_instance: string; prefix: string; next_hop: { kind: string; gateway?: string } }>;
  };
  // The gateway's default route and its outside network, in whichever routing instance holds them.
  const learnt = async (host: 'h1' | 'h2') =>
    (
      (await (await fetch(`${lab.agentUrl(lab.host(host))}/datapath`, { headers: lab.authHeaders })).json()) as View
    ).routes
      .filter((route) => route.prefix === '198.51.100.0/24' || route.prefix === '0.0.0.0/0')
      .map((route) => [
        route.routing_instance.split(':').at(-1),
        route.prefix,
        route.next_hop.kind,
        route.next_hop.gateway,
      ]);
  const wanted = [
    ['routed', '0.0.0.0/0', 'outside', gateway.underlayAddress],
    ['routed', '198.51.100.0/24', 'outside', gateway.underlayAddress],
  ];
  for (const host of ['h1', 'h2'] as const) {
    await waitFor(async () => (await learnt(host)).length === wanted.length, {
      timeoutMs: 20_000,
      what: `${host} to hold the gateway's routes`,
    });
    assert.deepEqual(await learnt(host), wanted, 'in the routed network only, not in the inside one');
  }
  // Without its host's default route, r2 still leaves: the learnt route names the gateway itself.
  const h2 = lab.host('h2').netns;
  inNs(h2, 'ip', ['route', 'del', 'default']);
  try {
    assert.throws(() => inNs(h2, 'ip', ['route', 'get', gateway.outsideClientAddress]), 'the host has no way there');
    assert.equal(ask(podNetns('r2'), gateway.outsideClientAddress), `outside ${lab.podAddress('r2', 'routed')}`);
  } finally {
    inNs(h2, 'ip', ['route', 'add', 'default', 'via', gateway.underlayAddress]);
  }
});
