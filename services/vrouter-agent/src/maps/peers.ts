// weft_peers_v1: the tunnel endpoints this host exchanges VXLAN with (the remote hosts its
// routes point at), by underlay IPv4 address. Key: __u32 in network order; value: struct
// weft_peer. VXLAN from any other address is dropped on the underlay (underlay_guard.c).
import { checkU32, ipv4Bytes, ipv4String, type MapSpec, readU32Host, type StructLayout, u32Key } from './codec.js';
import { MAX_PEERS } from './constants.js';

export interface PeerEntry {
  /** Routes that point at this endpoint. */
  routes: number;
}

export const peerLayout = {
  struct: 'weft_peer',
  size: 4,
  offsets: { routes: 0 },
} as const satisfies StructLayout;

export const peerMap: MapSpec<string, PeerEntry> = {
  name: 'weft_peers_v1',
  keySize: 4,
  valueSize: peerLayout.size,
  maxEntries: MAX_PEERS,
  perCpu: false,
  encodeKey: (address) => ipv4Bytes(address, 'peer.address'),
  decodeKey: (buf) => ipv4String(buf),
  encodeValue(value) {
    checkU32(value.routes, 'peer.routes');
    return u32Key(value.routes, 'peer.routes');
  },
  decodeValue: (buf) => ({ routes: readU32Host(buf, peerLayout.offsets.routes) }),
};
