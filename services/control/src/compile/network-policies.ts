// Network policies → one ordered ACL per virtual network, and the pairs of networks a pass rule
// connects. Policies apply to the networks that refer to them (network_policy_refs), in the
// order of the reference's sequence (major, then minor). A connected pair leaks routes both
// ways (Tungsten Fabric's schema transformer does the same for "pass" between two networks).
// Networks that share a logical router route to each other without a policy; when a network
// has policies, its ACL passes the traffic of those peers after the policies' own rules.
import type { AccessControlList } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { AclRule } from '@weft/proto/gen/weft/control/v1/AclRule.js';
import type { Endpoint } from '@weft/proto/gen/weft/control/v1/Endpoint.js';
import type { StoredObject } from '../config-feed/store.js';
import { type AddressMatch, ANY, expandRule, named, rulesOf, subnetEndpoints } from './acl-rules.js';
import { groupEndpoints, type NameLookup } from './security-groups.js';
import { fqString, routingInstanceName } from './vnc.js';

export interface NetworkAclLookup extends NameLookup {
  policy(uuid: string): StoredObject<'network-policy'> | undefined;
  /** uuid of the network with this fq_name string. */
  networkByFqName(fqName: string): string | undefined;
  /** Routing instances of the networks this one shares a logical router with, sorted. */
  routerPeers(networkUuid: string): readonly string[];
}

export interface CompiledNetworkAcl {
  acl: AccessControlList;
  /** The network pairs its pass rules connect, each as pairKey(a, b). */
  connections: Set<string>;
}

export function networkAclName(network: StoredObject<'virtual-network'>): string {
  return `${fqString(network.fqName)}:network-policy`;
}

/** One key per unordered pair of networks. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

const ALL_PORTS = { start: 0, end: 65535 };

function passBetween(sequence: number, from: string, to: string): AclRule {
  return {
    sequence,
    protocol: 0,
    source: { routing_instance: from },
    destination: { routing_instance: to },
    source_ports: ALL_PORTS,
    destination_ports: ALL_PORTS,
    action: 'ACTION_PASS',
    bidirectional: true,
  };
}

/** The uuids of the policies a network applies, in sequence order. */
export function attachedPolicies(network: StoredObject<'virtual-network'>): string[] {
  const refs = (network.body.network_policy_refs ?? []).filter((ref) => typeof ref?.uuid === 'string');
  const key = (index: number): [number, number] => {
    const sequence = refs[index]!.attr?.sequence;
    return [sequence?.major ?? Number.MAX_SAFE_INTEGER, sequence?.minor ?? 0];
  };
  return refs
    .map((_, index) => index)
    .sort((a, b) => {
      const [aMajor, aMinor] = key(a);
      const [bMajor, bMinor] = key(b);
      return aMajor - bMajor || aMinor - bMinor || a - b;
    })
    .map((index) => refs[index]!.uuid);
}

/** The network's ACL and the pairs it connects; undefined when no policy it names exists. */
export function compileNetworkAcl(
  network: StoredObject<'virtual-network'>,
  lookup: NetworkAclLookup,
): CompiledNetworkAcl | undefined {
  const policies = attachedPolicies(network)
    .map((uuid) => lookup.policy(uuid))
    .filter((policy) => policy !== undefined);
  if (policies.length === 0) return undefined;
  const ownInstance = routingInstanceName(network.fqName);
  const connections = new Set<string>();

  const networksOf = (address: AddressMatch): string[] => {
    const name = address.virtual_network;
    if (name === undefined || name === 'any') return [];
    if (name === 'local') return [network.uuid];
    const named = lookup.networkByFqName(name);
    return named ? [named] : [];
  };
  const resolve = (address: AddressMatch): Endpoint[] => {
    if (address.virtual_network !== undefined && address.virtual_network !== 'any') {
      if (address.virtual_network === 'local') return [{ routing_instance: ownInstance }];
      return [{ routing_instance: routingInstanceName(address.virtual_network.split(':')) }];
    }
    const subnets = subnetEndpoints(address);
    if (subnets.length > 0) return subnets;
    if (named(address.security_group)) return groupEndpoints(address.security_group, lookup);
    return [ANY];
  };

  // Traffic inside one network is always allowed; the policies decide what crosses networks.
  const rules: AclRule[] = [passBetween(0, ownInstance, ownInstance)];
  for (const policy of policies) {
    for (const [index, rule] of rulesOf(policy.body.network_policy_entries).entries()) {
      // Which policy and rule a datapath rule came from: probes and drop reports name it.
      const origin = { type: 'network-policy', name: fqString(policy.fqName), rule: index };
      for (const expanded of expandRule(rule, resolve)) rules.push({ sequence: rules.length, ...expanded, origin });
      if (rule.action_list?.simple_action === 'deny') continue;
      for (const source of (rule.src_addresses ?? []).flatMap(networksOf)) {
        for (const destination of (rule.dst_addresses ?? []).flatMap(networksOf)) {
          if (source !== destination) connections.add(pairKey(source, destination));
        }
      }
    }
  }
  for (const peer of lookup.routerPeers(network.uuid)) rules.push(passBetween(rules.length, ownInstance, peer));
  return { acl: { name: networkAclName(network), rules, default_action: 'ACTION_DENY' }, connections };
}
