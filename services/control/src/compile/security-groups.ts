// Security groups → one ACL per interface, holding the ingress and egress rules of every group
// the interface is in. "local" in a rule means this interface, so it compiles to the
// interface's own addresses (/32, /128); that is what makes an egress rule (local → X) differ
// from an ingress rule (X → local) in a list the datapath evaluates for either direction.
// A rule that names a security group matches its members: the addresses of every interface in
// the group, sent as prefixes (merged where they are adjacent), which the datapath's ACL rules
// take as they are. Security groups allow; what no rule allows is denied.
import type { AccessControlList } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { AclRule } from '@weft/proto/gen/weft/control/v1/AclRule.js';
import type { Endpoint } from '@weft/proto/gen/weft/control/v1/Endpoint.js';
import { mergeCidr } from 'cidr-tools';
import type { StoredObject } from '../config-feed/store.js';
import { type AddressMatch, ANY, expandRule, named, rulesOf, subnetEndpoints } from './acl-rules.js';
import { fqString, routingInstanceName } from './vnc.js';

/** What rules may name besides the interface itself, as the graph knows it now. */
export interface NameLookup {
  /** Member prefixes of the security group with this fq_name string; undefined when there is none. */
  groupMembers(fqName: string): readonly string[] | undefined;
  networkExists(fqName: string): boolean;
}

/** "10.1.0.3/24" or "10.1.0.3" → "10.1.0.3/32" (and /128 for IPv6). */
export function hostPrefix(address: string): string {
  const bare = address.split('/')[0]!;
  return bare.includes(':') ? `${bare}/128` : `${bare}/32`;
}

/** The members' addresses as the fewest prefixes that hold exactly them, IPv4 first, sorted. */
export function memberPrefixes(addresses: Iterable<string>): string[] {
  const hosts = [...new Set([...addresses].map(hostPrefix))];
  if (hosts.length === 0) return [];
  return (mergeCidr(hosts) as string[]).map((prefix) => (prefix.includes('/') ? prefix : hostPrefix(prefix)));
}

/** Endpoints of a rule address in a security-group or network-policy rule that names a group. */
export function groupEndpoints(name: string, lookup: NameLookup): Endpoint[] {
  return (lookup.groupMembers(name) ?? []).map((prefix) => ({ prefix }));
}

export function compileSecurityGroupAcl(
  name: string,
  groups: readonly StoredObject<'security-group'>[],
  ownAddresses: readonly string[],
  lookup: NameLookup,
): AccessControlList {
  const own: Endpoint[] = ownAddresses.map((cidr) => ({ prefix: hostPrefix(cidr) }));
  const resolve = (address: AddressMatch): Endpoint[] => {
    if (address.security_group === 'local') return own;
    if (named(address.security_group)) return groupEndpoints(address.security_group, lookup);
    const subnets = subnetEndpoints(address);
    if (subnets.length > 0) return subnets;
    if (named(address.virtual_network)) {
      return lookup.networkExists(address.virtual_network)
        ? [{ routing_instance: routingInstanceName(address.virtual_network.split(':')) }]
        : [];
    }
    return [ANY];
  };
  const rules: AclRule[] = [];
  for (const group of groups) {
    for (const [index, rule] of rulesOf(group.body.security_group_entries).entries()) {
      const origin = { type: 'security-group', name: fqString(group.fqName), rule: index };
      for (const expanded of expandRule(rule, resolve)) rules.push({ sequence: rules.length, ...expanded, origin });
    }
  }
  return { name, rules, default_action: 'ACTION_DENY' };
}

/** The fq_name strings of the networks and groups a list of rules names, for the graph's indexes. */
export function namesInRules(entries: Parameters<typeof rulesOf>[0]): { networks: Set<string>; groups: Set<string> } {
  const networks = new Set<string>();
  const groups = new Set<string>();
  for (const rule of rulesOf(entries)) {
    for (const address of [...(rule.src_addresses ?? []), ...(rule.dst_addresses ?? [])]) {
      if (named(address.virtual_network)) networks.add(address.virtual_network);
      if (named(address.security_group)) groups.add(address.security_group);
    }
  }
  return { networks, groups };
}
