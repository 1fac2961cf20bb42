// weft_fip4_v1: the floating addresses of this host's ports (1:1 NAT, bpf/lib/nat.h), by the
// floating IPv4 address (network order): traffic from outside to one is delivered to the port's
// own address. Key: __u32; value: struct weft_floating_ip.
import {
  checkU32,
  ipv4Bytes,
  ipv4String,
  type MapSpec,
  readU32Host,
  type StructLayout,
  writeU32Host,
} from './codec.js';
import { MAX_FLOATING_IPS } from './constants.js';

export interface FloatingIp {
  /** The port's own address the floating one maps to. */
  fixedAddress: string;
  /** Host end of the port. */
  ifindex: number;
  /** Routing instance of the port. */
  vrfId: number;
}

export const floatingIpLayout = {
  struct: 'weft_floating_ip',
  size: 12,
  offsets: { fixed_ip4: 0, ifindex: 4, vrf_id: 8 },
} as const satisfies StructLayout;
const o = floatingIpLayout.offsets;

export const floatingIpMap: MapSpec<string, FloatingIp> = {
  name: 'weft_fip4_v1',
  keySize: 4,
  valueSize: floatingIpLayout.size,
  maxEntries: MAX_FLOATING_IPS,
  perCpu: false,
  encodeKey: (address) => ipv4Bytes(address, 'floatingIp.address'),
  decodeKey: (buf) => ipv4String(buf),
  encodeValue(fip) {
    checkU32(fip.ifindex, 'floatingIp.ifindex');
    checkU32(fip.vrfId, 'floatingIp.vrfId');
    const buf = Buffer.alloc(floatingIpLayout.size);
    ipv4Bytes(fip.fixedAddress, 'floatingIp.fixedAddress').copy(buf, o.fixed_ip4);
    writeU32Host(buf, fip.ifindex, o.ifindex);
    writeU32Host(buf, fip.vrfId, o.vrf_id);
    return buf;
  },
  decodeValue: (buf) => ({
    fixedAddress: ipv4String(buf.subarray(o.fixed_ip4)),
    ifindex: readU32Host(buf, o.ifindex),
    vrfId: readU32Host(buf, o.vrf_id),
  }),
};
