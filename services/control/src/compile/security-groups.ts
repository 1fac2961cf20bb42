// Security groups → one ACL per interface, holding the ingress and egress rules of every group
// the interface is in. "local" in a rule means this interface, so it compiles to the
// interface's own addresses (/32, /128); that is what makes an egress rule (local → X) differ
// from an ingress rule (X → local) in a list the datapath evaluates for either direction.
// Security groups allow; what no rule allows is denied.
import type { AccessControlList } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { AclRule } from '@weft/proto/gen/weft/control/v1/AclRule.js';
import type { Endpoint } from '@weft/proto/gen/weft/control/v1/Endpoint.js';
import type { StoredObject } from '../config-feed/store.js';
import { ANY, expandRule, prefixOf } from './acl-rules.js';
import { type AddressVnc, policyRules, routingInstanceName } from './vnc.js';

export interface SecurityGroupAclInput {
  name: string;
  groups: readonly StoredObject[];
  /** The interface's addresses in CIDR form. */
  ownAddresses: readonly string[];
  networkByFqName(fqName: string): StoredObject | undefined;
  securityGroupIdByFqName(fqName: string): number | undefined;
}

function hostPrefix(cidr: string): string {
  const address = cidr.split('/')[0]!;
  return address.includes(':') ? `${address}/128` : `${address}/32`;
}

export function compileSecurityGroupAcl(input: SecurityGroupAclInput): AccessControlList {
  const own: Endpoint[] = input.ownAddresses.map((cidr) => ({ prefix: hostPrefix(cidr) }));
  const resolve = (address: AddressVnc): Endpoint[] => {
    if (address.security_group === 'local') return own;
    if (address.security_group !== undefined && address.security_group !== 'any') {
      const id = input.securityGroupIdByFqName(address.security_group);
      return id === undefined ? [] : [{ security_group_id: id }];
    }
    const subnets = [...(address.subnet ? [address.subnet] : []), ...(address.subnet_list ?? [])];
    if (subnets.length > 0) return subnets.map((subnet) => ({ prefix: prefixOf(subnet) }));
    if (address.virtual_network !== undefined && address.virtual_network !== 'any') {
      return input.networkByFqName(address.virtual_network)
        ? [{ routing_instance: routingInstanceName(address.virtual_network.split(':')) }]
        : [];
    }
    return [ANY];
  };
  const rules: AclRule[] = [];
  for (const group of input.groups) {
    for (const [index, rule] of policyRules(group.body, 'security_group_entries').entries()) {
      const origin = { type: 'security-group', name: group.fqName.join(':'), rule: index };
      for (const expanded of expandRule(rule, resolve, resolve))
        rules.push({ sequence: rules.length, ...expanded, origin });
    }
  }
  return { name: input.name, rules, default_action: 'ACTION_DENY' };
}
