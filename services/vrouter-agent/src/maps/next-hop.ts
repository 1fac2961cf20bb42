// struct weft_next_hop: the value of every route map (host and prefix, IPv4 and IPv6).

import { errors } from '../errors.js';
import {
  checkRange,
  checkU32,
  ipv4Bytes,
  ipv4String,
  macBytes,
  macString,
  readU32Host,
  type StructLayout,
  writeU32Host,
} from './codec.js';
import { NextHopKind } from './constants.js';

/** A pod interface on this host: ifindex of its host end, the pod's MAC. */
export interface LocalNextHop {
  kind: 'local';
  ifindex: number;
  vrfId: number;
  mac: string;
}

/** A pod on another host: out of the underlay device (ifindex) through VXLAN. */
export interface TunnelNextHop {
  kind: 'tunnel';
  ifindex: number;
  vrfId: number;
  vni: number;
  /** Underlay address of the remote host. */
  remoteAddress: string;
  /** The remote pod's MAC, the inner destination. */
  mac: string;
  /** MAC of the underlay next hop towards the remote host, the outer destination. */
  remoteMac: string;
}

/** The virtual gateway itself: packets go to the host's stack. */
export interface ReceiveNextHop {
  kind: 'receive';
  vrfId: number;
}

/** A gateway router beyond the underlay (a route learnt from it): out of the host's underlay to it. */
export interface OutsideNextHop {
  kind: 'outside';
  vrfId: number;
  /** The gateway's IPv4 address, the packet's next hop on the underlay. */
  gateway: string;
}

export type NextHop = LocalNextHop | TunnelNextHop | ReceiveNextHop | OutsideNextHop;

export const nextHopLayout = {
  struct: 'weft_next_hop',
  size: 32,
  offsets: { kind: 0, ifindex: 4, vrf_id: 8, vni: 12, remote_ip4: 16, mac: 20, remote_mac: 26 },
} as const satisfies StructLayout;
const o = nextHopLayout.offsets;

export function encodeNextHop(nh: NextHop, field = 'nextHop'): Buffer {
  const buf = Buffer.alloc(nextHopLayout.size);
  checkU32(nh.vrfId, `${field}.vrfId`);
  writeU32Host(buf, nh.vrfId, o.vrf_id);
  switch (nh.kind) {
    case 'local':
      buf[o.kind] = NextHopKind.local;
      checkRange(nh.ifindex, `${field}.ifindex`, 1, 0xffffffff);
      writeU32Host(buf, nh.ifindex, o.ifindex);
      macBytes(nh.mac, `${field}.mac`).copy(buf, o.mac);
      return buf;
    case 'tunnel':
      buf[o.kind] = NextHopKind.tunnel;
      checkRange(nh.ifindex, `${field}.ifindex`, 1, 0xffffffff);
      writeU32Host(buf, nh.ifindex, o.ifindex);
      checkRange(nh.vni, `${field}.vni`, 1, 0xffffff);
      writeU32Host(buf, nh.vni, o.vni);
      ipv4Bytes(nh.remoteAddress, `${field}.remoteAddress`).copy(buf, o.remote_ip4);
      macBytes(nh.mac, `${field}.mac`).copy(buf, o.mac);
      macBytes(nh.remoteMac, `${field}.remoteMac`).copy(buf, o.remote_mac);
      return buf;
    case 'receive':
      buf[o.kind] = NextHopKind.receive;
      return buf;
    case 'outside':
      buf[o.kind] = NextHopKind.outside;
      ipv4Bytes(nh.gateway, `${field}.gateway`).copy(buf, o.remote_ip4);
      return buf;
    default:
      throw errors.INVALID_FIELD({ field: `${field}.kind`, reason: 'must be local, tunnel, receive or outside' });
  }
}

export function decodeNextHop(buf: Buffer): NextHop {
  const vrfId = readU32Host(buf, o.vrf_id);
  const ifindex = readU32Host(buf, o.ifindex);
  const mac = macString(buf.subarray(o.mac, o.mac + 6));
  switch (buf[o.kind]) {
    case NextHopKind.local:
      return { kind: 'local', ifindex, vrfId, mac };
    case NextHopKind.tunnel:
      return {
        kind: 'tunnel',
        ifindex,
        vrfId,
        vni: readU32Host(buf, o.vni),
        remoteAddress: ipv4String(buf.subarray(o.remote_ip4)),
        mac,
        remoteMac: macString(buf.subarray(o.remote_mac, o.remote_mac + 6)),
      };
    case NextHopKind.outside:
      return { kind: 'outside', vrfId, gateway: ipv4String(buf.subarray(o.remote_ip4)) };
    default:
      return { kind: 'receive', vrfId };
  }
}
