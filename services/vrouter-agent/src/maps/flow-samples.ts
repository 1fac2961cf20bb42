// weft_flows_v1: the ring buffer of sampled flow records; each record is a struct
// weft_flow_sample.

import { readU16Host, readU32Host, readU64Host, type StructLayout } from './codec.js';
import { DROP_REASON_NAMES, type DropReasonName, FlowVerdict } from './constants.js';
import { decodeFlowKey, type FlowKey } from './flow-key.js';

export const FLOW_SAMPLES_MAP = 'weft_flows_v1';

export type FlowSampleVerdict = 'local' | 'tunnel' | 'decap' | 'drop';

export interface FlowSample {
  flow: FlowKey;
  ifindex: number;
  destinationVrfId: number;
  /** Bytes of the IP packet. */
  length: number;
  verdict: FlowSampleVerdict;
  /** Why it was dropped, when verdict is drop. */
  dropReason?: DropReasonName;
  timestampNs: bigint;
}

export const flowSampleLayout = {
  struct: 'weft_flow_sample',
  size: 64,
  offsets: { flow: 0, ifindex: 44, dst_vrf: 48, length: 52, verdict: 54, reason: 55, timestamp_ns: 56 },
} as const satisfies StructLayout;
const o = flowSampleLayout.offsets;

const VERDICTS = Object.fromEntries(Object.entries(FlowVerdict).map(([name, code]) => [code, name])) as Record<
  number,
  FlowSampleVerdict
>;

export function decodeFlowSample(buf: Buffer): FlowSample {
  const verdict = VERDICTS[buf[o.verdict] ?? 0] ?? 'drop';
  const sample: FlowSample = {
    flow: decodeFlowKey(buf.subarray(o.flow, o.flow + 44)),
    ifindex: readU32Host(buf, o.ifindex),
    destinationVrfId: readU32Host(buf, o.dst_vrf),
    length: readU16Host(buf, o.length),
    verdict,
    timestampNs: readU64Host(buf, o.timestamp_ns),
  };
  if (verdict === 'drop') {
    const reason = DROP_REASON_NAMES[buf[o.reason] ?? 0];
    if (reason) sample.dropReason = reason;
  }
  return sample;
}
