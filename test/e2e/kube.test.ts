// The lab as a Kubernetes node: pods are created through the Kubernetes API (the stand-in API
// server: no real kube-apiserver can run here), weft-kube-manager turns them into config, and the
// lab calls weft-cni as the kubelet does. A pod that asks for two extra networks gets three
// interfaces from one CNI ADD, its network-status lists them, and it reaches a peer on each of
// its networks and none on a network it is not on. A NetworkPolicy that allows only TCP port 80
// from pods labelled role=client cuts everything else to the pods it selects. A ClusterIP
// Service with 3 endpoint pods (one on the client's host, two behind the tunnel) spreads 300 TCP
// connections over all three with none failing, and an endpoint pod deleted (its EndpointSlice
// updated, as Kubernetes' EndpointSlice controller would: the stand-in server runs no
// controllers) leaves the spread. A restarted manager changes no config; a deleted pod's config
// goes.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { freePort, tempDir, waitFor } from '@weft/kit/testing';
import { NETWORK_STATUS_ANNOTATION } from '@weft/kube-manager';
import { type KubeApiServer, startKubeApiServer } from '@weft/kube-manager/testing';
import { freeLabPorts, freeUnderlaySubnet, Lab, labUnavailable } from '../lab/lab.js';
import { netnsPath } from '../lab/shell.js';

const skip = labUnavailable();
let lab: Lab;
let kube: KubeApiServer;
let dir: ReturnType<typeof tempDir>;
let managerHttp: number;

before(async () => {
  if (skip) return;
  dir = tempDir('weft-lab-kube-');
  kube = await startKubeApiServer();
  const ports = await freeLabPorts();
  managerHttp = await freePort();
  lab = await Lab.up({
    name: `wfk${process.pid % 100_000}`,
    hosts: 2,
    subnet: freeUnderlaySubnet(20 + ((process.pid + 137) % 200)),
    dir: dir.path,
    ports: { ...ports, kubeManagerHttp: managerHttp },
    kube: { url: kube.url, podNetwork: 'pod-net' },
  });
  await lab.config.createNetwork('pod-net', '10.80.0.0/24');
  await lab.config.createNetwork('blue', '10.81.0.0/24');
  await lab.config.createNetwork('red', '10.82.0.0/24');
  await lab.config.createNetwork('green', '10.83.0.0/24');
  await lab.addPod('multi', 'h1', ['pod-net', 'blue', 'red']);
  await lab.addPod('peer-blue', 'h2', ['pod-net', 'blue']);
  await lab.addPod('peer-red', 'h2', ['pod-net', 'red']);
  await lab.addPod('peer-green', 'h2', ['pod-net', 'green']);
  await lab.addPod('web', 'h1', ['pod-net'], { labels: { role: 'server' } });
  await lab.addPod('client', 'h2', ['pod-net'], { labels: { role: 'client' } });
  await lab.addPod('stranger', 'h2', ['pod-net'], { labels: { role: 'other' } });
  await lab.addPod('echo-1', 'h1', ['pod-net']);
  await lab.addPod('echo-2', 'h1', ['pod-net']);
  await lab.addPod('echo-3', 'h2', ['pod-net']);
});

let server: ChildProcess | undefined;
const echoes: ChildProcess[] = [];
after(async () => {
  if (skip) return;
  server?.kill();
  for (const echo of echoes) echo.kill();
  await lab?.down();
  await kube?.close();
  dir?.remove();
});

function pinged(from: string, address: string): boolean {
  try {
    lab.exec(from, 'ping', ['-c', '1', '-W', '1', address]);
    return true;
  } catch {
    return false;
  }
}

/** A TCP server in a pod on ports 80 and 81 that greets each connection with "ok". */
function serveTcp(pod: string): ChildProcess {
  const program = [
    'import socket, threading',
    'def serve(port):',
    '  s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
    "  s.bind(('0.0.0.0', port)); s.listen(64)",
    '  while True:',
    '    c, _ = s.accept(); c.sendall(b"ok"); c.close()',
    'for port in (80, 81): threading.Thread(target=serve, args=(port,), daemon=True).start()',
    'threading.Event().wait()',
  ].join('\n');
  const netns = lab.pods.find((item) => item.name === pod)!.netns;
  return spawn('nsenter', [`--net=${netnsPath(netns)}`, 'python3', '-c', program], { stdio: 'ignore' });
}

function connects(from: string, address: string, port: number): boolean {
  const program =
    'import socket, sys\ns = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)\nsys.exit(0 if s.recv(2) == b"ok" else 1)';
  try {
    lab.exec(from, 'python3', ['-c', program, address, String(port)]);
    return true;
  } catch {
    return false;
  }
}

