// What apply compares, and how types are named: the parts of weftctl that decide without a
// server. Everything that talks to one is tested against the real stack (test/e2e/weftctl*.ts).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@weft/kit/testing';
import type { ResourceType } from './api/config-api.js';
import { changedFields, contains, readManifests, writableFields } from './manifests.js';
import { resolveType, shortNames } from './resources.js';

const type = (name: string, plural = `${name}s`): ResourceType => ({
  name,
  collection: `/${plural}`,
  resource: `/${name}`,
});
const TYPES = [
  type('virtual-network'),
  type('virtual-machine-interface'),
  type('virtual-machine'),
  type('network-policy', 'network-policys'),
  type('network-ipam'),
  type('instance-ip'),
];

const stored = {
  uuid: 'u-1',
  fq_name: ['default-domain', 'default-project', 'red'],
  href: 'http://x/virtual-network/u-1',
  id_perms: { created: '2026-01-01T00:00:00Z' },
  network_ipam_refs: [
    {
      to: ['default-domain', 'default-project', 'default-network-ipam'],
      uuid: 'ipam-1',
      attr: { ipam_subnets: [{ subnet: { ip_prefix: '10.1.0.0', ip_prefix_len: 24 }, default_gateway: '10.1.0.1' }] },
    },
  ],
  instance_ip_back_refs: [{ to: ['ip-1'], uuid: 'ip-1' }],
  virtual_network_properties: { vxlan_network_identifier: 1, forwarding_mode: 'l2_l3' },
};

test('what a file says is found in the object even where the server filled in more', () => {
  const file = {
    fq_name: ['default-domain', 'default-project', 'red'],
    network_ipam_refs: [
      {
        to: ['default-domain', 'default-project', 'default-network-ipam'],
        attr: { ipam_subnets: [{ subnet: { ip_prefix: '10.1.0.0', ip_prefix_len: 24 } }] },
      },
    ],
  };
  assert.deepEqual(changedFields(stored, file), {});
  assert.deepEqual(changedFields(stored, { ...file, virtual_network_properties: { forwarding_mode: 'l3' } }), {
    virtual_network_properties: { forwarding_mode: 'l3' },
  });
  // A reference list given is the whole list: one more, or one fewer, is a change.
  assert.ok(!contains(stored.network_ipam_refs, [], 'network_ipam_refs'));
  assert.ok(!contains(stored.network_ipam_refs, [...file.network_ipam_refs, { to: ['x'] }], 'network_ipam_refs'));
  assert.ok(contains({ a: null }, { a: null }) && contains({}, { a: null }) && !contains({ a: 1 }, { a: null }));
});

test('what a read adds is never sent back', () => {
  assert.deepEqual(Object.keys(writableFields(stored)).sort(), [
    'fq_name',
    'network_ipam_refs',
    'virtual_network_properties',
  ]);
});

test('types by name, plural, English plural, underscores and unique initials', () => {
  assert.equal(shortNames(TYPES).get('virtual-machine-interface'), 'vmi');
  assert.equal(shortNames(TYPES).get('virtual-network'), 'vn');
  assert.equal(shortNames(TYPES).get('network-policy'), 'np');
  for (const typed of ['virtual-network', 'virtual-networks', 'virtual_network', 'vn', 'VN'])
    assert.equal(resolveType(TYPES, typed).name, 'virtual-network', typed);
  assert.equal(resolveType(TYPES, 'network-policies').name, 'network-policy');
  assert.equal(resolveType(TYPES, 'network-policys').name, 'network-policy');
  assert.throws(() => resolveType(TYPES, 'subnet'), /no resource type "subnet"/);
  // Initials two types share name neither.
  assert.equal(shortNames([...TYPES, type('virtual-node')]).has('virtual-network'), false);
});

test('files: YAML documents and JSON lists, each object by its type; a wrong one named by where it is', () => {
  const dir = tempDir('weftctl-manifests-');
  try {
    const yaml = join(dir.path, 'a.yaml');
    writeFileSync(yaml, 'vn: {fq_name: [d, p, red]}\n---\n---\nnetwork-policies: {fq_name: [d, p, rb]}\n');
    const json = join(dir.path, 'b.json');
    writeFileSync(json, JSON.stringify([{ 'instance-ip': {} }, { 'virtual-machine': { fq_name: ['pod'] } }]));
    const manifests = readManifests([yaml, json], TYPES);
    assert.deepEqual(
      manifests.map((item) => [item.type.name, item.origin.replace(dir.path, '')]),
      [
        ['virtual-network', '/a.yaml#1'],
        ['network-policy', '/a.yaml#3'],
        ['instance-ip', '/b.json#1[0]'],
        ['virtual-machine', '/b.json#1[1]'],
      ],
    );
    writeFileSync(yaml, 'vn: {a: 1}\nnp: {b: 2}\n');
    assert.throws(() => readManifests([yaml], TYPES), /a\.yaml#1: expected one object/);
    writeFileSync(yaml, 'subnet: {a: 1}\n');
    assert.throws(() => readManifests([yaml], TYPES), /a\.yaml#1: no resource type "subnet"/);
    writeFileSync(yaml, 'vn: [1, 2]\n');
    assert.throws(() => readManifests([yaml], TYPES), /"vn" must hold the object's fields/);
    writeFileSync(yaml, 'vn: {a: [}\n');
    assert.throws(() => readManifests([yaml], TYPES), /a\.yaml#1:/);
  } finally {
    dir.remove();
  }
});
