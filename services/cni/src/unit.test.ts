import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCniArgs } from './cni-args.js';
import { hostIfnameFor } from './pod-network.js';
import { podInterfaceNames } from './verbs/add.js';

function item(overrides: { name?: string; is_default?: boolean }) {
  return {
    interface_uuid: '',
    network: '',
    mac: '',
    addresses: [],
    routes: [],
    dns_servers: [],
    mtu: 1450,
    name: '',
    is_default: false,
    ...overrides,
  };
}

test('the default network takes CNI_IFNAME, the others net1… in order unless config names them', () => {
  const names = podInterfaceNames(
    [item({ is_default: true }), item({}), item({ name: 'storage' }), item({})],
    'eth0',
    false,
  );
  assert.deepEqual(names, ['eth0', 'net1', 'storage', 'net2']);
  assert.deepEqual(podInterfaceNames([item({ name: 'net1' }), item({})], 'eth0', false), ['net1', 'net2']);
  assert.deepEqual(podInterfaceNames([item({})], 'net3', true), ['net3'], 'a delegate uses CNI_IFNAME');
});

test('CNI_ARGS gives the pod, whatever else it carries', () => {
  assert.deepEqual(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web;K8S_POD_UID=u-1;X=y'), {
    namespace: 'ns',
    name: 'web',
    uid: 'u-1',
  });
  assert.throws(() => parseCniArgs('K8S_POD_NAME'), /CNI_ARGS is malformed/);
});

test('host interface names are unique per container and interface and fit the kernel limit', () => {
  const names = new Set(
    ['a', 'b'].flatMap((container) => ['eth0', 'net1'].map((ifname) => hostIfnameFor(container, ifname))),
  );
  assert.equal(names.size, 4);
  for (const name of names) assert.ok(name.length <= 15);
});
