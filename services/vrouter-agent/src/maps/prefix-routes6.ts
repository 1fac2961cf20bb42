// weft_lpm6_v1: IPv6 prefix routes, longest prefix match. Key: struct weft_lpm6_key (prefixlen
// = 32 bits of vrf_id, network order, + the prefix's length). Value: struct weft_next_hop.
import { errors } from '../errors.js';
import {
  checkU32,
  type MapSpec,
  parsePrefix,
  prefixString,
  readU32Host,
  type StructLayout,
  writeU32Host,
} from './codec.js';
import { MAX_PREFIX_ROUTES } from './constants.js';
import { decodeNextHop, encodeNextHop, type NextHop, nextHopLayout } from './next-hop.js';
import type { RouteKey } from './prefix-routes4.js';

export const lpm6KeyLayout = {
  struct: 'weft_lpm6_key',
  size: 24,
  offsets: { prefixlen: 0, vrf_id: 4, addr: 8 },
} as const satisfies StructLayout;
const o = lpm6KeyLayout.offsets;

export const prefixRoute6Map: MapSpec<RouteKey, NextHop> = {
  name: 'weft_lpm6_v1',
  keySize: lpm6KeyLayout.size,
  valueSize: nextHopLayout.size,
  maxEntries: MAX_PREFIX_ROUTES,
  perCpu: false,
  encodeKey(key) {
    const prefix = parsePrefix(key.prefix, 'route.prefix');
    if (prefix.family !== 6) {
      throw errors.INVALID_FIELD({ field: 'route.prefix', reason: `must be an IPv6 prefix, got "${key.prefix}"` });
    }
    checkU32(key.vrfId, 'route.vrfId');
    const buf = Buffer.alloc(lpm6KeyLayout.size);
    writeU32Host(buf, 32 + prefix.length, o.prefixlen);
    buf.writeUInt32BE(key.vrfId, o.vrf_id);
    prefix.address.copy(buf, o.addr);
    return buf;
  },
  decodeKey: (buf) => ({
    vrfId: buf.readUInt32BE(o.vrf_id),
    prefix: prefixString({ family: 6, address: buf.subarray(o.addr, o.addr + 16), length: readU32Host(buf, 0) - 32 }),
  }),
  encodeValue: (nh) => encodeNextHop(nh),
  decodeValue: decodeNextHop,
};
