// The lab rollout (`npm run lab -- upgrade`, ../lab/upgrade.ts) from the commit this checkout's
// services were last upgraded from: the parent of the newest first-parent commit that changed
// services/. Every daemon starts as that commit's (built once, cached by commit under
// /var/cache/weft/refs) and is upgraded to this checkout in the charts' order while two pods on
// two hosts ping every 20 ms, REST writes go on and pods are added and deleted through weft-cni.
// Users rely on a rollout that drops no packet between established pods, loses no write config-api
// acknowledged and fails no CNI ADD; the step times are printed, not asserted.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { freePort, tempDir } from '@weft/kit/testing';
import { type Lab, labUnavailable } from '../lab/lab.js';
import { builtTree, formatReport, previousServicesCommit, rollout, upLabOf } from '../lab/upgrade.js';

const skip = labUnavailable();
let lab: Lab | undefined;
let dir: ReturnType<typeof tempDir> | undefined;

after(async () => {
  await lab?.down();
  dir?.remove();
});

test('a rollout from the previous services commit to this checkout loses no packet, no acknowledged write and no CNI ADD', {
  skip,
}, async () => {
  const from = previousServicesCommit();
  const tree = builtTree(from, { log: (line) => console.log(line) });
  dir = tempDir('weft-lab-upgrade-');
  // A name, underlay subnet and ports of this run's own, so that it meets nothing another run left behind.
  const ports = { nats: 0, configRest: 0, configGrpc: 0, control: 0, controlHttp: 0, analytics: 0, agentHttp: 0 };
  for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
  lab = await upLabOf(tree, {
    name: `wfu${process.pid % 100_000}`,
    hosts: 2,
    subnet: 20 + ((process.pid + 50) % 200),
    dir: dir.path,
    ports,
  });
  const report = await rollout(lab, from, (line) => console.log(line));
  console.log(formatReport(report));
  assert.deepEqual(
    report.steps.map((step) => step.daemon),
    ['config-api', 'control', 'analytics', ...lab.topology.hosts.map((host) => `agent-${host.name}`)],
  );
  for (const daemon of [
    'config-api',
    'control',
    'analytics',
    ...lab.topology.hosts.map((host) => `agent-${host.name}`),
  ])
    assert.equal(lab.treeOf(daemon), undefined, `${daemon} runs this checkout after the rollout`);
  assert.ok(report.ping.answered > 0 && report.writes.acknowledged > 0 && report.cni.adds > 0, 'the workload ran');
  assert.deepEqual(report.ping.lost, [], 'no packet lost between the established pods');
  assert.deepEqual(report.writes.lost, [], 'every acknowledged write is read back');
  assert.deepEqual(report.cni.failed, [], 'no CNI ADD failed');
});
