// What every map module is made of: a map spec (name, sizes, key and value encoding) and the
// layouts of the C structs it encodes, which the layout test compares with the C compiler's.
// Fields in host byte order use the machine's order, as the kernel stores them; addresses and
// ports are network order, as on the wire.
import { isIPv4, isIPv6 } from 'node:net';
import { endianness } from 'node:os';
import { errors } from '../errors.js';

/** A C struct as the encoders see it: its size and the offset of each field they touch. */
export interface StructLayout {
  /** The struct's name in bpf/lib/structs.h, without `struct`. */
  struct: string;
  size: number;
  offsets: Record<string, number>;
}

export interface MapSpec<K, V> {
  /** Name of the map in the BPF object (versioned: a layout change gets a new name). */
  name: string;
  keySize: number;
  /** Size of one value; per-CPU maps hold one (rounded to 8 bytes) per possible CPU. */
  valueSize: number;
  maxEntries: number;
  perCpu: boolean;
  encodeKey(key: K): Buffer;
  decodeKey(buf: Buffer): K;
  encodeValue(value: V): Buffer;
  decodeValue(buf: Buffer): V;
}

const LITTLE = endianness() === 'LE';

export function writeU16Host(buf: Buffer, value: number, offset: number): void {
  if (LITTLE) buf.writeUInt16LE(value, offset);
  else buf.writeUInt16BE(value, offset);
}

export function readU16Host(buf: Buffer, offset: number): number {
  return LITTLE ? buf.readUInt16LE(offset) : buf.readUInt16BE(offset);
}

export function writeU32Host(buf: Buffer, value: number, offset: number): void {
  if (LITTLE) buf.writeUInt32LE(value >>> 0, offset);
  else buf.writeUInt32BE(value >>> 0, offset);
}

export function readU32Host(buf: Buffer, offset: number): number {
  return LITTLE ? buf.readUInt32LE(offset) : buf.readUInt32BE(offset);
}

export function readU64Host(buf: Buffer, offset: number): bigint {
  return LITTLE ? buf.readBigUInt64LE(offset) : buf.readBigUInt64BE(offset);
}

export function u32Key(value: number, field: string): Buffer {
  checkU32(value, field);
  const buf = Buffer.alloc(4);
  writeU32Host(buf, value, 0);
  return buf;
}

export function checkU32(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw errors.INVALID_FIELD({ field, reason: `must be an integer from 0 to 4294967295, got ${value}` });
  }
}

export function checkRange(value: number, field: string, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw errors.INVALID_FIELD({ field, reason: `must be an integer from ${min} to ${max}, got ${value}` });
  }
}

/** "02:00:00:00:00:01" → 6 bytes. */
export function macBytes(mac: string, field: string): Buffer {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) {
    throw errors.INVALID_FIELD({ field, reason: `must be a MAC address like 02:00:00:00:00:01, got "${mac}"` });
  }
  return Buffer.from(mac.split(':').map((byte) => Number.parseInt(byte, 16)));
}

export function macString(buf: Buffer): string {
  return [...buf].map((byte) => byte.toString(16).padStart(2, '0')).join(':');
}

/** An IPv4 address → 4 bytes, network order. */
export function ipv4Bytes(address: string, field: string): Buffer {
  if (!isIPv4(address)) throw errors.INVALID_FIELD({ field, reason: `must be an IPv4 address, got "${address}"` });
  return Buffer.from(address.split('.').map(Number));
}

export function ipv4String(buf: Buffer): string {
  return [...buf.subarray(0, 4)].join('.');
}

/** An IPv6 address → 16 bytes, network order. */
export function ipv6Bytes(address: string, field: string): Buffer {
  if (!isIPv6(address) || address.includes('.')) {
    throw errors.INVALID_FIELD({ field, reason: `must be an IPv6 address in hex groups, got "${address}"` });
  }
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const buf = Buffer.alloc(16);
  groups.forEach((group, i) => {
    buf.writeUInt16BE(Number.parseInt(group, 16), i * 2);
  });
  return buf;
}

export function ipv6String(buf: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(i).toString(16));
  // Shorten the longest run of zero groups, as RFC 5952 asks.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export interface Prefix {
  family: 4 | 6;
  /** Network order, host bits cleared. */
  address: Buffer;
  length: number;
}

/** "10.1.0.0/24" or "fd00::/64" → a prefix with host bits cleared; a bare address is a host prefix. */
export function parsePrefix(cidr: string, field: string): Prefix {
  const [address = '', lengthText] = cidr.split('/');
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0;
  if (family === 0) throw errors.INVALID_FIELD({ field, reason: `must be a CIDR prefix, got "${cidr}"` });
  const bits = family === 4 ? 32 : 128;
  const length = lengthText === undefined ? bits : Number(lengthText);
  if (!Number.isInteger(length) || length < 0 || length > bits || lengthText === '') {
    throw errors.INVALID_FIELD({ field, reason: `prefix length must be 0 to ${bits}, got "${cidr}"` });
  }
  const bytes = family === 4 ? ipv4Bytes(address, field) : ipv6Bytes(address, field);
  return { family, address: maskBytes(bytes, length), length };
}

export function prefixString(prefix: Prefix): string {
  const address = prefix.family === 4 ? ipv4String(prefix.address) : ipv6String(prefix.address);
  return `${address}/${prefix.length}`;
}

/** The first `length` bits of `bytes`, the rest zero. */
export function maskBytes(bytes: Buffer, length: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    out[i] = (out[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** A mask of `length` leading one bits over `size` bytes. */
export function maskOf(length: number, size: number): Buffer {
  return maskBytes(Buffer.alloc(size, 0xff), length);
}

/** IPv4 as the flow key and ACL rules store it: ::ffff:a.b.c.d. */
export function mappedIpv4(ipv4: Buffer): Buffer {
  const out = Buffer.alloc(16);
  out.writeUInt16BE(0xffff, 10);
  ipv4.copy(out, 12, 0, 4);
  return out;
}

/** The address in a flow key or rule, back to text (IPv4-mapped shown as IPv4). */
export function flowAddressString(buf: Buffer, family: number): string {
  return family === 4 ? ipv4String(buf.subarray(12, 16)) : ipv6String(buf);
}