async function metric(url: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(pattern.exec(text)?.[1] ?? Number.NaN);
}

const storeRevision = () => metric(lab.config.restUrl, /^weft_config_api_store_revision (\d+)/m);

test('a pod made through Kubernetes gets all three of its networks from one CNI ADD, and network-status lists them', {
  skip,
}, async () => {
  const multi = lab.pods.find((pod) => pod.name === 'multi')!;
  const inPod = (multi.result.interfaces as { name: string; sandbox?: string }[]).filter((item) => item.sandbox);
  assert.deepEqual(
    inPod.map((item) => item.name),
    ['eth0', 'net1', 'net2'],
  );
  const resultIps = (multi.result.ips as { address: string }[]).map((ip) => ip.address.split('/')[0]);
  const status = await waitFor(
    async () => (await lab.kube!.readPod('default', 'multi')).metadata.annotations?.[NETWORK_STATUS_ANNOTATION],
    { what: 'the network-status annotation' },
  );
  const entries = JSON.parse(status) as { name: string; interface: string; ips: string[]; default?: boolean }[];
  assert.deepEqual(
    entries.map((entry) => [entry.name, entry.interface, entry.ips[0]]),
    [
      ['weft', 'eth0', resultIps[0]],
      ['default/blue', 'net1', resultIps[1]],
      ['default/red', 'net2', resultIps[2]],
    ],
  );
  assert.equal(entries[0]!.default, true);
});

test('it reaches a peer on each of its networks, and none on a network it is not on', { skip }, async () => {
  assert.ok(pinged('multi', lab.podAddress('peer-blue', 'pod-net')), 'pod-net (eth0)');
  assert.ok(pinged('multi', lab.podAddress('peer-blue', 'blue')), 'blue (net1)');
  assert.ok(pinged('multi', lab.podAddress('peer-red', 'red')), 'red (net2)');
  assert.ok(!pinged('multi', lab.podAddress('peer-green', 'green')), 'green: not one of its networks');
  assert.ok(!pinged('peer-green', lab.podAddress('multi', 'blue')), 'from green to blue');
});

test('a NetworkPolicy that allows only port 80 from role=client cuts everything else to the pods it selects', {
  skip,
}, async () => {
  server = serveTcp('web');
  const web = lab.podAddress('web', 'pod-net');
  await waitFor(() => connects('client', web, 80) && connects('client', web, 81) && connects('stranger', web, 80), {
    what: 'the web pod to answer everyone before any policy',
  });
  await lab.kube!.createNetworkPolicy('default', {
    metadata: { name: 'web-from-clients' },
    spec: {
      podSelector: { matchLabels: { role: 'server' } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ protocol: 'TCP', port: 80 }] },
      ],
    },
  });
  await waitFor(() => !connects('stranger', web, 80), {
    what: 'the policy to cut the stranger off',
    timeoutMs: 30_000,
  });
  assert.ok(connects('client', web, 80), 'role=client to port 80');
  assert.ok(!connects('client', web, 81), 'role=client to port 81');
  assert.ok(!pinged('client', web), 'role=client: ping');
  assert.ok(!connects('stranger', web, 80), 'role=other to port 80');
  // Only the selected pod is isolated, and only for ingress.
  assert.ok(pinged('web', lab.podAddress('stranger', 'pod-net')), 'the web pod still reaches out');
  assert.ok(pinged('stranger', lab.podAddress('client', 'pod-net')), 'pods no policy selects stay open');

  await lab.kube!.deleteNetworkPolicy('default', 'web-from-clients');
  await waitFor(() => connects('stranger', web, 80), { what: 'the web pod open again', timeoutMs: 30_000 });
});

/** A TCP server in a pod on port 8080 that answers each connection with the pod's name. */
function serveName(pod: string): ChildProcess {
  const program = [
    'import socket, sys',
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 8080)); s.listen(256)",
    'while True:',
    '  c, _ = s.accept(); c.sendall(sys.argv[1].encode()); c.close()',
  ].join('\n');
  const netns = lab.pods.find((item) => item.name === pod)!.netns;
  return spawn('nsenter', [`--net=${netnsPath(netns)}`, 'python3', '-c', program, pod], { stdio: 'ignore' });
}

