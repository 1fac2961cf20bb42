// weft_rt6_v1: IPv6 host routes (/128), exact match, looked up before the prefix trie.
// Key: struct weft_route6_key; value: struct weft_next_hop (next-hop.ts).
import { errors } from '../errors.js';
import { ipv6String, type MapSpec, parsePrefix, readU32Host, type StructLayout, writeU32Host } from './codec.js';
import { MAX_HOST_ROUTES } from './constants.js';
import { decodeNextHop, encodeNextHop, type NextHop, nextHopLayout } from './next-hop.js';
import type { RouteKey } from './prefix-routes4.js';

export const route6KeyLayout = {
  struct: 'weft_route6_key',
  size: 20,
  offsets: { vrf_id: 0, addr: 4 },
} as const satisfies StructLayout;
const o = route6KeyLayout.offsets;

export const hostRoute6Map: MapSpec<RouteKey, NextHop> = {
  name: 'weft_rt6_v1',
  keySize: route6KeyLayout.size,
  valueSize: nextHopLayout.size,
  maxEntries: MAX_HOST_ROUTES,
  perCpu: false,
  encodeKey(key) {
    const prefix = parsePrefix(key.prefix, 'route.prefix');
    if (prefix.family !== 6 || prefix.length !== 128) {
      throw errors.INVALID_FIELD({ field: 'route.prefix', reason: `an IPv6 host route is /128, got "${key.prefix}"` });
    }
    const buf = Buffer.alloc(route6KeyLayout.size);
    writeU32Host(buf, key.vrfId, o.vrf_id);
    prefix.address.copy(buf, o.addr);
    return buf;
  },
  decodeKey: (buf) => ({
    vrfId: readU32Host(buf, o.vrf_id),
    prefix: `${ipv6String(buf.subarray(o.addr, o.addr + 16))}/128`,
  }),
  encodeValue: (nh) => encodeNextHop(nh),
  decodeValue: decodeNextHop,
};
