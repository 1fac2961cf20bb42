// The derived TypeScript types follow the model: these assignments compile only while they do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstanceIp, VirtualNetwork } from './index.js';

test('derived types carry the fields, references and attrs of the model', () => {
  const network: VirtualNetwork = {
    uuid: 'u',
    fq_name: ['d', 'p', 'n'],
    name: 'n',
    virtual_network_properties: { vxlan_network_identifier: 5, forwarding_mode: 'l2_l3' },
    network_ipam_refs: [
      {
        to: ['d', 'p', 'i'],
        uuid: 'i',
        attr: { ipam_subnets: [{ subnet: { ip_prefix: '10.0.0.0', ip_prefix_len: 24 } }] },
      },
    ],
    network_policy_refs: [{ to: ['d', 'p', 'pol'], uuid: 'pol', attr: { sequence: { major: 0, minor: 0 } } }],
  };
  // @ts-expect-error forwarding_mode is one of l2_l3, l2, l3
  const wrongMode: VirtualNetwork = { ...network, virtual_network_properties: { forwarding_mode: 'l4' } };
  // @ts-expect-error an instance-ip has no network_ipam_refs
  const wrongRef: InstanceIp = { uuid: 'u', fq_name: ['x'], name: 'x', network_ipam_refs: [] };
  const address: InstanceIp = { uuid: 'u', fq_name: ['x'], name: 'x', instance_ip_family: 'v6' };
  assert.equal(network.network_ipam_refs?.[0]?.attr?.ipam_subnets?.[0]?.subnet?.ip_prefix_len, 24);
  assert.ok(wrongMode && wrongRef && address);
});