/** `count` TCP connections from a pod, one after the other: how many each answer had, and failures. */
function spread(from: string, address: string, port: number, count: number): Record<string, number> {
  const program = [
    'import collections, json, socket, sys',
    'seen = collections.Counter()',
    'for _ in range(int(sys.argv[3])):',
    '  try:',
    '    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)',
    '    seen[s.recv(64).decode() or "empty"] += 1; s.close()',
    '  except OSError:',
    '    seen["failed"] += 1',
    'print(json.dumps(seen))',
  ].join('\n');
  return JSON.parse(lab.exec(from, 'python3', ['-c', program, address, String(port), String(count)]));
}

test('a ClusterIP Service spreads 300 connections over its 3 endpoints, none failing; a deleted endpoint pod leaves the spread', {
  skip,
}, async () => {
  const pods = ['echo-1', 'echo-2', 'echo-3'];
  for (const pod of pods) echoes.push(serveName(pod));
  for (const pod of pods) {
    await waitFor(() => spread('client', lab.podAddress(pod, 'pod-net'), 8080, 1)[pod] === 1, {
      what: `${pod} to answer on its own address`,
    });
  }
  const vip = '10.96.0.50';
  await lab.kube!.request('POST', '/api/v1/namespaces/default/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo' },
    spec: { type: 'ClusterIP', clusterIP: vip, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  });
  const slice = (endpointPods: string[]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'echo-1a2b3', labels: { 'kubernetes.io/service-name': 'echo' } },
    addressType: 'IPv4',
    endpoints: endpointPods.map((pod) => ({
      addresses: [lab.podAddress(pod, 'pod-net')],
      conditions: { ready: true },
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });
  await lab.kube!.request('POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice(pods));
  await waitFor(() => Object.keys(spread('client', vip, 80, 30)).length === 3, {
    what: 'the service to reach all three endpoints',
    timeoutMs: 30_000,
  });

  // The client's agent holds the service in its datapath, with the three backends.
  const datapath = (await (
    await fetch(`${lab.agentUrl(lab.host('h2'))}/datapath`, { headers: lab.authHeaders })
  ).json()) as {
    services: { address: string; port: number; protocol: string; backends: string[] }[];
  };
  assert.deepEqual(
    datapath.services.map((service) => [service.address, service.port, service.protocol, service.backends.length]),
    [[vip, 80, 'tcp', 3]],
  );

  const counts = spread('client', vip, 80, 300);
  console.log(`# 300 connections to the virtual IP: ${JSON.stringify(counts)}`);
  assert.equal(counts.failed, undefined, `no connection failed: ${JSON.stringify(counts)}`);
  assert.deepEqual(Object.keys(counts).sort(), pods, `every endpoint answered: ${JSON.stringify(counts)}`);
  assert.equal(
    Object.values(counts).reduce((sum, n) => sum + n, 0),
    300,
  );

  await lab.deletePod('echo-3');
  const removed = Date.now();
  await lab.kube!.request(
    'PUT',
    '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/echo-1a2b3',
    slice(pods.slice(0, 2)),
  );
  // Taken out of the spread once 30 connections in a row reach only the other two.
  await waitFor(
    () => {
      const now = spread('client', vip, 80, 30);
      return now['echo-1'] !== undefined && now['echo-2'] !== undefined && Object.keys(now).length === 2;
    },
    { what: 'the deleted endpoint to leave the spread', timeoutMs: 30_000, intervalMs: 20 },
  );
  // Reported, not asserted (no timing assertions in tests): the issue asks for under a second.
  console.log(`# endpoint pod deleted → out of the spread in ${Date.now() - removed} ms`);
  const after = spread('client', vip, 80, 100);
  assert.deepEqual(
    Object.keys(after).sort(),
    ['echo-1', 'echo-2'],
    `only the remaining endpoints: ${JSON.stringify(after)}`,
  );
});

test('a restarted manager changes no config; a deleted pod loses its config', { skip }, async () => {
  const before = await storeRevision();
  await lab.restartController('kube-manager');
  const manager = `http://127.0.0.1:${managerHttp}`;
  // The new manager has gone over every pod once, and nothing waits.
  await waitFor(
    async () =>
      (await metric(manager, /^weft_kube_manager_reconciles_total\{kind="pod",result="ok"\} (\d+)/m)) >= 7 &&
      (await metric(manager, /^weft_kube_manager_queue_depth (\d+)/m)) === 0,
    { what: 'the restarted manager to reconcile every pod', timeoutMs: 30_000 },
  );
  assert.equal(await storeRevision(), before, 'no config change after the restart');

  await lab.deletePod('peer-green');
  await waitFor(async () => (await lab.config.fqNameToId('virtual-machine', ['default/peer-green'])) === undefined, {
    what: "the deleted pod's virtual-machine to go",
  });
});
