// weft_config_v2: the host's datapath settings, one entry. Matches struct weft_config.
import {
  checkRange,
  checkU32,
  ipv4Bytes,
  ipv4String,
  type MapSpec,
  macBytes,
  macString,
  readU32Host,
  type StructLayout,
  u32Key,
  writeU32Host,
} from './codec.js';

export interface DatapathConfig {
  /** MAC of the virtual gateway that pods see. */
  routerMac: string;
  /** MAC of the underlay device: the outer source of tunnelled packets. */
  underlayMac: string;
  underlayIfindex: number;
  /** This host's tunnel endpoint; VXLAN to it is the datapath's. */
  underlayAddress: string;
  underlayMtu: number;
  /** Sample one packet in N as a flow record; 0 samples new and denied flows only. */
  sampleRate: number;
  /** The UDP port VXLAN arrives on. */
  tunnelPort: number;
}

export const configLayout = {
  struct: 'weft_config',
  size: 32,
  offsets: {
    router_mac: 0,
    underlay_mac: 6,
    underlay_ifindex: 12,
    underlay_ip4: 16,
    underlay_mtu: 20,
    sample_rate: 24,
    tunnel_port: 28,
  },
} as const satisfies StructLayout;
const o = configLayout.offsets;

export const configMap: MapSpec<number, DatapathConfig> = {
  name: 'weft_config_v2',
  keySize: 4,
  valueSize: configLayout.size,
  maxEntries: 1,
  perCpu: false,
  encodeKey: (key) => u32Key(key, 'config.index'),
  decodeKey: (buf) => readU32Host(buf, 0),
  encodeValue(value) {
    const buf = Buffer.alloc(configLayout.size);
    macBytes(value.routerMac, 'config.routerMac').copy(buf, o.router_mac);
    macBytes(value.underlayMac, 'config.underlayMac').copy(buf, o.underlay_mac);
    checkU32(value.underlayIfindex, 'config.underlayIfindex');
    writeU32Host(buf, value.underlayIfindex, o.underlay_ifindex);
    ipv4Bytes(value.underlayAddress, 'config.underlayAddress').copy(buf, o.underlay_ip4);
    checkU32(value.underlayMtu, 'config.underlayMtu');
    writeU32Host(buf, value.underlayMtu, o.underlay_mtu);
    checkU32(value.sampleRate, 'config.sampleRate');
    writeU32Host(buf, value.sampleRate, o.sample_rate);
    checkRange(value.tunnelPort, 'config.tunnelPort', 1, 65535);
    writeU32Host(buf, value.tunnelPort, o.tunnel_port);
    return buf;
  },
  decodeValue: (buf) => ({
    routerMac: macString(buf.subarray(o.router_mac, o.router_mac + 6)),
    underlayMac: macString(buf.subarray(o.underlay_mac, o.underlay_mac + 6)),
    underlayIfindex: readU32Host(buf, o.underlay_ifindex),
    underlayAddress: ipv4String(buf.subarray(o.underlay_ip4)),
    underlayMtu: readU32Host(buf, o.underlay_mtu),
    sampleRate: readU32Host(buf, o.sample_rate),
    tunnelPort: readU32Host(buf, o.tunnel_port),
  }),
};
