// weft-cni run as a runtime runs it, for what needs no agent: versions, bad config, bad
// environment, and an agent that is down.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@weft/kit/testing';
import { CniCode } from './errors.js';
import { hostIfnameFor } from './pod-network.js';
import { callPlugin, createNetns, inNetns, netnsUnavailable, weftCniPath } from './testing/index.js';

function config(overrides: Record<string, unknown> = {}) {
  return { cniVersion: '1.1.0', name: 'weft', type: 'weft-cni', ...overrides };
}

function hostLinks(): string[] {
  return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[]).map(
    (link) => link.ifname,
  );
}

test('VERSION lists 1.0.0 and 1.1.0 and echoes the version asked for', async () => {
  const outcome = await callPlugin(weftCniPath, { command: 'VERSION', config: { cniVersion: '1.0.0' } });
  assert.equal(outcome.exitCode, 0);
  assert.deepEqual(outcome.json, { cniVersion: '1.0.0', supportedVersions: ['1.0.0', '1.1.0'] });
});

test('a broken network config is error 7 naming the field', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ cniVersion: '1.1.0', type: 'weft-cni' }, /name is required/],
    [config({ agentSocket: 7 }), /agentSocket must be a string/],
    [config({ configWaitMs: -5 }), /configWaitMs must be a positive integer/],
    [config({ deleteQueue: '' }), /deleteQueue must name a directory/],
    [config({ 'cni.dev/valid-attachments': [{ ifname: 'eth0' }] }), /cni\.dev\/valid-attachments must be a list/],
  ];
  for (const [netconf, message] of cases) {
    const outcome = await callPlugin(weftCniPath, {
      command: 'ADD',
      config: netconf,
      containerId: 'c1',
      netns: '/nonexistent',
      ifname: 'eth0',
    });
    assert.equal(outcome.exitCode, 1);
    assert.equal(outcome.json?.code, CniCode.INVALID_CONFIG, outcome.stdout);
    assert.match(outcome.json?.msg ?? '', message);
  }
});

test('an unsupported cniVersion is error 1, a missing variable error 4, bad JSON error 6', async () => {
  const old = await callPlugin(weftCniPath, {
    command: 'ADD',
    config: config({ cniVersion: '0.3.1' }),
    containerId: 'c',
    netns: '/x',
    ifname: 'eth0',
  });
  assert.equal(old.json?.code, CniCode.INCOMPATIBLE_VERSION);
  const noContainer = await callPlugin(weftCniPath, { command: 'ADD', config: config(), netns: '/x', ifname: 'eth0' });
  assert.equal(noContainer.json?.code, CniCode.INVALID_ENVIRONMENT);
  assert.match(noContainer.json?.msg ?? '', /CNI_CONTAINERID is required/);
  const { runPlugin } = await import('./skel.js');
  const garbled = await runPlugin({ CNI_COMMAND: 'ADD' }, '{"cniVersion": ');
  assert.equal(JSON.parse(garbled.stdout).code, CniCode.DECODE_FAILURE);
});

test('ADD while the agent is down is error 11 and leaves nothing behind', { skip: netnsUnavailable() }, async () => {
  const dir = tempDir('weft-cni-');
  const pod = createNetns(`weft-cni-down-${process.pid}`);
  try {
    const podLinksBefore = inNetns(pod.path, 'ip', ['-o', 'link']);
    const outcome = await callPlugin(weftCniPath, {
      command: 'ADD',
      config: config({ agentSocket: join(dir.path, 'agent.sock'), configWaitMs: 300 }),
      containerId: 'c-down',
      netns: pod.path,
      ifname: 'eth0',
      args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-1', IgnoreUnknown: '1', SOMETHING_ELSE: 'x' },
    });
    assert.equal(outcome.exitCode, 1);
    assert.equal(outcome.json?.code, CniCode.TRY_AGAIN_LATER, outcome.stdout);
    // Other tests make and remove links meanwhile: look for the one this call would have made.
    assert.ok(!hostLinks().includes(hostIfnameFor('c-down', 'eth0')), 'the host end is left');
    assert.equal(inNetns(pod.path, 'ip', ['-o', 'link']), podLinksBefore);

    const status = await callPlugin(weftCniPath, {
      command: 'STATUS',
      config: config({ agentSocket: join(dir.path, 'agent.sock') }),
    });
    assert.equal(status.json?.code, CniCode.PLUGIN_NOT_AVAILABLE);
  } finally {
    pod.remove();
    dir.remove();
  }
});
