// The chart can be upgraded in place from the last release: rendered with the same value set,
// every field Kubernetes makes immutable on an existing object is what the release rendered,
// so `helm upgrade` patches the objects instead of failing (or needing them deleted first).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '@weft/kit/testing';
import { buildRenderer, type Manifest, rendererMissing, renderOrThrow, umbrellaChart } from '../support/charts.js';
import {
  applyAcceptedBreaks,
  describeProblems,
  lastRelease,
  type Problem,
  readAcceptedBreaks,
  readReleaseManifest,
} from './release.js';

// biome-ignore lint/suspicious/noExplicitAny: rendered objects are arbitrary JSON, read by path
type KubeObject = any;

/** StatefulSet spec fields an update may change; the API server forbids a change to any other. */
const STATEFULSET_MUTABLE = new Set([
  'replicas',
  'template',
  'updateStrategy',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
  'ordinals',
]);

/** The fields of one object that Kubernetes will not change in place, by name. */
function immutableFields(object: KubeObject): Record<string, unknown> {
  const spec = object.spec ?? {};
  switch (object.kind) {
    case 'Deployment':
    case 'DaemonSet':
    case 'ReplicaSet':
      return { 'spec.selector': spec.selector };
    case 'StatefulSet':
      return Object.fromEntries(
        Object.entries(spec)
          .filter(([field]) => !STATEFULSET_MUTABLE.has(field))
          .map(([field, value]) => [`spec.${field}`, value]),
      );
    case 'Service':
      // clusterIP "None" (headless) or a fixed address cannot be changed; an empty one is assigned.
      return spec.clusterIP ? { 'spec.clusterIP': spec.clusterIP } : {};
    case 'PersistentVolumeClaim':
      return {
        'spec.accessModes': spec.accessModes,
        'spec.storageClassName': spec.storageClassName,
        'spec.volumeMode': spec.volumeMode,
        'spec.selector': spec.selector,
      };
    default:
      return {};
  }
}

const WORKLOADS = new Set(['Deployment', 'DaemonSet', 'StatefulSet']);

/** What an in-place upgrade from `before` to `after` cannot do, per object (set/Kind/name). */
function upgradeProblems(set: string, before: Manifest[], after: Manifest[]): Problem[] {
  const problems: Problem[] = [];
  const key = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;
  const now = new Map(after.map((m) => [key(m.object), m.object]));
  for (const { object } of before) {
    const path = `${set}/${key(object)}`;
    const current = now.get(key(object));
    if (!current) {
      // A workload under a new name runs beside the old one until someone deletes it by hand.
      if (WORKLOADS.has(object.kind))
        problems.push({ kind: 'chart', path, rule: 'exists', message: 'the release renders it, this chart does not' });
      continue;
    }
    const was = immutableFields(object);
    const is = immutableFields(current);
    for (const field of new Set([...Object.keys(was), ...Object.keys(is)])) {
      if (JSON.stringify(was[field]) !== JSON.stringify(is[field]))
        problems.push({
          kind: 'chart',
          path,
          rule: field,
          message: `immutable: was ${JSON.stringify(was[field])}, now ${JSON.stringify(is[field])}`,
        });
    }
  }
  return problems;
}

/** Value sets present in both charts: the defaults and each ci/*-values.yaml of the same name. */
function sharedValueSets(): { name: string; release: string[]; now: string[] }[] {
  const ciFiles = (chart: string) =>
    existsSync(join(chart, 'ci')) ? readdirSync(join(chart, 'ci')).filter((f) => f.endsWith('-values.yaml')) : [];
  const releaseFiles = new Set(ciFiles(lastRelease.chart));
  return [
    { name: 'defaults', release: [], now: [] },
    ...ciFiles(umbrellaChart)
      .filter((f) => releaseFiles.has(f))
      .sort()
      .map((f) => ({
        name: f.replace(/-values\.yaml$/, ''),
        release: [join(lastRelease.chart, 'ci', f)],
        now: [join(umbrellaChart, 'ci', f)],
      })),
  ];
}

describe('charts/weft upgrades in place from the last release', { skip: rendererMissing() }, () => {
  const scratch = tempDir('weft-charts-upgrade-');
  let renderer = '';
  before(() => {
    renderer = buildRenderer(scratch.path);
  });
  after(() => scratch.remove());

  test('every immutable field renders as the release rendered it, for every value set', () => {
    const accepted = readAcceptedBreaks();
    const sets = sharedValueSets();
    assert.ok(sets.length >= 5, 'the defaults and the ci value sets of both releases');
    const problems: Problem[] = [];
    let compared = 0;
    for (const set of sets) {
      const then = renderOrThrow(renderer, lastRelease.chart, { files: set.release }).manifests;
      const now = renderOrThrow(renderer, umbrellaChart, { files: set.now }).manifests;
      compared += then.filter((m) => Object.keys(immutableFields(m.object)).length > 0).length;
      problems.push(...upgradeProblems(set.name, then, now));
    }
    assert.ok(compared > 20, `objects with immutable fields compared: ${compared}`);
    const { undeclared } = applyAcceptedBreaks(problems, accepted);
    assert.deepEqual(
      undeclared,
      [],
      `the chart cannot be upgraded in place from release ${readReleaseManifest().version}:\n${describeProblems(undeclared)}`,
    );
  });

  test('a changed selector, StatefulSet serviceName or volume claim template is found', () => {
    const then = renderOrThrow(renderer, lastRelease.chart, {}).manifests;
    const now = structuredClone(then);
    const objectOf = (kind: string, name: string) =>
      now.find((m) => m.object.kind === kind && m.object.metadata.name === name)!.object;
    objectOf('Deployment', 'weft-config-api').spec.selector.matchLabels.tier = 'api';
    objectOf('DaemonSet', 'weft-vrouter-agent').spec.selector.matchLabels['app.kubernetes.io/name'] = 'agent';
    objectOf('StatefulSet', 'weft-control').spec.serviceName = 'weft-control-headless';
    objectOf('StatefulSet', 'weft-nats').spec.volumeClaimTemplates[0].spec.resources.requests.storage = '20Gi';
    objectOf('StatefulSet', 'weft-nats').spec.replicas = 5; // may change: not reported
    const found = upgradeProblems('defaults', then, now).map((p) => `${p.path} ${p.rule}`);
    assert.deepEqual(found.sort(), [
      'defaults/DaemonSet/weft-vrouter-agent spec.selector',
      'defaults/Deployment/weft-config-api spec.selector',
      'defaults/StatefulSet/weft-control spec.serviceName',
      'defaults/StatefulSet/weft-nats spec.volumeClaimTemplates',
    ]);
    const renamed = then.filter((m) => !(m.object.kind === 'StatefulSet' && m.object.metadata.name === 'weft-control'));
    assert.deepEqual(
      upgradeProblems('defaults', then, renamed).map((p) => `${p.path} ${p.rule}`),
      ['defaults/StatefulSet/weft-control exists'],
    );
  });
});
