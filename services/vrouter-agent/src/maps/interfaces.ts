// weft_if_v1: pod interfaces by the ifindex of their host end. Matches struct weft_if_info.

import {
  checkU32,
  type MapSpec,
  macBytes,
  macString,
  readU32Host,
  type StructLayout,
  u32Key,
  writeU32Host,
} from './codec.js';
import { IF_PORT_SECURITY, MAX_INTERFACES } from './constants.js';

export interface InterfaceEntry {
  vrfId: number;
  /** Security-group ACL id; 0 when none. Enforced only with portSecurity. */
  aclId: number;
  mtu: number;
  /** The pod's MAC: the destination of packets delivered to it. */
  mac: string;
  portSecurity: boolean;
}

export const interfaceLayout = {
  struct: 'weft_if_info',
  size: 20,
  offsets: { vrf_id: 0, acl_id: 4, mtu: 8, mac: 12, flags: 18 },
} as const satisfies StructLayout;
const o = interfaceLayout.offsets;

export const interfaceMap: MapSpec<number, InterfaceEntry> = {
  name: 'weft_if_v1',
  keySize: 4,
  valueSize: interfaceLayout.size,
  maxEntries: MAX_INTERFACES,
  perCpu: false,
  encodeKey: (ifindex) => u32Key(ifindex, 'interface.ifindex'),
  decodeKey: (buf) => readU32Host(buf, 0),
  encodeValue(value) {
    const buf = Buffer.alloc(interfaceLayout.size);
    checkU32(value.vrfId, 'interface.vrfId');
    checkU32(value.aclId, 'interface.aclId');
    checkU32(value.mtu, 'interface.mtu');
    writeU32Host(buf, value.vrfId, o.vrf_id);
    writeU32Host(buf, value.aclId, o.acl_id);
    writeU32Host(buf, value.mtu, o.mtu);
    macBytes(value.mac, 'interface.mac').copy(buf, o.mac);
    buf[o.flags] = value.portSecurity ? IF_PORT_SECURITY : 0;
    return buf;
  },
  decodeValue: (buf) => ({
    vrfId: readU32Host(buf, o.vrf_id),
    aclId: readU32Host(buf, o.acl_id),
    mtu: readU32Host(buf, o.mtu),
    mac: macString(buf.subarray(o.mac, o.mac + 6)),
    portSecurity: ((buf[o.flags] ?? 0) & IF_PORT_SECURITY) !== 0,
  }),
};
