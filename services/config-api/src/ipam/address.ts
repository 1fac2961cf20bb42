// Addresses and prefixes as BigInt, for IPv4 and IPv6 alike, parsed strictly with ipaddr.js.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface Address {
  family: Family;
  value: bigint;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

export function bitsOf(family: Family): number {
  return BITS[family];
}

/** Parses "10.0.0.1" or "fd00::1"; undefined for anything else (no octal parts, zones or short forms). */
export function parseAddress(text: string): Address | undefined {
  if (typeof text !== 'string') return undefined;
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return { family: 4, value: bytesToBigInt(ipaddr.IPv4.parse(text).toByteArray()) };
  }
  if (text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text)) {
    const parsed = ipaddr.IPv6.parse(text);
    return { family: 6, value: bytesToBigInt(parsed.toByteArray()) };
  }
  return undefined;
}

function bytesToBigInt(bytes: number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** The canonical text of an address (how it is stored, so "fd00:0::1" and "fd00::1" are one). */
export function formatAddress({ family, value }: Address): string {
  const count = family === 4 ? 4 : 16;
  const bytes: number[] = new Array(count);
  let rest = value;
  for (let index = count - 1; index >= 0; index--) {
    bytes[index] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

export interface Prefix {
  family: Family;
  network: bigint;
  length: number;
  /** Last address of the prefix (the broadcast address in IPv4). */
  last: bigint;
}

export function prefixOf(family: Family, network: bigint, length: number): Prefix {
  const hostBits = BigInt(bitsOf(family) - length);
  return { family, network, length, last: network + (1n << hostBits) - 1n };
}

export function contains(prefix: Prefix, address: Address): boolean {
  return address.family === prefix.family && address.value >= prefix.network && address.value <= prefix.last;
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  return a.family === b.family && a.network <= b.last && b.network <= a.last;
}

export function prefixText(prefix: Prefix): string {
  return `${formatAddress({ family: prefix.family, value: prefix.network })}/${prefix.length}`;
}
