// weft_acl_v1: ACLs by id — network policies (per VRF) and security groups (per interface).
// Value: struct weft_acl holding up to MAX_ACL_RULES struct weft_acl_rule, walked in order.
import { errors } from '../errors.js';
import {
  checkRange,
  checkU32,
  flowAddressString,
  type MapSpec,
  mappedIpv4,
  maskOf,
  parsePrefix,
  readU16Host,
  readU32Host,
  type StructLayout,
  u32Key,
  writeU16Host,
  writeU32Host,
} from './codec.js';
import { Action, MAX_ACL_RULES, MAX_ACLS } from './constants.js';

export type AclAction = 'pass' | 'deny';

/** One side of a rule: a prefix (CIDR), a routing instance (VRF id), both, or neither (any). */
export interface AclEndpoint {
  prefix?: string;
  vrfId?: number;
}

export interface AclRule {
  /** IP protocol number; 0 or absent for any. */
  protocol?: number;
  source?: AclEndpoint;
  destination?: AclEndpoint;
  /** Inclusive port ranges, TCP and UDP only; absent for any. */
  sourcePorts?: [number, number];
  destinationPorts?: [number, number];
  action: AclAction;
}

export interface AclEntry {
  rules: AclRule[];
  defaultAction: AclAction;
}

export const aclRuleLayout = {
  struct: 'weft_acl_rule',
  size: 84,
  offsets: {
    src_addr: 0,
    src_mask: 16,
    dst_addr: 32,
    dst_mask: 48,
    src_vrf: 64,
    dst_vrf: 68,
    sport_lo: 72,
    sport_hi: 74,
    dport_lo: 76,
    dport_hi: 78,
    proto: 80,
    family: 81,
    action: 82,
  },
} as const satisfies StructLayout;

export const aclLayout = {
  struct: 'weft_acl',
  size: 8 + MAX_ACL_RULES * aclRuleLayout.size,
  offsets: { count: 0, default_action: 4, rules: 8 },
} as const satisfies StructLayout;

const r = aclRuleLayout.offsets;

function actionCode(action: AclAction, field: string): number {
  if (action === 'pass') return Action.pass;
  if (action === 'deny') return Action.deny;
  throw errors.INVALID_FIELD({ field, reason: `must be "pass" or "deny", got "${action}"` });
}

function actionName(code: number): AclAction {
  return code === Action.pass ? 'pass' : 'deny';
}

/** Writes one endpoint; returns its address family (0 when it names none). */
function encodeEndpoint(buf: Buffer, endpoint: AclEndpoint | undefined, side: 'src' | 'dst', field: string): number {
  if (!endpoint) return 0;
  if (endpoint.vrfId !== undefined) {
    checkU32(endpoint.vrfId, `${field}.vrfId`);
    writeU32Host(buf, endpoint.vrfId, side === 'src' ? r.src_vrf : r.dst_vrf);
  }
  if (endpoint.prefix === undefined) return 0;
  const prefix = parsePrefix(endpoint.prefix, `${field}.prefix`);
  const address = prefix.family === 4 ? mappedIpv4(prefix.address) : prefix.address;
  const mask = maskOf(prefix.family === 4 ? 96 + prefix.length : prefix.length, 16);
  address.copy(buf, side === 'src' ? r.src_addr : r.dst_addr);
  mask.copy(buf, side === 'src' ? r.src_mask : r.dst_mask);
  return prefix.family;
}

function encodePorts(buf: Buffer, ports: [number, number] | undefined, lo: number, hi: number, field: string): void {
  const [start, end] = ports ?? [0, 65535];
  checkRange(start, `${field}[0]`, 0, 65535);
  checkRange(end, `${field}[1]`, start, 65535);
  writeU16Host(buf, start, lo);
  writeU16Host(buf, end, hi);
}

