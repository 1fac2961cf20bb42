// The runtime harness drives Debian's reference plugins (bridge with host-local IPAM) and gets
// what the CNI spec says: proof that the harness itself speaks the spec, so what it shows about
// weft-cni can be trusted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { tempDir } from '@weft/kit/testing';
import { callPlugin, createNetns, inNetns, netnsUnavailable } from './testing/index.js';

const BRIDGE = '/usr/lib/cni/bridge';
const skip =
  netnsUnavailable() ??
  (existsSync(BRIDGE) ? undefined : 'containernetworking-plugins is not installed (npm test installs it as root)');

test('the harness runs bridge + host-local through ADD, CHECK and DEL as the spec describes', { skip }, async () => {
  const state = tempDir('weft-cni-ref-');
  const bridgeName = `wfref${process.pid % 10000}`;
  const pod = createNetns(`weft-cni-ref-${process.pid}`);
  const netconf = {
    cniVersion: '1.0.0',
    name: 'reference',
    type: 'bridge',
    bridge: bridgeName,
    isGateway: true,
    ipam: { type: 'host-local', subnet: '10.250.0.0/24', dataDir: state.path, routes: [{ dst: '0.0.0.0/0' }] },
  };
  const call = { config: netconf, containerId: 'ref-1', netns: pod.path, ifname: 'eth0' };
  try {
    const version = await callPlugin(BRIDGE, { command: 'VERSION', config: { cniVersion: '1.0.0' } });
    assert.ok((version.json?.supportedVersions as string[] | undefined)?.includes('1.0.0'));

    const added = await callPlugin(BRIDGE, { command: 'ADD', ...call });
    assert.equal(added.exitCode, 0, added.stdout);
    const result = added.json as {
      cniVersion: string;
      interfaces: { name: string; sandbox?: string }[];
      ips: { address: string; gateway: string; interface: number }[];
    };
    assert.equal(result.cniVersion, '1.0.0');
    const sandboxIndex = result.interfaces.findIndex((item) => item.sandbox === pod.path);
    assert.equal(result.interfaces[sandboxIndex]?.name, 'eth0');
    assert.equal(result.ips[0]?.interface, sandboxIndex, 'each address names its interface by index');
    assert.match(result.ips[0]?.address ?? '', /^10\.250\.0\.\d+\/24$/);
    assert.match(inNetns(pod.path, 'ip', ['-o', 'addr', 'show', 'dev', 'eth0']), new RegExp(result.ips[0]!.address));

    const checked = await callPlugin(BRIDGE, { command: 'CHECK', ...call, config: { ...netconf, prevResult: result } });
    assert.equal(checked.exitCode, 0, checked.stdout);

    for (let attempt = 0; attempt < 2; attempt += 1) {
      const deleted = await callPlugin(BRIDGE, { command: 'DEL', ...call, config: { ...netconf, prevResult: result } });
      assert.equal(deleted.exitCode, 0, `DEL #${attempt + 1}: ${deleted.stdout}`);
    }
    assert.doesNotMatch(inNetns(pod.path, 'ip', ['-o', 'link']), /eth0/);
  } finally {
    pod.remove();
    try {
      execFileSync('ip', ['link', 'del', bridgeName], { stdio: 'ignore' });
    } catch {
      // the bridge was never made
    }
    state.remove();
  }
});
