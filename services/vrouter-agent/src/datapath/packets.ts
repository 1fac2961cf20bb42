// Byte builders for packets: Ethernet, ARP, IPv4, IPv6, UDP, TCP, ICMP echo and VXLAN, with
// correct checksums. The datapath tests and the benchmark describe their fixtures with these,
// so an expected packet reads like the packet it is.
import { ipv4Bytes, ipv6Bytes, macBytes } from '../maps/codec.js';

export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_ARP = 0x0806;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

/** The Internet checksum (RFC 1071) of some buffers laid end to end. */
export function internetChecksum(...parts: Buffer[]): number {
  const data = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += data.readUInt16BE(i);
  if (data.length % 2) sum += (data[data.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ethernet(o: { dst: string; src: string; type: number; payload: Buffer }): Buffer {
  const header = Buffer.alloc(14);
  macBytes(o.dst, 'ethernet.dst').copy(header, 0);
  macBytes(o.src, 'ethernet.src').copy(header, 6);
  header.writeUInt16BE(o.type, 12);
  return Buffer.concat([header, o.payload]);
}

export function arp(o: {
  op: 1 | 2;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}): Buffer {
  const buf = Buffer.alloc(28);
  buf.writeUInt16BE(1, 0);
  buf.writeUInt16BE(ETH_P_IP, 2);
  buf[4] = 6;
  buf[5] = 4;
  buf.writeUInt16BE(o.op, 6);
  macBytes(o.senderMac, 'arp.senderMac').copy(buf, 8);
  ipv4Bytes(o.senderIp, 'arp.senderIp').copy(buf, 14);
  macBytes(o.targetMac, 'arp.targetMac').copy(buf, 18);
  ipv4Bytes(o.targetIp, 'arp.targetIp').copy(buf, 24);
  return buf;
}

export interface Ipv4Options {
  src: string;
  dst: string;
  protocol: number;
  payload: Buffer;
  ttl?: number;
  id?: number;
  /** Don't Fragment. */
  df?: boolean;
}

export function ipv4(o: Ipv4Options): Buffer {
  const header = Buffer.alloc(20);
  header[0] = 0x45;
  header.writeUInt16BE(20 + o.payload.length, 2);
  header.writeUInt16BE(o.id ?? 0, 4);
  header.writeUInt16BE(o.df ? 0x4000 : 0, 6);
  header[8] = o.ttl ?? 64;
  header[9] = o.protocol;
  ipv4Bytes(o.src, 'ipv4.src').copy(header, 12);
  ipv4Bytes(o.dst, 'ipv4.dst').copy(header, 16);
  header.writeUInt16BE(internetChecksum(header), 10);
  return Buffer.concat([header, o.payload]);
}

export function ipv6(o: { src: string; dst: string; nextHeader: number; payload: Buffer; hopLimit?: number }): Buffer {
  const header = Buffer.alloc(40);
  header.writeUInt32BE(0x60000000, 0);
  header.writeUInt16BE(o.payload.length, 4);
  header[6] = o.nextHeader;
  header[7] = o.hopLimit ?? 64;
  ipv6Bytes(o.src, 'ipv6.src').copy(header, 8);
  ipv6Bytes(o.dst, 'ipv6.dst').copy(header, 24);
  return Buffer.concat([header, o.payload]);
}

/** The pseudo-header that TCP, UDP and ICMPv6 checksums cover. */
function pseudoHeader(src: string, dst: string, protocol: number, length: number): Buffer {
  if (src.includes(':')) {
    const buf = Buffer.alloc(40);
    ipv6Bytes(src, 'src').copy(buf, 0);
    ipv6Bytes(dst, 'dst').copy(buf, 16);
    buf.writeUInt32BE(length, 32);
    buf[39] = protocol;
    return buf;
  }
  const buf = Buffer.alloc(12);
  ipv4Bytes(src, 'src').copy(buf, 0);
  ipv4Bytes(dst, 'dst').copy(buf, 4);
  buf[9] = protocol;
  buf.writeUInt16BE(length, 10);
  return buf;
}

export interface L4Options {
  /** Addresses of the IP header around it, for the checksum. */
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload?: Buffer;
}

/** A UDP datagram; checksum false leaves it zero, as VXLAN over IPv4 sends it. */
export function udp(o: L4Options & { checksum?: boolean }): Buffer {
  const payload = o.payload ?? Buffer.alloc(0);
  const header = Buffer.alloc(8);
  header.writeUInt16BE(o.sport, 0);
  header.writeUInt16BE(o.dport, 2);
  header.writeUInt16BE(8 + payload.length, 4);
  if (o.checksum !== false) {
    const sum = internetChecksum(pseudoHeader(o.src, o.dst, IPPROTO_UDP, 8 + payload.length), header, payload);
    header.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
  }
  return Buffer.concat([header, payload]);
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

export function tcp(o: L4Options & { flags: number; seq?: number; ack?: number }): Buffer {
  const payload = o.payload ?? Buffer.alloc(0);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(o.sport, 0);
  header.writeUInt16BE(o.dport, 2);
  header.writeUInt32BE(o.seq ?? 1, 4);
  header.writeUInt32BE(o.ack ?? 0, 8);
  header[12] = 5 << 4;
  header[13] = o.flags;
  header.writeUInt16BE(65535, 14);
  header.writeUInt16BE(
    internetChecksum(pseudoHeader(o.src, o.dst, IPPROTO_TCP, 20 + payload.length), header, payload),
    16,
  );
  return Buffer.concat([header, payload]);
}

/** ICMP (IPv4) echo request (type 8) or reply (type 0). */
export function icmpEcho(o: { type: 0 | 8; id: number; seq: number; payload?: Buffer }): Buffer {
  const payload = o.payload ?? Buffer.alloc(0);
  const header = Buffer.alloc(8);
  header[0] = o.type;
  header.writeUInt16BE(o.id, 4);
  header.writeUInt16BE(o.seq, 6);
  header.writeUInt16BE(internetChecksum(header, payload), 2);
  return Buffer.concat([header, payload]);
}

/** ICMPv6 echo request (128) or reply (129). */
export function icmpv6Echo(o: { src: string; dst: string; type: 128 | 129; id: number; seq: number }): Buffer {
  const header = Buffer.alloc(8);
  header[0] = o.type;
  header.writeUInt16BE(o.id, 4);
  header.writeUInt16BE(o.seq, 6);
  header.writeUInt16BE(internetChecksum(pseudoHeader(o.src, o.dst, IPPROTO_ICMPV6, 8), header), 2);
  return header;
}

/**
 * ICMP "fragmentation needed" (destination unreachable, code 4) with the next-hop MTU, quoting
 * `quoted` (the offending IP header and what follows it).
 */
export function icmpFragNeeded(o: { mtu: number; quoted: Buffer }): Buffer {
  const header = Buffer.alloc(8);
  header[0] = 3;
  header[1] = 4;
  header.writeUInt16BE(o.mtu, 6);
  header.writeUInt16BE(internetChecksum(header, o.quoted), 2);
  return Buffer.concat([header, o.quoted]);
}

/** ICMPv6 "packet too big" (type 2) with the MTU, quoting `quoted`. */
export function icmpv6PacketTooBig(o: { src: string; dst: string; mtu: number; quoted: Buffer }): Buffer {
  const header = Buffer.alloc(8);
  header[0] = 2;
  header.writeUInt32BE(o.mtu, 4);
  const length = 8 + o.quoted.length;
  header.writeUInt16BE(internetChecksum(pseudoHeader(o.src, o.dst, IPPROTO_ICMPV6, length), header, o.quoted), 2);
  return Buffer.concat([header, o.quoted]);
}

/** A VXLAN header with the VNI flag, then the inner Ethernet frame. */
export function vxlan(o: { vni: number; frame: Buffer }): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(0x08000000, 0);
  header.writeUInt32BE(o.vni << 8, 4);
  return Buffer.concat([header, o.frame]);
}

/** An IPv6 neighbour solicitation (135) or advertisement (136) with one link-layer address option. */
export function neighbourDiscovery(o: {
  src: string;
  dst: string;
  type: 135 | 136;
  target: string;
  /** Advertisement flags, as the first byte: 0x80 router, 0x40 solicited, 0x20 override. */
  flags?: number;
  mac: string;
}): Buffer {
  const msg = Buffer.alloc(32);
  msg[0] = o.type;
  msg[4] = o.flags ?? 0;
  ipv6Bytes(o.target, 'nd.target').copy(msg, 8);
  msg[24] = o.type === 135 ? 1 : 2;
  msg[25] = 1;
  macBytes(o.mac, 'nd.mac').copy(msg, 26);
  msg.writeUInt16BE(internetChecksum(pseudoHeader(o.src, o.dst, IPPROTO_ICMPV6, 32), msg), 2);
  return msg;
}

/** A whole IPv4 TCP frame carrying "weft", from `from`:`sport` to `to`:`dport`. */
export function tcpFrame4(o: {
  dst: string;
  src: string;
  from: string;
  to: string;
  sport: number;
  dport: number;
  flags: number;
  ttl?: number;
}): Buffer {
  return ethernet({
    dst: o.dst,
    src: o.src,
    type: ETH_P_IP,
    payload: ipv4({
      src: o.from,
      dst: o.to,
      protocol: IPPROTO_TCP,
      ttl: o.ttl ?? 64,
      payload: tcp({
        src: o.from,
        dst: o.to,
        sport: o.sport,
        dport: o.dport,
        flags: o.flags,
        payload: Buffer.from('weft'),
      }),
    }),
  });
}

/** A whole IPv4 UDP frame carrying "weft"; checksum false leaves the UDP checksum zero. */
export function udpFrame4(o: {
  dst: string;
  src: string;
  from: string;
  to: string;
  sport: number;
  dport: number;
  ttl?: number;
  checksum?: boolean;
}): Buffer {
  return ethernet({
    dst: o.dst,
    src: o.src,
    type: ETH_P_IP,
    payload: ipv4({
      src: o.from,
      dst: o.to,
      protocol: IPPROTO_UDP,
      ttl: o.ttl ?? 64,
      payload: udp({
        src: o.from,
        dst: o.to,
        sport: o.sport,
        dport: o.dport,
        checksum: o.checksum,
        payload: Buffer.from('weft'),
      }),
    }),
  });
}
