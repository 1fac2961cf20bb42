// From what control sends (control.v1 messages) to what the datapath maps hold: ACLs to rule
// lists, routes to next hops. Pure functions; each failure names the field it comes from.
import { isIPv4 } from 'node:net';
import type { AccessControlList__Output } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { AclRule__Output } from '@weft/proto/gen/weft/control/v1/AclRule.js';
import type { Endpoint__Output } from '@weft/proto/gen/weft/control/v1/Endpoint.js';
import type { NextHop__Output } from '@weft/proto/gen/weft/control/v1/NextHop.js';
import { errors } from '../errors.js';
import type { AclAction, AclEndpoint, AclEntry, AclRule } from '../maps/acls.js';
import type { NextHop } from '../maps/next-hop.js';

/** What compiling needs to know about the host and the other objects. */
export interface CompileContext {
  /** VRF id of a routing instance by name, when the host has it. */
  vrfOf(routingInstance: string): number | undefined;
  /** VRF id of the routing instance with a VNI, when the host has it. */
  vrfOfVni(vni: number): number | undefined;
  /** A bound interface: ifindex of its host end, its MAC and its VRF. */
  localInterface(uuid: string): { ifindex: number; mac: string; vrfId: number } | undefined;
  underlayIfindex: number;
  /** MAC of the underlay next hop towards a remote host, once the neighbour is known. */
  underlayMacOf(address: string): string | undefined;
}

function action(value: string, field: string): AclAction {
  if (value === 'ACTION_PASS') return 'pass';
  if (value === 'ACTION_DENY') return 'deny';
  throw errors.INVALID_FIELD({ field, reason: `must be ACTION_PASS or ACTION_DENY, got ${value}` });
}

function endpoint(ep: Endpoint__Output | null, field: string, ctx: CompileContext): AclEndpoint | undefined {
  if (!ep?.match || ep.match === 'any') return undefined;
  if (ep.match === 'prefix') return { prefix: ep.prefix ?? '' };
  if (ep.match === 'routing_instance') {
    const vrfId = ctx.vrfOf(ep.routing_instance ?? '');
    if (vrfId === undefined) {
      throw errors.INVALID_FIELD({
        field,
        reason: `routing instance "${ep.routing_instance}" is not known on this host`,
      });
    }
    return { vrfId };
  }
  throw errors.INVALID_FIELD({
    field,
    reason: 'security-group endpoints are not matched by the datapath; control must send the group members as prefixes',
  });
}

function rule(r: AclRule__Output, field: string, ctx: CompileContext): AclRule[] {
  const compiled: AclRule = { action: action(r.action, `${field}.action`) };
  if (r.protocol) compiled.protocol = r.protocol;
  const source = endpoint(r.source, `${field}.source`, ctx);
  const destination = endpoint(r.destination, `${field}.destination`, ctx);
  if (source) compiled.source = source;
  if (destination) compiled.destination = destination;
  if (r.source_ports && (r.source_ports.start || r.source_ports.end)) {
    compiled.sourcePorts = [r.source_ports.start, r.source_ports.end];
  }
  if (r.destination_ports && (r.destination_ports.start || r.destination_ports.end)) {
    compiled.destinationPorts = [r.destination_ports.start, r.destination_ports.end];
  }
  if (!r.bidirectional) return [compiled];
  const reverse: AclRule = { ...compiled, source: compiled.destination, destination: compiled.source };
  reverse.sourcePorts = compiled.destinationPorts;
  reverse.destinationPorts = compiled.sourcePorts;
  for (const key of ['source', 'destination', 'sourcePorts', 'destinationPorts'] as const) {
    if (reverse[key] === undefined) delete reverse[key];
  }
  return [compiled, reverse];
}

/** The rules of an ACL in the order the datapath holds them (by sequence), with their index as sent. */
function orderedRules(acl: AccessControlList__Output): { r: AclRule__Output; i: number }[] {
  return [...acl.rules].map((r, i) => ({ r, i })).sort((x, y) => x.r.sequence - y.r.sequence || x.i - y.i);
}

/** For each rule the datapath holds of an ACL, the index of the rule control sent (a probe names it). */
export function datapathRuleOrigins(acl: AccessControlList__Output): number[] {
  return orderedRules(acl).flatMap(({ r, i }) => (r.bidirectional ? [i, i] : [i]));
}

/** An ACL as the datapath holds it: rules in sequence order, bidirectional ones doubled. */
export function compileAcl(acl: AccessControlList__Output, ctx: CompileContext): AclEntry {
  const field = `acl "${acl.name}"`;
  const rules = orderedRules(acl).flatMap(({ r, i }) => rule(r, `${field}.rules[${i}]`, ctx));
  const defaultAction = acl.default_action === 'ACTION_PASS' ? 'pass' : 'deny';
  return { rules, defaultAction };
}

/**
 * The next hop of a route, or undefined while it cannot be programmed yet (the interface is not
 * attached on this host, the underlay neighbour is not resolved): a later reconcile picks it up.
 */
export function compileNextHop(
  nh: NextHop__Output | null,
  vrfId: number,
  field: string,
  ctx: CompileContext,
): NextHop | undefined {
  if (!nh?.kind) throw errors.INVALID_FIELD({ field, reason: 'a route needs a next hop' });
  if (nh.kind === 'interface_uuid') {
    const local = ctx.localInterface(nh.interface_uuid ?? '');
    return local && { kind: 'local', ifindex: local.ifindex, vrfId: local.vrfId, mac: local.mac };
  }
  if (nh.kind === 'underlay_gateway') {
    const gateway = nh.underlay_gateway ?? '';
    if (!isIPv4(gateway))
      throw errors.INVALID_FIELD({ field: `${field}.underlay_gateway`, reason: 'must be an IPv4 address' });
    return { kind: 'outside', vrfId, gateway };
  }
  const tunnel = nh.tunnel;
  if (!tunnel) throw errors.INVALID_FIELD({ field: `${field}.tunnel`, reason: 'is empty' });
  const remoteMac = ctx.underlayMacOf(tunnel.underlay_address);
  if (!remoteMac) return undefined;
  return {
    kind: 'tunnel',
    ifindex: ctx.underlayIfindex,
    vrfId: ctx.vrfOfVni(tunnel.vni) ?? vrfId,
    vni: tunnel.vni,
    remoteAddress: tunnel.underlay_address,
    mac: tunnel.mac,
    remoteMac,
  };
}
