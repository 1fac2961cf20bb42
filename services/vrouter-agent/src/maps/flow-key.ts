// struct weft_flow_key: a connection as conntrack and flow samples see it. IPv4 addresses are
// stored IPv4-mapped; ports in network order; ICMP echo carries its identifier in both ports.

import { isIPv4 } from 'node:net';
import { errors } from '../errors.js';
import {
  checkRange,
  checkU32,
  flowAddressString,
  ipv4Bytes,
  ipv6Bytes,
  mappedIpv4,
  readU32Host,
  type StructLayout,
  writeU32Host,
} from './codec.js';

export interface FlowKey {
  source: string;
  destination: string;
  sourcePort: number;
  destinationPort: number;
  protocol: number;
  /** The conntrack zone: the routing instance the flow was seen in. */
  vrfId: number;
}

export const flowKeyLayout = {
  struct: 'weft_flow_key',
  size: 44,
  offsets: { saddr: 0, daddr: 16, sport: 32, dport: 34, vrf_id: 36, proto: 40, family: 41 },
} as const satisfies StructLayout;
const o = flowKeyLayout.offsets;

function flowAddress(address: string, field: string): { bytes: Buffer; family: 4 | 6 } {
  if (isIPv4(address)) return { bytes: mappedIpv4(ipv4Bytes(address, field)), family: 4 };
  return { bytes: ipv6Bytes(address, field), family: 6 };
}

export function encodeFlowKey(flow: FlowKey, field = 'flow'): Buffer {
  const buf = Buffer.alloc(flowKeyLayout.size);
  const source = flowAddress(flow.source, `${field}.source`);
  const destination = flowAddress(flow.destination, `${field}.destination`);
  if (source.family !== destination.family) {
    throw errors.INVALID_FIELD({ field, reason: 'source and destination are of different address families' });
  }
  source.bytes.copy(buf, o.saddr);
  destination.bytes.copy(buf, o.daddr);
  checkRange(flow.sourcePort, `${field}.sourcePort`, 0, 65535);
  checkRange(flow.destinationPort, `${field}.destinationPort`, 0, 65535);
  buf.writeUInt16BE(flow.sourcePort, o.sport);
  buf.writeUInt16BE(flow.destinationPort, o.dport);
  checkU32(flow.vrfId, `${field}.vrfId`);
  writeU32Host(buf, flow.vrfId, o.vrf_id);
  checkRange(flow.protocol, `${field}.protocol`, 0, 255);
  buf[o.proto] = flow.protocol;
  buf[o.family] = source.family;
  return buf;
}

export function decodeFlowKey(buf: Buffer): FlowKey {
  const family = buf[o.family] ?? 4;
  return {
    source: flowAddressString(buf.subarray(o.saddr, o.saddr + 16), family),
    destination: flowAddressString(buf.subarray(o.daddr, o.daddr + 16), family),
    sourcePort: buf.readUInt16BE(o.sport),
    destinationPort: buf.readUInt16BE(o.dport),
    protocol: buf[o.proto] ?? 0,
    vrfId: readU32Host(buf, o.vrf_id),
  };
}
