// Address parsing and canonical forms: what a stored address looks like decides whether two
// spellings of one address are seen as one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contains, formatAddress, overlaps, parseAddress, prefixOf } from './address.js';
import { normalizeSubnets } from './subnets.js';

test('parses IPv4 and IPv6 strictly and prints one canonical form', () => {
  assert.equal(formatAddress(parseAddress('10.0.0.1')!), '10.0.0.1');
  assert.equal(formatAddress(parseAddress('FD00:0:0::01')!), 'fd00::1');
  for (const bad of ['10.0.0', '10.0.0.256', '010.0.0.1', '0x0a.0.0.1', 'fe80::1%eth0', '', 'fd00::g', '1.2.3.4/32']) {
    assert.equal(parseAddress(bad), undefined, bad);
  }
});

test('prefixes contain and overlap as integers', () => {
  const a = prefixOf(4, parseAddress('10.0.0.0')!.value, 24);
  const b = prefixOf(4, parseAddress('10.0.0.128')!.value, 25);
  const c = prefixOf(4, parseAddress('10.0.1.0')!.value, 24);
  assert.ok(overlaps(a, b) && !overlaps(a, c));
  assert.ok(contains(a, parseAddress('10.0.0.255')!) && !contains(a, parseAddress('10.0.1.0')!));
  const v6 = prefixOf(6, parseAddress('fd00::')!.value, 64);
  assert.ok(!overlaps(a, v6));
  assert.equal(formatAddress({ family: 6, value: v6.last }), 'fd00::ffff:ffff:ffff:ffff');
});

test('subnets get their server-assigned fields and reject what is not a subnet', () => {
  const refs = [{ attr: { ipam_subnets: [{ subnet: { ip_prefix: 'fd00:1::', ip_prefix_len: 120 } }] } }];
  const [subnet] = normalizeSubnets(refs);
  const written = refs[0]!.attr.ipam_subnets[0]! as Record<string, unknown>;
  assert.equal(written.default_gateway, 'fd00:1::1');
  assert.equal(written.dns_server_address, 'fd00:1::fe');
  assert.match(String(written.subnet_uuid), /^[0-9a-f-]{36}$/);
  assert.equal(subnet?.pools[0]?.start, subnet!.prefix.network + 1n);
  const bad = (ipamSubnet: Record<string, unknown>, field: RegExp) =>
    assert.throws(
      () => normalizeSubnets([{ attr: { ipam_subnets: [ipamSubnet] } }]),
      (error: { details: { field: string } }) => field.test(error.details.field),
    );
  bad({ subnet: { ip_prefix: '10.0.0.0', ip_prefix_len: 31 } }, /ip_prefix_len$/);
  bad({ subnet: { ip_prefix: '10.0.0.0', ip_prefix_len: 24 }, default_gateway: '10.0.1.1' }, /default_gateway$/);
  bad({ subnet: { ip_prefix: '10.0.0.0', ip_prefix_len: 24 }, dns_server_address: 'fd00::1' }, /dns_server_address$/);
  bad(
    {
      subnet: { ip_prefix: '10.0.0.0', ip_prefix_len: 24 },
      allocation_pools: [{ start: '10.0.0.9', end: '10.0.0.3' }],
    },
    /allocation_pools\[0\]$/,
  );
});
