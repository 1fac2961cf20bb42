// Turns VNC PolicyRuleType rules (network policies and security groups share the shape) into the
// datapath's AclRule messages: protocol names to numbers, "-1" ports to full ranges, and one
// AclRule per combination of source, destination and port ranges.
import type { AclRule } from '@weft/proto/gen/weft/control/v1/AclRule.js';
import type { Action } from '@weft/proto/gen/weft/control/v1/Action.js';
import type { Endpoint } from '@weft/proto/gen/weft/control/v1/Endpoint.js';
import type { PortRange } from '@weft/proto/gen/weft/control/v1/PortRange.js';
import type { AddressVnc, PolicyRuleVnc, PortRangeVnc } from './vnc.js';

const PROTOCOLS: Record<string, number> = { any: 0, icmp: 1, tcp: 6, udp: 17, icmp6: 58 };

export function protocolNumber(protocol: string | undefined): number {
  if (protocol === undefined) return 0;
  return PROTOCOLS[protocol] ?? (Number.parseInt(protocol, 10) || 0);
}

function portRange(range: PortRangeVnc): PortRange {
  const start = Math.max(range.start_port, 0);
  const end = range.end_port < 0 ? 65535 : range.end_port;
  return { start, end };
}

const ANY_PORTS: PortRange = { start: 0, end: 65535 };

/** Resolves one address of a rule to endpoints; none when it names something that does not exist. */
export type AddressResolver = (address: AddressVnc) => Endpoint[];

export function expandRule(
  rule: PolicyRuleVnc,
  resolveSource: AddressResolver,
  resolveDestination: AddressResolver,
): Omit<AclRule, 'sequence'>[] {
  const sources = (rule.src_addresses?.length ? rule.src_addresses : [{}]).flatMap(resolveSource);
  const destinations = (rule.dst_addresses?.length ? rule.dst_addresses : [{}]).flatMap(resolveDestination);
  const sourcePorts = rule.src_ports?.length ? rule.src_ports.map(portRange) : [ANY_PORTS];
  const destinationPorts = rule.dst_ports?.length ? rule.dst_ports.map(portRange) : [ANY_PORTS];
  const action: Action = rule.action_list?.simple_action === 'deny' ? 'ACTION_DENY' : 'ACTION_PASS';
  const out: Omit<AclRule, 'sequence'>[] = [];
  for (const source of sources)
    for (const destination of destinations)
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
  return out;
}

export const ANY: Endpoint = { any: true };

export function prefixOf(subnet: { ip_prefix: string; ip_prefix_len: number }): string {
  return `${subnet.ip_prefix}/${subnet.ip_prefix_len}`;
}
