// weft_ct_v1: connection tracking, an LRU hash of flows that policy let through.
// Key: struct weft_flow_key (flow-key.ts); value: struct weft_ct_entry.
import {
  ipv4Bytes,
  ipv4String,
  type MapSpec,
  readU32Host,
  readU64Host,
  type StructLayout,
  writeU32Host,
} from './codec.js';
import { MAX_FLOWS } from './constants.js';
import { decodeFlowKey, encodeFlowKey, type FlowKey, flowKeyLayout } from './flow-key.js';

export interface ConntrackEntry {
  /** bpf_ktime_get_ns() (CLOCK_MONOTONIC) at creation and at the last packet. */
  createdNs: bigint;
  lastSeenNs: bigint;
  /** Where the flow entered the datapath. */
  ifindex: number;
  /** The floating address a translated flow uses (bpf/lib/nat.h); absent for the rest. */
  natAddress?: string;
}

export const conntrackLayout = {
  struct: 'weft_ct_entry',
  size: 24,
  offsets: { created_ns: 0, last_seen_ns: 8, ifindex: 16, nat_ip4: 20 },
} as const satisfies StructLayout;
const o = conntrackLayout.offsets;

export const conntrackMap: MapSpec<FlowKey, ConntrackEntry> = {
  name: 'weft_ct_v1',
  keySize: flowKeyLayout.size,
  valueSize: conntrackLayout.size,
  maxEntries: MAX_FLOWS,
  perCpu: false,
  encodeKey: (flow) => encodeFlowKey(flow),
  decodeKey: decodeFlowKey,
  encodeValue(entry) {
    const buf = Buffer.alloc(conntrackLayout.size);
    buf.writeBigUInt64LE(entry.createdNs, o.created_ns);
    buf.writeBigUInt64LE(entry.lastSeenNs, o.last_seen_ns);
    writeU32Host(buf, entry.ifindex, o.ifindex);
    if (entry.natAddress) ipv4Bytes(entry.natAddress, 'conntrack.natAddress').copy(buf, o.nat_ip4);
    return buf;
  },
  decodeValue: (buf) => {
    const entry: ConntrackEntry = {
      createdNs: readU64Host(buf, o.created_ns),
      lastSeenNs: readU64Host(buf, o.last_seen_ns),
      ifindex: readU32Host(buf, o.ifindex),
    };
    if (buf.readUInt32LE(o.nat_ip4) !== 0) entry.natAddress = ipv4String(buf.subarray(o.nat_ip4));
    return entry;
  },
};
