// The subnets of a virtual network: validated when the network is written (a real prefix,
// gateway, DNS and pools inside it, no overlap inside the network) and completed with what the
// server assigns (subnet_uuid, default gateway, DNS address), as Tungsten Fabric does.
import { randomUUID } from 'node:crypto';
import type { IpamSubnet, VnSubnets } from '@weft/model';
import { invalid } from '../errors.js';
import {
  type Address,
  bitsOf,
  contains,
  type Family,
  formatAddress,
  overlaps,
  type Prefix,
  parseAddress,
  prefixOf,
  prefixText,
} from './address.js';

/** A subnet ready for allocation. */
export interface Subnet {
  uuid: string;
  prefix: Prefix;
  gateway: bigint | undefined;
  dns: bigint | undefined;
  /** Ranges to allocate from, in order; the whole host range when no pools are given. */
  pools: { start: bigint; end: bigint }[];
  fromStart: boolean;
  /** Where it is written in the body, for error messages. */
  field: string;
}

const MAX_PREFIX_LEN: Record<Family, number> = { 4: 30, 6: 126 };

/** First and last address a host may get: IPv4 leaves out network and broadcast, IPv6 the subnet-router anycast. */
export function hostRange(prefix: Prefix): { first: bigint; last: bigint } {
  return { first: prefix.network + 1n, last: prefix.family === 4 ? prefix.last - 1n : prefix.last };
}

function addressIn(text: string | undefined, prefix: Prefix, field: string, what: string): bigint | undefined {
  if (text === undefined) return undefined;
  const address = parseAddress(text);
  if (!address) throw invalid(field, `${JSON.stringify(text)} is not an IP address`);
  if (address.family !== prefix.family || (address.value === 0n && what === 'gateway')) {
    if (address.value === 0n) return undefined; // 0.0.0.0 or :: means "no gateway"
    throw invalid(field, `${text} is not an IPv${prefix.family} address like its subnet ${prefixText(prefix)}`);
  }
  const { first, last } = hostRange(prefix);
  if (!contains(prefix, address)) throw invalid(field, `${text} is outside the subnet ${prefixText(prefix)}`);
  if (address.value < first || address.value > last) {
    throw invalid(field, `${text} is not a host address of ${prefixText(prefix)}`);
  }
  return address.value;
}

function parsePrefix(subnet: IpamSubnet, field: string): Prefix {
  const text = subnet.subnet?.ip_prefix ?? '';
  const length = subnet.subnet?.ip_prefix_len ?? -1;
  const address = parseAddress(text);
  if (!address) throw invalid(`${field}.subnet.ip_prefix`, `${JSON.stringify(text)} is not an IP address`);
  const bits = bitsOf(address.family);
  if (length < 1 || length > MAX_PREFIX_LEN[address.family]) {
    throw invalid(
      `${field}.subnet.ip_prefix_len`,
      `must be 1 to ${MAX_PREFIX_LEN[address.family]} for IPv${address.family} (a longer prefix leaves no host address)`,
    );
  }
  const mask = ((1n << BigInt(length)) - 1n) << BigInt(bits - length);
  const network = address.value & mask;
  if (network !== address.value) {
    const suggested = formatAddress({ family: address.family, value: network });
    throw invalid(
      `${field}.subnet.ip_prefix`,
      `${text}/${length} has host bits set; the network is ${suggested}/${length}`,
    );
  }
  return prefixOf(address.family, network, length);
}

/**
 * Validates the ipam_subnets of every network_ipam_refs attr and fills in what the server
 * assigns. Mutates `refs` (the attr objects) and returns the subnets for allocation.
 */
export function normalizeSubnets(refs: { attr?: VnSubnets }[] | undefined): Subnet[] {
  const subnets: Subnet[] = [];
  (refs ?? []).forEach((ref, refIndex) => {
    (ref.attr?.ipam_subnets ?? []).forEach((ipamSubnet, index) => {
      const field = `network_ipam_refs[${refIndex}].attr.ipam_subnets[${index}]`;
      const prefix = parsePrefix(ipamSubnet, field);
      for (const other of subnets) {
        if (overlaps(other.prefix, prefix)) {
          throw invalid(
            `${field}.subnet`,
            `${prefixText(prefix)} overlaps ${prefixText(other.prefix)} of this network`,
          );
        }
      }
      const { first, last } = hostRange(prefix);
      const gatewayGiven = ipamSubnet.default_gateway !== undefined;
      const gateway = gatewayGiven
        ? addressIn(ipamSubnet.default_gateway, prefix, `${field}.default_gateway`, 'gateway')
        : first;
      const dns =
        ipamSubnet.dns_server_address !== undefined
          ? addressIn(ipamSubnet.dns_server_address, prefix, `${field}.dns_server_address`, 'dns')
          : last - (prefix.family === 4 ? 0n : 1n);
      const pools = (ipamSubnet.allocation_pools ?? []).map((pool, poolIndex) => {
        const poolField = `${field}.allocation_pools[${poolIndex}]`;
        const start = addressIn(pool.start, prefix, `${poolField}.start`, 'pool')!;
        const end = addressIn(pool.end, prefix, `${poolField}.end`, 'pool')!;
        if (start > end) throw invalid(poolField, `start ${pool.start} is after end ${pool.end}`);
        return { start, end };
      });
      ipamSubnet.subnet = {
        ip_prefix: formatAddress({ family: prefix.family, value: prefix.network }),
        ip_prefix_len: prefix.length,
      };
      ipamSubnet.subnet_uuid ??= randomUUID();
      ipamSubnet.default_gateway =
        gateway === undefined
          ? prefix.family === 4
            ? '0.0.0.0'
            : '::'
          : formatAddress({ family: prefix.family, value: gateway });
      if (dns !== undefined) ipamSubnet.dns_server_address = formatAddress({ family: prefix.family, value: dns });
      ipamSubnet.addr_from_start ??= false;
      subnets.push({
        uuid: ipamSubnet.subnet_uuid,
        prefix,
        gateway,
        dns,
        pools: pools.length > 0 ? pools : [{ start: first, end: last }],
        fromStart: ipamSubnet.addr_from_start,
        field,
      });
    });
  });
  return subnets;
}

const parsedSubnets = new Map<string, Subnet[]>();

/** After a rolled-back write: a revision number it used will be used again by another write. */
export function forgetParsedSubnets(): void {
  parsedSubnets.clear();
}

/** The subnets of a stored virtual network (normalized when it was written), parsed once per revision. */
export function subnetsOfNetwork(network: { uuid: string; revision: number; body: Record<string, unknown> }): Subnet[] {
  const key = `${network.uuid}@${network.revision}`;
  let subnets = parsedSubnets.get(key);
  if (!subnets) {
    subnets = normalizeSubnets(structuredClone(network.body.network_ipam_refs as { attr?: VnSubnets }[] | undefined));
    if (parsedSubnets.size >= 1_000) parsedSubnets.clear();
    parsedSubnets.set(key, subnets);
  }
  return subnets;
}

export type { Address };
