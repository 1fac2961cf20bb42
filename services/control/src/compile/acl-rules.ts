// Turns VNC PolicyRuleType rules (network policies and security groups share the shape) into the
// datapath's AclRule messages: protocol names to numbers, "-1" ports to full ranges, and one
// AclRule per combination of source, destination and port ranges.
import type { PolicyRule } from '@weft/model';
import type { AclRule } from '@weft/proto/gen/weft/control/v1/AclRule.js';
import type { Action } from '@weft/proto/gen/weft/control/v1/Action.js';
import type { Endpoint } from '@weft/proto/gen/weft/control/v1/Endpoint.js';
import type { PortRange } from '@weft/proto/gen/weft/control/v1/PortRange.js';

/** One address of a rule (AddressType): a virtual network, a subnet, or a security group. */
export type AddressMatch = NonNullable<PolicyRule['src_addresses']>[number];
type PortMatch = NonNullable<PolicyRule['src_ports']>[number];
type Subnet = NonNullable<AddressMatch['subnet']>;

const PROTOCOLS: Record<string, number> = { any: 0, icmp: 1, tcp: 6, udp: 17, icmp6: 58 };

export function protocolNumber(protocol: string | undefined): number {
  if (protocol === undefined) return 0;
  return PROTOCOLS[protocol] ?? (Number.parseInt(protocol, 10) || 0);
}

function portRange(range: PortMatch): PortRange {
  const start = Math.max(range.start_port ?? -1, 0);
  const end = (range.end_port ?? -1) < 0 ? 65535 : range.end_port!;
  return { start, end };
}

const ANY_PORTS: PortRange = { start: 0, end: 65535 };

/** Resolves one address of a rule to endpoints; none when it names nothing that exists. */
export type AddressResolver = (address: AddressMatch) => Endpoint[];

/** 4 or 6 for a prefix endpoint, undefined for the others (any, a routing instance). */
function familyOf(endpoint: Endpoint): 4 | 6 | undefined {
  if (endpoint.prefix === undefined) return undefined;
  return endpoint.prefix.includes(':') ? 6 : 4;
}

export function expandRule(rule: PolicyRule, resolve: AddressResolver): Omit<AclRule, 'sequence'>[] {
  // A rule for one ethertype matches no prefix of the other; and no rule pairs an IPv4 prefix
  // with an IPv6 one, which no packet can match (and the datapath refuses).
  const family = rule.ethertype === 'IPv6' ? 6 : rule.ethertype === 'IPv4' ? 4 : undefined;
  const ofFamily = (endpoint: Endpoint) => family === undefined || (familyOf(endpoint) ?? family) === family;
  const sources = (rule.src_addresses?.length ? rule.src_addresses : [{}]).flatMap(resolve).filter(ofFamily);
  const destinations = (rule.dst_addresses?.length ? rule.dst_addresses : [{}]).flatMap(resolve).filter(ofFamily);
  const sourcePorts = rule.src_ports?.length ? rule.src_ports.map(portRange) : [ANY_PORTS];
  const destinationPorts = rule.dst_ports?.length ? rule.dst_ports.map(portRange) : [ANY_PORTS];
  const action: Action = rule.action_list?.simple_action === 'deny' ? 'ACTION_DENY' : 'ACTION_PASS';
  const out: Omit<AclRule, 'sequence'>[] = [];
  for (const source of sources)
    for (const destination of destinations) {
      const families = [familyOf(source), familyOf(destination)];
      if (families[0] && families[1] && families[0] !== families[1]) continue;
      for (const source_ports of sourcePorts)
        for (const destination_ports of destinationPorts)
          out.push({
            protocol: protocolNumber(rule.protocol),
            source,
            destination,
            source_ports,
            destination_ports,
            action,
            bidirectional: rule.direction === '<>',
          });
    }
  return out;
}

export const ANY: Endpoint = { any: true };

/** The subnets an address names (subnet and subnet_list), as prefix endpoints. */
export function subnetEndpoints(address: AddressMatch): Endpoint[] {
  const subnets: Subnet[] = [...(address.subnet ? [address.subnet] : []), ...(address.subnet_list ?? [])];
  return subnets.map((subnet) => ({ prefix: `${subnet.ip_prefix}/${subnet.ip_prefix_len}` }));
}

/** A named security group or network: not "any", not "local", not absent. */
export function named(name: string | undefined): name is string {
  return name !== undefined && name !== 'any' && name !== 'local';
}

/** The rules of a PolicyEntriesType property. */
export function rulesOf(entries: { policy_rule?: PolicyRule[] } | undefined): PolicyRule[] {
  return entries?.policy_rule ?? [];
}
