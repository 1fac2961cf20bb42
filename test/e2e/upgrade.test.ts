// The lab rollout (`npm run lab -- upgrade`, ../lab/upgrade.ts), from two commits: the recorded
// last release (test/compat/last-release/RELEASE.json, the N of the README's N → N+1 policy) and
// the parent of the newest first-parent commit that changed services/ (what this checkout's
// services were last upgraded from; skipped when it is the release). Every daemon starts as that
// commit's (built once, cached by commit under /var/cache/weft/refs) and is upgraded to this
// checkout in the charts' order while two pods on two hosts ping every 20 ms, REST writes go on
// and pods are added and deleted through weft-cni. Users rely on a rollout that drops no packet
// between established pods, loses no write config-api acknowledged and fails no CNI ADD; the step
// times are printed, not asserted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempDir } from '@weft/kit/testing';
import { readReleaseManifest } from '../compat/release.js';
import { freeLabPorts, freeUnderlaySubnet, type Lab, labUnavailable } from '../lab/lab.js';
import { optionsFor } from '../lab/trees.js';
import {
  builtTree,
  commitOf,
  formatReport,
  previousServicesCommit,
  rollout,
  rolloutOrder,
  upLabOf,
} from '../lab/upgrade.js';

const skip = labUnavailable();

async function rolloutFrom(from: string, prefix: string, subnetOffset: number): Promise<void> {
  const tree = builtTree(from, { log: (line) => console.log(line) });
  const dir = tempDir('weft-lab-upgrade-');
  // A name, underlay subnet and ports of this run's own, so that it meets nothing another run left behind.
  const ports = await freeLabPorts();
  const lab: Lab = await upLabOf(tree, {
    name: `${prefix}${process.pid % 100_000}`,
    hosts: 2,
    subnet: freeUnderlaySubnet(20 + ((process.pid + subnetOffset) % 200)),
    dir: dir.path,
    ports,
  });
  try {
    await rollsOut(lab, from);
  } finally {
    await lab.down();
    dir.remove();
  }
}

async function rollsOut(lab: Lab, from: string): Promise<void> {
  // The order is the charts' (config-api first) unless REF's control cannot send a token.
  const daemons = rolloutOrder(lab);
  const report = await rollout(lab, from, (line) => console.log(line));
  console.log(formatReport(report));
  assert.deepEqual(
    [...daemons].sort(),
    ['analytics', 'config-api', 'control', ...lab.topology.hosts.map((host) => `agent-${host.name}`)].sort(),
    'every daemon is upgraded once',
  );
  assert.deepEqual(
    report.steps.map((step) => step.daemon),
    daemons,
  );
  for (const daemon of daemons) assert.equal(lab.treeOf(daemon), undefined, `${daemon} runs this checkout at the end`);
  assert.ok(report.ping.answered > 0 && report.writes.acknowledged > 0 && report.cni.adds > 0, 'the workload ran');
  assert.deepEqual(report.ping.lost, [], 'no packet lost between the established pods');
  assert.deepEqual(report.writes.lost, [], 'every acknowledged write is read back');
  assert.deepEqual(report.cni.failed, [], 'no CNI ADD failed');
  // weft-cni rides out an agent's upgrade itself: the runtime is never told to try again.
  assert.deepEqual(report.cni.triedAgain, [], 'no CNI ADD was answered "try again later"');
}

const release = commitOf(readReleaseManifest().commit);
const previous = previousServicesCommit();

test(
  `a rollout from the last release (${release.slice(0, 7)}) loses no packet, no acknowledged write and no CNI ADD`,
  { skip },
  () => rolloutFrom(release, 'wfr', 60),
);

test(
  `a rollout from the previous services commit (${previous.slice(0, 7)}) loses no packet, no acknowledged write and no CNI ADD`,
  { skip: skip ?? (previous === release ? 'it is the last release' : undefined) },
  () => rolloutFrom(previous, 'wfs', 130),
);

test("an older tree's daemon is passed only the options it declares, and the lab names the rest", { skip }, () => {
  const tree = builtTree(release);
  const options = { WEFT_LOG_LEVEL: 'info', WEFT_NOT_AN_OPTION: '1', PATH: '/usr/bin' };
  const fitted = optionsFor('control', tree, options);
  assert.deepEqual(fitted.options, { WEFT_LOG_LEVEL: 'info', PATH: '/usr/bin' });
  assert.deepEqual(fitted.dropped, ['WEFT_NOT_AN_OPTION']);
  // This checkout's daemons get every option, so that one the lab misspells is refused, not hidden.
  assert.deepEqual(optionsFor('control', undefined, options), { options, dropped: [] });
});
