// Pod teardown never waits on the agent, and pod set-up rides out an agent restart: the real
// weft-cni against a lab host whose real agent is stopped. DEL queues the deletion on the host
// and succeeds; the agent carries the queue out when it starts, so the pod's port is detached
// and control withdraws its route. ADD while the agent is away waits and succeeds once it is
// back, or fails with error 11 leaving nothing behind.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CniCode, hostIfnameFor } from '@weft/cni';
import { waitFor } from '@weft/kit/testing';
import { labUnavailable } from '../lab/lab.js';
import { sh, shQuiet } from '../lab/shell.js';
import { type FaultLab, upFaultLab } from './fault-lab.js';

const skip = labUnavailable();
let fault: FaultLab;

interface HostStateView {
  ports: { container_id: string }[];
  routes: Record<string, Record<string, unknown>>;
}

async function hostState(): Promise<HostStateView> {
  const { lab } = fault;
  return (await (
    await fetch(`${lab.agentUrl(lab.host('h1'))}/host-state`, { headers: lab.authHeaders })
  ).json()) as HostStateView;
}

function hasRoute(view: HostStateView, address: string): boolean {
  return Object.values(view.routes).some((table) => `${address}/32` in table);
}

before(async () => {
  if (skip) return;
  fault = await upFaultLab('cni', 1);
  await fault.lab.config.createNetwork('red', '10.31.0.0/24');
  // The pod added while the agent is away is on a network of its own, so that the deleted pod's
  // address, back in red's pool, is not given to it.
  await fault.lab.config.createNetwork('blue', '10.32.0.0/24');
});

after(async () => {
  if (skip || !fault) return;
  await fault.down();
});

test('with the agent stopped, DEL queues the deletion and succeeds; the agent carries it out when it starts', {
  skip,
}, async () => {
  const { lab } = fault;
  const host = lab.host('h1');
  const queue = join(lab.dir, host.name, 'delete-queue');
  const pod = await lab.addPod('gone', 'h1', ['red']);
  const address = lab.podAddress('gone', 'red');
  await waitFor(async () => hasRoute(await hostState(), address), { what: "the pod's route at its agent" });

  await lab.stopAgent(host);
  // The runtime's DEL, as Kubernetes sends it when the pod is deleted.
  await lab.deletePod('gone');
  assert.deepEqual(readdirSync(queue), [`${pod.containerId}.json`], 'one queued deletion, for this container');
  assert.doesNotMatch(lab.execHost('h1', 'ip', ['-o', 'link']), new RegExp(hostIfnameFor(pod.containerId, 'eth0')));

  // ADD with a short wait while the agent is away: error 11, and nothing made.
  const netns = `${lab.topology.lab}-pod-early`;
  sh('ip', ['netns', 'add', netns]);
  try {
    const early = await lab.cni('ADD', host, 'lab-early', netns, 'early', undefined, undefined, { configWaitMs: 500 });
    assert.equal(early.exitCode, 1);
    assert.equal(early.json?.code, CniCode.TRY_AGAIN_LATER, early.stdout);
    assert.doesNotMatch(lab.execHost('h1', 'ip', ['-o', 'link']), new RegExp(hostIfnameFor('lab-early', 'eth0')));
    assert.doesNotMatch(sh('ip', ['-n', netns, '-o', 'link']), /eth0/);
  } finally {
    shQuiet('ip', ['netns', 'del', netns]);
  }

  // ADD with the usual wait while the agent comes back: it waits, then succeeds.
  const adding = lab.addPod('late', 'h1', ['blue']);
  await lab.startAgent(host);
  await adding;
  assert.match(lab.exec('late', 'ip', ['-o', '-4', 'addr', 'show', 'dev', 'eth0']), /10\.32\.0\.\d+\/24/);

  assert.deepEqual(readdirSync(queue), [], 'the agent carried out the queue');
  const view = await hostState();
  assert.ok(!view.ports.some((port) => port.container_id === pod.containerId), 'the deleted pod has no port');
  assert.ok(
    view.ports.some((port) => port.container_id === 'lab-late'),
    'the pod added meanwhile has its port',
  );
  await waitFor(async () => !hasRoute(await hostState(), address), {
    what: "control to withdraw the deleted pod's route",
  });
});
