// weft_lpm4_v1: IPv4 prefix routes, longest prefix match. Key: struct weft_lpm4_key, whose
// prefixlen counts the 32 bits of vrf_id (network order, so the trie matches it whole first)
// plus the prefix's own length. Value: struct weft_next_hop (next-hop.ts).
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

/** A route's key in every route map: the VRF and the prefix in CIDR form. */
export interface RouteKey {
  vrfId: number;
  prefix: string;
}

export const lpm4KeyLayout = {
  struct: 'weft_lpm4_key',
  size: 12,
  offsets: { prefixlen: 0, vrf_id: 4, addr: 8 },
} as const satisfies StructLayout;
const o = lpm4KeyLayout.offsets;

export const prefixRoute4Map: MapSpec<RouteKey, NextHop> = {
  name: 'weft_lpm4_v1',
  keySize: lpm4KeyLayout.size,
  valueSize: nextHopLayout.size,
  maxEntries: MAX_PREFIX_ROUTES,
  perCpu: false,
  encodeKey(key) {
    const prefix = parsePrefix(key.prefix, 'route.prefix');
    if (prefix.family !== 4) {
      throw errors.INVALID_FIELD({ field: 'route.prefix', reason: `must be an IPv4 prefix, got "${key.prefix}"` });
    }
    checkU32(key.vrfId, 'route.vrfId');
    const buf = Buffer.alloc(lpm4KeyLayout.size);
    writeU32Host(buf, 32 + prefix.length, o.prefixlen);
    buf.writeUInt32BE(key.vrfId, o.vrf_id);
    prefix.address.copy(buf, o.addr);
    return buf;
  },
  decodeKey: (buf) => ({
    vrfId: buf.readUInt32BE(o.vrf_id),
    prefix: prefixString({ family: 4, address: buf.subarray(o.addr, o.addr + 4), length: readU32Host(buf, 0) - 32 }),
  }),
  encodeValue: (nh) => encodeNextHop(nh),
  decodeValue: decodeNextHop,
};
