// weft_svc4_v1 and weft_svc_ct4_v1: services balanced in the TC datapath (bpf/lib/service.h).
// weft_svc4_v1 holds each service's virtual IP, port and protocol in a routing instance, with
// its ready backends inline, so one update replaces a service's whole set of backends (a
// connection never sees half of a change). weft_svc_ct4_v1 is the datapath's own: the backend
// each balanced connection got, and the reverse translation of its replies.
// Addresses and ports are network order, as on the wire.

import { errors } from '../errors.js';
import {
  checkRange,
  checkU32,
  ipv4Bytes,
  ipv4String,
  type MapSpec,
  readU32Host,
  type StructLayout,
  writeU32Host,
} from './codec.js';
import { MAX_FLOWS, MAX_SERVICE_BACKENDS, MAX_SERVICES } from './constants.js';

export type ServiceProtocol = 'tcp' | 'udp';
const PROTOCOL_NUMBER: Record<ServiceProtocol, number> = { tcp: 6, udp: 17 };

/** An IPv4 address and a TCP/UDP port. */
export interface L4Address {
  address: string;
  port: number;
}

export interface ServiceKey {
  vrfId: number;
  /** The virtual IP. */
  address: string;
  port: number;
  protocol: ServiceProtocol;
}

export interface ServiceFlowKey {
  vrfId: number;
  source: string;
  destination: string;
  sourcePort: number;
  destinationPort: number;
  protocol: ServiceProtocol;
}

export const l4AddressLayout = {
  struct: 'weft_l4_addr',
  size: 8,
  offsets: { ip4: 0, port: 4 },
} as const satisfies StructLayout;

export const serviceKeyLayout = {
  struct: 'weft_service_key',
  size: 12,
  offsets: { vrf_id: 0, vip4: 4, port: 8, proto: 10 },
} as const satisfies StructLayout;

export const serviceLayout = {
  struct: 'weft_service',
  size: 4 + MAX_SERVICE_BACKENDS * l4AddressLayout.size,
  offsets: { count: 0, backends: 4 },
} as const satisfies StructLayout;

export const serviceFlowKeyLayout = {
  struct: 'weft_service_flow_key',
  size: 20,
  offsets: { vrf_id: 0, saddr: 4, daddr: 8, sport: 12, dport: 14, proto: 16 },
} as const satisfies StructLayout;

function protocolNumber(protocol: ServiceProtocol, field: string): number {
  const number = PROTOCOL_NUMBER[protocol];
  if (number === undefined) throw errors.INVALID_FIELD({ field, reason: 'must be tcp or udp' });
  return number;
}

function protocolName(number: number): ServiceProtocol {
  return number === 6 ? 'tcp' : 'udp';
}

function encodeL4(buf: Buffer, offset: number, value: L4Address, field: string): void {
  checkRange(value.port, `${field}.port`, 1, 65535);
  ipv4Bytes(value.address, `${field}.address`).copy(buf, offset + l4AddressLayout.offsets.ip4);
  buf.writeUInt16BE(value.port, offset + l4AddressLayout.offsets.port);
}

function decodeL4(buf: Buffer, offset: number): L4Address {
  return {
    address: ipv4String(buf.subarray(offset + l4AddressLayout.offsets.ip4)),
    port: buf.readUInt16BE(offset + l4AddressLayout.offsets.port),
  };
}

const k = serviceKeyLayout.offsets;

/** A service's ready backends, at most MAX_SERVICE_BACKENDS; empty: connections to it are dropped. */
export const serviceMap: MapSpec<ServiceKey, L4Address[]> = {
  name: 'weft_svc4_v1',
  keySize: serviceKeyLayout.size,
  valueSize: serviceLayout.size,
  maxEntries: MAX_SERVICES,
  perCpu: false,
  encodeKey(key) {
    checkU32(key.vrfId, 'service.vrfId');
    checkRange(key.port, 'service.port', 1, 65535);
    const buf = Buffer.alloc(serviceKeyLayout.size);
    writeU32Host(buf, key.vrfId, k.vrf_id);
    ipv4Bytes(key.address, 'service.address').copy(buf, k.vip4);
    buf.writeUInt16BE(key.port, k.port);
    buf.writeUInt8(protocolNumber(key.protocol, 'service.protocol'), k.proto);
    return buf;
  },
  decodeKey: (buf) => ({
    vrfId: readU32Host(buf, k.vrf_id),
    address: ipv4String(buf.subarray(k.vip4)),
    port: buf.readUInt16BE(k.port),
    protocol: protocolName(buf.readUInt8(k.proto)),
  }),
  encodeValue(backends) {
    if (backends.length > MAX_SERVICE_BACKENDS) {
      throw errors.INVALID_FIELD({
        field: 'service.backends',
        reason: `${backends.length} backends, the datapath holds at most ${MAX_SERVICE_BACKENDS}`,
      });
    }
    const buf = Buffer.alloc(serviceLayout.size);
    writeU32Host(buf, backends.length, serviceLayout.offsets.count);
    backends.forEach((backend, i) => {
      encodeL4(buf, serviceLayout.offsets.backends + i * l4AddressLayout.size, backend, `service.backends[${i}]`);
    });
    return buf;
  },
  decodeValue(buf) {
    const count = Math.min(readU32Host(buf, serviceLayout.offsets.count), MAX_SERVICE_BACKENDS);
    return Array.from({ length: count }, (_, i) =>
      decodeL4(buf, serviceLayout.offsets.backends + i * l4AddressLayout.size),
    );
  },
};

const f = serviceFlowKeyLayout.offsets;

/** Each direction of a balanced connection → the address and port it is translated to. */
export const serviceFlowMap: MapSpec<ServiceFlowKey, L4Address> = {
  name: 'weft_svc_ct4_v1',
  keySize: serviceFlowKeyLayout.size,
  valueSize: l4AddressLayout.size,
  maxEntries: MAX_FLOWS,
  perCpu: false,
  encodeKey(key) {
    checkU32(key.vrfId, 'serviceFlow.vrfId');
    const buf = Buffer.alloc(serviceFlowKeyLayout.size);
    writeU32Host(buf, key.vrfId, f.vrf_id);
    ipv4Bytes(key.source, 'serviceFlow.source').copy(buf, f.saddr);
    ipv4Bytes(key.destination, 'serviceFlow.destination').copy(buf, f.daddr);
    buf.writeUInt16BE(key.sourcePort, f.sport);
    buf.writeUInt16BE(key.destinationPort, f.dport);
    buf.writeUInt8(protocolNumber(key.protocol, 'serviceFlow.protocol'), f.proto);
    return buf;
  },
  decodeKey: (buf) => ({
    vrfId: readU32Host(buf, f.vrf_id),
    source: ipv4String(buf.subarray(f.saddr)),
    destination: ipv4String(buf.subarray(f.daddr)),
    sourcePort: buf.readUInt16BE(f.sport),
    destinationPort: buf.readUInt16BE(f.dport),
    protocol: protocolName(buf.readUInt8(f.proto)),
  }),
  encodeValue(value) {
    const buf = Buffer.alloc(l4AddressLayout.size);
    encodeL4(buf, 0, value, 'serviceFlow.value');
    return buf;
  },
  decodeValue: (buf) => decodeL4(buf, 0),
};
