// weft_probe_v1: the probe being traced (bpf/lib/probe.h), one entry. Value: struct
// weft_probe_trace. The agent arms it with a probe's flow key before a test run and reads back
// the ACLs the flow met (with the deciding rule) and where it went; disarmed after.
import { type MapSpec, readU16Host, readU32Host, type StructLayout, u32Key, writeU32Host } from './codec.js';
import { Action, DROP_REASON_NAMES, type DropReasonName } from './constants.js';
import { decodeFlowKey, encodeFlowKey, type FlowKey, flowKeyLayout } from './flow-key.js';
import { decodeNextHop, type NextHop, nextHopLayout } from './next-hop.js';

/** consts.h WEFT_PROBE_*: ACLs noted per probe, and the rule index of "no rule matched" and "no such ACL". */
export const PROBE_MAX_ACLS = 8;
export const PROBE_DEFAULT_RULE = 0xffff;
export const PROBE_MISSING_ACL = 0xfffe;

/** enum weft_probe_result */
export const ProbeResult = { none: 0, drop: 1, local: 2, tunnel: 3 } as const;
export type ProbeResultName = keyof typeof ProbeResult;

export interface ProbeAcl {
  aclId: number;
  /** Index of the deciding rule among the ACL's datapath rules; 'default' or 'missing' otherwise. */
  rule: number | 'default' | 'missing';
  action: 'pass' | 'deny' | 'none';
}

export interface ProbeTrace {
  flow: FlowKey;
  armed: boolean;
  acls: ProbeAcl[];
  result: ProbeResultName;
  reason?: DropReasonName;
  nextHop?: NextHop;
}

export const probeAclLayout = {
  struct: 'weft_probe_acl',
  size: 8,
  offsets: { acl_id: 0, rule: 4, action: 6 },
} as const satisfies StructLayout;

export const probeTraceLayout = {
  struct: 'weft_probe_trace',
  size: 152,
  offsets: { flow: 0, armed: 44, acl_count: 48, acls: 52, result: 116, reason: 117, next_hop: 120 },
} as const satisfies StructLayout;
const o = probeTraceLayout.offsets;

const RESULT_NAMES = Object.fromEntries(Object.entries(ProbeResult).map(([name, value]) => [value, name])) as Record<
  number,
  ProbeResultName
>;
const ACTION_NAMES: Record<number, ProbeAcl['action']> = { [Action.pass]: 'pass', [Action.deny]: 'deny' };

/** An armed, empty trace for one flow. */
export function armedTrace(flow: FlowKey): Buffer {
  const buf = Buffer.alloc(probeTraceLayout.size);
  encodeFlowKey(flow, 'probe.flow').copy(buf, o.flow);
  writeU32Host(buf, 1, o.armed);
  return buf;
}

export function decodeProbeTrace(buf: Buffer): ProbeTrace {
  const acls: ProbeAcl[] = [];
  const count = Math.min(readU32Host(buf, o.acl_count), PROBE_MAX_ACLS);
  for (let index = 0; index < count; index++) {
    const at = o.acls + index * probeAclLayout.size;
    const rule = readU16Host(buf, at + probeAclLayout.offsets.rule);
    acls.push({
      aclId: readU32Host(buf, at),
      rule: rule === PROBE_DEFAULT_RULE ? 'default' : rule === PROBE_MISSING_ACL ? 'missing' : rule,
      action: ACTION_NAMES[buf[at + probeAclLayout.offsets.action] ?? 0] ?? 'none',
    });
  }
  const result = RESULT_NAMES[buf[o.result] ?? 0] ?? 'none';
  return {
    flow: decodeFlowKey(buf.subarray(o.flow, o.flow + flowKeyLayout.size)),
    armed: readU32Host(buf, o.armed) === 1,
    acls,
    result,
    ...(result === 'drop' ? { reason: DROP_REASON_NAMES[buf[o.reason] ?? 0] } : {}),
    ...(result === 'local' || result === 'tunnel'
      ? { nextHop: decodeNextHop(buf.subarray(o.next_hop, o.next_hop + nextHopLayout.size)) }
      : {}),
  };
}

export const probeMap: MapSpec<number, Buffer> = {
  name: 'weft_probe_v1',
  keySize: 4,
  valueSize: probeTraceLayout.size,
  maxEntries: 1,
  perCpu: false,
  encodeKey: (index) => u32Key(index, 'probe.index'),
  decodeKey: (buf) => readU32Host(buf, 0),
  encodeValue: (value) => value,
  decodeValue: (buf) => Buffer.from(buf),
};
