// weft_snat4_v1: the floating address a port's own connections to the outside leave with
// (source NAT, bpf/lib/nat.h), by the port's routing instance and address. Key: struct
// weft_route4_key (host-routes4.ts); value: __u32, the floating IPv4 address (network order).
import { checkU32, ipv4Bytes, ipv4String, type MapSpec, readU32Host, writeU32Host } from './codec.js';
import { MAX_FLOATING_IPS } from './constants.js';
import { route4KeyLayout } from './host-routes4.js';

export interface PortAddress {
  vrfId: number;
  address: string;
}

const o = route4KeyLayout.offsets;

export const floatingSourceMap: MapSpec<PortAddress, string> = {
  name: 'weft_snat4_v1',
  keySize: route4KeyLayout.size,
  valueSize: 4,
  maxEntries: MAX_FLOATING_IPS,
  perCpu: false,
  encodeKey(key) {
    checkU32(key.vrfId, 'floatingSource.vrfId');
    const buf = Buffer.alloc(route4KeyLayout.size);
    writeU32Host(buf, key.vrfId, o.vrf_id);
    ipv4Bytes(key.address, 'floatingSource.address').copy(buf, o.addr);
    return buf;
  },
  decodeKey: (buf) => ({ vrfId: readU32Host(buf, o.vrf_id), address: ipv4String(buf.subarray(o.addr)) }),
  encodeValue: (address) => ipv4Bytes(address, 'floatingSource.floatingAddress'),
  decodeValue: (buf) => ipv4String(buf),
};
