// weft_rt4_v1: IPv4 host routes (/32), exact match, looked up before the prefix trie.
// Key: struct weft_route4_key; value: struct weft_next_hop (next-hop.ts).
import { errors } from '../errors.js';
import { ipv4String, type MapSpec, parsePrefix, readU32Host, type StructLayout, writeU32Host } from './codec.js';
import { MAX_HOST_ROUTES } from './constants.js';
import { decodeNextHop, encodeNextHop, type NextHop, nextHopLayout } from './next-hop.js';
import type { RouteKey } from './prefix-routes4.js';

export const route4KeyLayout = {
  struct: 'weft_route4_key',
  size: 8,
  offsets: { vrf_id: 0, addr: 4 },
} as const satisfies StructLayout;
const o = route4KeyLayout.offsets;

export const hostRoute4Map: MapSpec<RouteKey, NextHop> = {
  name: 'weft_rt4_v1',
  keySize: route4KeyLayout.size,
  valueSize: nextHopLayout.size,
  maxEntries: MAX_HOST_ROUTES,
  perCpu: false,
  encodeKey(key) {
    const prefix = parsePrefix(key.prefix, 'route.prefix');
    if (prefix.family !== 4 || prefix.length !== 32) {
      throw errors.INVALID_FIELD({ field: 'route.prefix', reason: `an IPv4 host route is /32, got "${key.prefix}"` });
    }
    const buf = Buffer.alloc(route4KeyLayout.size);
    writeU32Host(buf, key.vrfId, o.vrf_id);
    prefix.address.copy(buf, o.addr);
    return buf;
  },
  decodeKey: (buf) => ({ vrfId: readU32Host(buf, o.vrf_id), prefix: `${ipv4String(buf.subarray(o.addr))}/32` }),
  encodeValue: (nh) => encodeNextHop(nh),
  decodeValue: decodeNextHop,
};
