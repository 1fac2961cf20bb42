import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoint } from '@weft/proto/gen/weft/control/v1/Endpoint.js';
import { type AddressMatch, expandRule } from './acl-rules.js';

const resolve = (address: AddressMatch): Endpoint[] =>
  address.security_group === 'local'
    ? [{ prefix: '10.1.0.5/32' }, { prefix: 'fd00::5/128' }]
    : address.subnet
      ? [{ prefix: `${address.subnet.ip_prefix}/${address.subnet.ip_prefix_len}` }]
      : [{ any: true }];

test('a rule pairs no IPv4 prefix with an IPv6 one, and its ethertype keeps the other family out', () => {
  const egress = (ethertype: 'IPv4' | 'IPv6' | undefined, prefix: string) =>
    expandRule(
      {
        direction: '>',
        ...(ethertype ? { ethertype } : {}),
        src_addresses: [{ security_group: 'local' }],
        dst_addresses: [{ subnet: { ip_prefix: prefix, ip_prefix_len: 0 } }],
      },
      resolve,
    ).map((rule) => [rule.source?.prefix, rule.destination?.prefix]);
  assert.deepEqual(egress('IPv6', '::'), [['fd00::5/128', '::/0']]);
  assert.deepEqual(egress('IPv4', '0.0.0.0'), [['10.1.0.5/32', '0.0.0.0/0']]);
  assert.deepEqual(egress(undefined, '0.0.0.0'), [['10.1.0.5/32', '0.0.0.0/0']]);
  const anywhere = expandRule({ ethertype: 'IPv6', src_addresses: [{ security_group: 'local' }] }, resolve);
  assert.deepEqual(
    anywhere.map((rule) => [rule.source?.prefix, rule.destination?.any]),
    [['fd00::5/128', true]],
  );
});
