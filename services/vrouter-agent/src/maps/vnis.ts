// weft_vni_v1: VXLAN network identifier → VRF id, for packets arriving through a tunnel.
// Key and value are __u32 in host order.
import { checkRange, checkU32, type MapSpec, readU32Host, u32Key } from './codec.js';
import { MAX_VRFS } from './constants.js';

export const vniMap: MapSpec<number, number> = {
  name: 'weft_vni_v1',
  keySize: 4,
  valueSize: 4,
  maxEntries: MAX_VRFS,
  perCpu: false,
  encodeKey(vni) {
    checkRange(vni, 'vni', 1, 0xffffff);
    return u32Key(vni, 'vni');
  },
  decodeKey: (buf) => readU32Host(buf, 0),
  encodeValue(vrfId) {
    checkU32(vrfId, 'vni.vrfId');
    return u32Key(vrfId, 'vni.vrfId');
  },
  decodeValue: (buf) => readU32Host(buf, 0),
};