export function encodeAclRule(rule: AclRule, field: string): Buffer {
  const buf = Buffer.alloc(aclRuleLayout.size);
  const srcFamily = encodeEndpoint(buf, rule.source, 'src', `${field}.source`);
  const dstFamily = encodeEndpoint(buf, rule.destination, 'dst', `${field}.destination`);
  if (srcFamily && dstFamily && srcFamily !== dstFamily) {
    throw errors.INVALID_FIELD({ field, reason: 'source and destination prefixes are of different address families' });
  }
  encodePorts(buf, rule.sourcePorts, r.sport_lo, r.sport_hi, `${field}.sourcePorts`);
  encodePorts(buf, rule.destinationPorts, r.dport_lo, r.dport_hi, `${field}.destinationPorts`);
  checkRange(rule.protocol ?? 0, `${field}.protocol`, 0, 255);
  buf[r.proto] = rule.protocol ?? 0;
  // A rule that names an IPv4 prefix must not match IPv6 traffic whose address merely falls in
  // the same masked bits, so the family narrows it.
  buf[r.family] = srcFamily || dstFamily;
  buf[r.action] = actionCode(rule.action, `${field}.action`);
  return buf;
}

function decodeEndpoint(buf: Buffer, side: 'src' | 'dst', family: number): AclEndpoint | undefined {
  const endpoint: AclEndpoint = {};
  const vrfId = readU32Host(buf, side === 'src' ? r.src_vrf : r.dst_vrf);
  if (vrfId) endpoint.vrfId = vrfId;
  const maskAt = side === 'src' ? r.src_mask : r.dst_mask;
  const mask = buf.subarray(maskAt, maskAt + 16);
  let bits = 0;
  for (const byte of mask) bits += byte.toString(2).replace(/0/g, '').length;
  // An IPv4 prefix always has the 96 bits of the mapped form; no bits means no prefix (any).
  if (bits > 0) {
    const addrAt = side === 'src' ? r.src_addr : r.dst_addr;
    const address = flowAddressString(buf.subarray(addrAt, addrAt + 16), family);
    endpoint.prefix = `${address}/${family === 4 ? bits - 96 : bits}`;
  }
  return Object.keys(endpoint).length > 0 ? endpoint : undefined;
}

export function decodeAclRule(buf: Buffer): AclRule {
  const family = buf[r.family] ?? 0;
  const rule: AclRule = { action: actionName(buf[r.action] ?? 0) };
  if (buf[r.proto]) rule.protocol = buf[r.proto];
  const source = decodeEndpoint(buf, 'src', family);
  const destination = decodeEndpoint(buf, 'dst', family);
  if (source) rule.source = source;
  if (destination) rule.destination = destination;
  const sport: [number, number] = [readU16Host(buf, r.sport_lo), readU16Host(buf, r.sport_hi)];
  const dport: [number, number] = [readU16Host(buf, r.dport_lo), readU16Host(buf, r.dport_hi)];
  if (sport[0] !== 0 || sport[1] !== 65535) rule.sourcePorts = sport;
  if (dport[0] !== 0 || dport[1] !== 65535) rule.destinationPorts = dport;
  return rule;
}

export const aclMap: MapSpec<number, AclEntry> = {
  name: 'weft_acl_v1',
  keySize: 4,
  valueSize: aclLayout.size,
  maxEntries: MAX_ACLS,
  perCpu: false,
  encodeKey(aclId) {
    checkRange(aclId, 'acl.id', 1, 0xffffffff);
    return u32Key(aclId, 'acl.id');
  },
  decodeKey: (buf) => readU32Host(buf, 0),
  encodeValue(acl) {
    if (acl.rules.length > MAX_ACL_RULES) {
      throw errors.INVALID_FIELD({
        field: 'acl.rules',
        reason: `the datapath holds at most ${MAX_ACL_RULES} rules per ACL, got ${acl.rules.length}`,
      });
    }
    const buf = Buffer.alloc(aclLayout.size);
    writeU32Host(buf, acl.rules.length, aclLayout.offsets.count);
    buf[aclLayout.offsets.default_action] = actionCode(acl.defaultAction, 'acl.defaultAction');
    acl.rules.forEach((rule, i) => {
      encodeAclRule(rule, `acl.rules[${i}]`).copy(buf, aclLayout.offsets.rules + i * aclRuleLayout.size);
    });
    return buf;
  },
  decodeValue(buf) {
    const count = Math.min(readU32Host(buf, aclLayout.offsets.count), MAX_ACL_RULES);
    const rules: AclRule[] = [];
    for (let i = 0; i < count; i++) {
      const at = aclLayout.offsets.rules + i * aclRuleLayout.size;
      rules.push(decodeAclRule(buf.subarray(at, at + aclRuleLayout.size)));
    }
    return { rules, defaultAction: actionName(buf[aclLayout.offsets.default_action] ?? 0) };
  },
};
