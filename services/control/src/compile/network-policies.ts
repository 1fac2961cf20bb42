// Network policies → one ordered ACL per virtual network, and the pairs of networks a pass rule
// connects. Policies apply to the networks that refer to them (network_policy_refs), in the
// order of the reference's sequence (major, then minor). A connected pair leaks routes both
// ways (Tungsten Fabric's schema transformer does the same for "pass" between two networks).
import type { AccessControlList } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { AclRule } from '@weft/proto/gen/weft/control/v1/AclRule.js';
import type { Endpoint } from '@weft/proto/gen/weft/control/v1/Endpoint.js';
import type { StoredObject } from '../config-feed/store.js';
import { ANY, expandRule, prefixOf } from './acl-rules.js';
import { type AddressVnc, policyRules, refs, routingInstanceName } from './vnc.js';

export interface NetworkPolicyInput {
  networks: readonly StoredObject[];
  policy(uuid: string): StoredObject | undefined;
  /** uuid of the network with this ":"-joined fq_name. */
  networkByFqName(fqName: string): StoredObject | undefined;
  securityGroupIdByFqName(fqName: string): number | undefined;
}

export interface NetworkPolicyOutput {
  /** ACL of each network that has at least one policy, by network uuid. */
  acls: Map<string, AccessControlList>;
  /** Networks each network exchanges routes with, by network uuid (symmetric). */
  connections: Map<string, Set<string>>;
}

export function networkAclName(network: StoredObject): string {
  return `${network.fqName.join(':')}:network-policy`;
}

function sequenceKey(attr: Record<string, unknown> | null | undefined): [number, number] {
  const sequence = (attr?.sequence ?? {}) as { major?: number; minor?: number };
  return [sequence.major ?? Number.MAX_SAFE_INTEGER, sequence.minor ?? 0];
}

export function compileNetworkPolicies(input: NetworkPolicyInput): NetworkPolicyOutput {
  const acls = new Map<string, AccessControlList>();
  const connections = new Map<string, Set<string>>();
  const connect = (a: string, b: string) => {
    if (a === b) return;
    if (!connections.has(a)) connections.set(a, new Set());
    if (!connections.has(b)) connections.set(b, new Set());
    connections.get(a)!.add(b);
    connections.get(b)!.add(a);
  };

  for (const network of input.networks) {
    const ownInstance = routingInstanceName(network.fqName);
    const attached = refs(network.body, 'network_policy_refs')
      .map((ref, index) => ({ ref, index, policy: input.policy(ref.uuid) }))
      .filter((entry) => entry.policy !== undefined)
      .sort((a, b) => {
        const [aMajor, aMinor] = sequenceKey(a.ref.attr);
        const [bMajor, bMinor] = sequenceKey(b.ref.attr);
        return aMajor - bMajor || aMinor - bMinor || a.index - b.index;
      });
    if (attached.length === 0) continue;

    const networksOf = (address: AddressVnc): string[] => {
      const name = address.virtual_network;
      if (name === undefined || name === 'any') return [];
      if (name === 'local') return [network.uuid];
      const named = input.networkByFqName(name);
      return named ? [named.uuid] : [];
    };
    const resolve = (address: AddressVnc): Endpoint[] => {
      if (address.virtual_network !== undefined && address.virtual_network !== 'any') {
        if (address.virtual_network === 'local') return [{ routing_instance: ownInstance }];
        return [{ routing_instance: routingInstanceName(address.virtual_network.split(':')) }];
      }
      const subnets = [...(address.subnet ? [address.subnet] : []), ...(address.subnet_list ?? [])];
      if (subnets.length > 0) return subnets.map((subnet) => ({ prefix: prefixOf(subnet) }));
      const group = address.security_group;
      if (group !== undefined && group !== 'any' && group !== 'local') {
        const id = input.securityGroupIdByFqName(group);
        return id === undefined ? [] : [{ security_group_id: id }];
      }
      return [ANY];
    };

    // Traffic inside one network is always allowed; the policies decide what crosses networks.
    const rules: AclRule[] = [
      {
        sequence: 0,
        protocol: 0,
        source: { routing_instance: ownInstance },
        destination: { routing_instance: ownInstance },
        source_ports: { start: 0, end: 65535 },
        destination_ports: { start: 0, end: 65535 },
        action: 'ACTION_PASS',
        bidirectional: true,
      },
    ];
    for (const { policy } of attached) {
      for (const [index, rule] of policyRules(policy!.body, 'network_policy_entries').entries()) {
        const origin = { type: 'network-policy', name: policy!.fqName.join(':'), rule: index };
        for (const expanded of expandRule(rule, resolve, resolve))
          rules.push({ sequence: rules.length, ...expanded, origin });
        if (rule.action_list?.simple_action !== 'deny') {
          for (const source of (rule.src_addresses ?? []).flatMap(networksOf))
            for (const destination of (rule.dst_addresses ?? []).flatMap(networksOf)) connect(source, destination);
        }
      }
    }
    acls.set(network.uuid, { name: networkAclName(network), rules, default_action: 'ACTION_DENY' });
  }
  return { acls, connections };
}
