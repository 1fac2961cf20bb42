// weft_tx_v1: the devices programs may redirect to (pod host ends and the underlay device), a
// DEVMAP_HASH keyed by ifindex whose value is the same ifindex (__u32, host order).
import { checkRange, type MapSpec, readU32Host, u32Key } from './codec.js';
import { MAX_INTERFACES } from './constants.js';

export const txPortMap: MapSpec<number, number> = {
  name: 'weft_tx_v1',
  keySize: 4,
  valueSize: 4,
  maxEntries: MAX_INTERFACES,
  perCpu: false,
  encodeKey(ifindex) {
    checkRange(ifindex, 'txPort.ifindex', 1, 0xffffffff);
    return u32Key(ifindex, 'txPort.ifindex');
  },
  decodeKey: (buf) => readU32Host(buf, 0),
  encodeValue: (ifindex) => u32Key(ifindex, 'txPort.ifindex'),
  decodeValue: (buf) => readU32Host(buf, 0),
};
