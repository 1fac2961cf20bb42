// weft_vrf_v1: routing instances by VRF id. Matches struct weft_vrf_info.
import {
  checkRange,
  checkU32,
  ipv4Bytes,
  ipv4String,
  ipv6Bytes,
  ipv6String,
  type MapSpec,
  readU32Host,
  type StructLayout,
  u32Key,
  writeU32Host,
} from './codec.js';
import { MAX_VRFS } from './constants.js';

export interface VrfEntry {
  vni: number;
  /** Network-policy ACL id; 0 when none. */
  aclId: number;
  /** Virtual gateway addresses the datapath answers ARP for; absent when the network has none. */
  gateway4?: string;
  gateway6?: string;
}

export const vrfLayout = {
  struct: 'weft_vrf_info',
  size: 28,
  offsets: { vni: 0, acl_id: 4, gateway4: 8, gateway6: 12 },
} as const satisfies StructLayout;
const o = vrfLayout.offsets;

export const vrfMap: MapSpec<number, VrfEntry> = {
  name: 'weft_vrf_v1',
  keySize: 4,
  valueSize: vrfLayout.size,
  maxEntries: MAX_VRFS,
  perCpu: false,
  encodeKey: (vrfId) => u32Key(vrfId, 'vrf.vrfId'),
  decodeKey: (buf) => readU32Host(buf, 0),
  encodeValue(value) {
    const buf = Buffer.alloc(vrfLayout.size);
    checkRange(value.vni, 'vrf.vni', 0, 0xffffff);
    checkU32(value.aclId, 'vrf.aclId');
    writeU32Host(buf, value.vni, o.vni);
    writeU32Host(buf, value.aclId, o.acl_id);
    if (value.gateway4) ipv4Bytes(value.gateway4, 'vrf.gateway4').copy(buf, o.gateway4);
    if (value.gateway6) ipv6Bytes(value.gateway6, 'vrf.gateway6').copy(buf, o.gateway6);
    return buf;
  },
  decodeValue(buf) {
    const entry: VrfEntry = { vni: readU32Host(buf, o.vni), aclId: readU32Host(buf, o.acl_id) };
    if (readU32Host(buf, o.gateway4) !== 0) entry.gateway4 = ipv4String(buf.subarray(o.gateway4));
    const gateway6 = buf.subarray(o.gateway6, o.gateway6 + 16);
    if (gateway6.some((byte) => byte !== 0)) entry.gateway6 = ipv6String(gateway6);
    return entry;
  },
};
