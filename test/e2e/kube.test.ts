// The lab as a Kubernetes node: pods are created through the Kubernetes API (the stand-in API
// server: no real kube-apiserver can run here), weft-kube-manager turns them into config, and the
// lab calls weft-cni as the kubelet does. A pod that asks for two extra networks gets three
// interfaces from one CNI ADD, its network-status lists them, and it reaches a peer on each of
// its networks and none on a network it is not on. A restarted manager changes no config; a
// deleted pod's config goes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort, tempDir, waitFor } from '@weft/kit/testing';
import { NETWORK_STATUS_ANNOTATION } from '@weft/kube-manager';
import { type KubeApiServer, startKubeApiServer } from '@weft/kube-manager/testing';
import { Lab, labUnavailable } from '../lab/lab.js';

const skip = labUnavailable();
let lab: Lab;
let kube: KubeApiServer;
let dir: ReturnType<typeof tempDir>;
let managerHttp: number;

before(async () => {
  if (skip) return;
  dir = tempDir('weft-lab-kube-');
  kube = await startKubeApiServer();
  const ports = { nats: 0, configRest: 0, configGrpc: 0, control: 0, controlHttp: 0, analytics: 0, agentHttp: 0 };
  for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
  managerHttp = await freePort();
  lab = await Lab.up({
    name: `wfk${process.pid % 100_000}`,
    hosts: 2,
    subnet: 20 + ((process.pid + 137) % 200),
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
});

after(async () => {
  if (skip) return;
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

test('a restarted manager changes no config; a deleted pod loses its config', { skip }, async () => {
  const before = await storeRevision();
  await lab.restartController('kube-manager');
  const manager = `http://127.0.0.1:${managerHttp}`;
  // The new manager has gone over every pod once, and nothing waits.
  await waitFor(
    async () =>
      (await metric(manager, /^weft_kube_manager_reconciles_total\{kind="pod",result="ok"\} (\d+)/m)) >= 4 &&
      (await metric(manager, /^weft_kube_manager_queue_depth (\d+)/m)) === 0,
    { what: 'the restarted manager to reconcile every pod', timeoutMs: 30_000 },
  );
  assert.equal(await storeRevision(), before, 'no config change after the restart');

  await lab.deletePod('peer-green');
  await waitFor(async () => (await lab.config.fqNameToId('virtual-machine', ['default/peer-green'])) === undefined, {
    what: "the deleted pod's virtual-machine to go",
  });
});
