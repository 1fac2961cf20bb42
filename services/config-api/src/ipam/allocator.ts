// Allocation of addresses, numbers (network id, VNI, security group id) and MACs. The store's
// reservations are the truth (one owner per value, enforced by its primary key); the cursors
// here only remember where the last search ended so that filling a large subnet stays linear.
// They are hints: forgotten on release and on a rolled-back write, never trusted for uniqueness,
// nor for exhaustion: another config-api replica (etcd store) may free values this one never
// hears of, so a search that finds nothing past its hint looks once more from the start.
import { randomBytes, randomInt } from 'node:crypto';
import { errors, invalid } from '../errors.js';
import type { WriteTx } from '../store/store.js';
import { type Family, formatAddress, parseAddress, prefixText } from './address.js';
import { hostRange, type Subnet } from './subnets.js';

/** Longest search for a free address before the subnet counts as full (keeps one request bounded). */
const MAX_PROBES = 1 << 22;

export const addressScope = (networkUuid: string) => `ip:${networkUuid}`;

export interface AddressRequest {
  /** The address asked for, if any. */
  address?: string;
  family?: Family;
  subnetUuid?: string;
  /** Where the address goes in the body (instance_ip_address, floating_ip_address). */
  field: string;
}

export class Allocator {
  /** scope → key → next position to try. */
  readonly #cursors = new Map<string, Map<string, bigint>>();

  /** Forgets every hint: after a write rolled back, a hint may point past a value that is free again. */
  forgetHints(): void {
    this.#cursors.clear();
  }

  /** A value of `scope` was released: searches must look from the start again. */
  released(scope: string): void {
    this.#cursors.delete(scope);
  }

  #cursor(scope: string, key: string): bigint | undefined {
    return this.#cursors.get(scope)?.get(key);
  }

  #setCursor(scope: string, key: string, value: bigint): void {
    let byKey = this.#cursors.get(scope);
    if (!byKey) {
      byKey = new Map();
      this.#cursors.set(scope, byKey);
    }
    byKey.set(key, value);
  }

  /** Takes an address of the network for `owner`: the one requested, or the next free one. */
  allocateAddress(
    tx: WriteTx,
    network: { uuid: string; name: string },
    subnets: Subnet[],
    request: AddressRequest,
    owner: string,
  ): string {
    const scope = addressScope(network.uuid);
    if (request.address !== undefined) return this.#takeRequested(tx, scope, subnets, request, owner);
    const candidates = subnets.filter(
      (subnet) =>
        (request.family === undefined || subnet.prefix.family === request.family) &&
        (request.subnetUuid === undefined || subnet.uuid === request.subnetUuid),
    );
    if (request.subnetUuid !== undefined && candidates.length === 0) {
      throw invalid('subnet_uuid', `${request.subnetUuid} is not a subnet of ${network.name}`);
    }
    if (candidates.length === 0) {
      throw errors.ADDRESS_EXHAUSTED({
        field: request.field,
        network: `${network.name} (it has no ${request.family ? `IPv${request.family} ` : ''}subnet)`,
      });
    }
    const found = this.#search(tx, scope, candidates, owner, true);
    if (found !== undefined) return found;
    // The hints, and a run-again's jump ahead, only choose where to look first; the jump can land
    // past the end of a small pool. Before the network counts as full, every address is looked
    // at from the start.
    if (this.#cursors.has(scope) || tx.attempt) {
      this.#cursors.delete(scope);
      const again = this.#search(tx, scope, candidates, owner, false);
      if (again !== undefined) return again;
    }
    throw errors.ADDRESS_EXHAUSTED({ field: request.field, network: network.name });
  }

  /**
   * The next free address of the candidates from the hints on, or undefined. `spread`: a write
   * run again after a collision starts a random distance ahead.
   */
  #search(tx: WriteTx, scope: string, candidates: Subnet[], owner: string, spread: boolean): string | undefined {
    let probes = 0;
    for (const subnet of candidates) {
      const skip = new Set([subnet.gateway, subnet.dns]);
      for (const [poolIndex, pool] of subnet.pools.entries()) {
        const key = `${subnet.uuid}/${poolIndex}`;
        const step = subnet.fromStart ? 1n : -1n;
        const begin = subnet.fromStart ? pool.start : pool.end;
        let position = this.#cursor(scope, key) ?? begin;
        // Run again after colliding with another replica, which searches from the same place:
        // jump a random distance ahead so that the two stop taking the same values.
        if (spread && tx.attempt) position += step * BigInt(randomInt(0, 16 << Math.min(tx.attempt, 6)));
        for (; subnet.fromStart ? position <= pool.end : position >= pool.start; position += step) {
          if (++probes > MAX_PROBES) break;
          if (skip.has(position)) continue;
          const text = formatAddress({ family: subnet.prefix.family, value: position });
          if (tx.reserve(scope, text, owner)) {
            this.#setCursor(scope, key, position + step);
            return text;
          }
        }
        this.#setCursor(scope, key, position);
      }
    }
    return undefined;
  }

  #takeRequested(tx: WriteTx, scope: string, subnets: Subnet[], request: AddressRequest, owner: string): string {
    const address = parseAddress(request.address as string);
    if (!address) throw invalid(request.field, `${JSON.stringify(request.address)} is not an IP address`);
    const text = formatAddress(address);
    const subnet = subnets.find(
      (candidate) =>
        candidate.prefix.family === address.family &&
        address.value >= candidate.prefix.network &&
        address.value <= candidate.prefix.last,
    );
    if (!subnet) {
      throw invalid(request.field, `${text} is outside every subnet of the network`);
    }
    const { first, last } = hostRange(subnet.prefix);
    if (address.value < first || address.value > last) {
      throw invalid(request.field, `${text} is not a host address of ${prefixText(subnet.prefix)}`);
    }
    if (address.value === subnet.gateway) {
      throw errors.ADDRESS_TAKEN({ field: request.field, address: text, reason: 'is the gateway of its subnet' });
    }
    if (address.value === subnet.dns) {
      throw errors.ADDRESS_TAKEN({ field: request.field, address: text, reason: 'is the DNS address of its subnet' });
    }
    if (!tx.reserve(scope, text, owner)) {
      const holder = tx.reservationOwner(scope, text);
      throw errors.ADDRESS_TAKEN({ field: request.field, address: text, reason: `is already held by ${holder}` });
    }
    return text;
  }

  /** Takes the lowest free number from `min` (network ids, VNIs, security group ids). */
  allocateNumber(tx: WriteTx, scope: string, owner: string, min: number, max: number): number {
    let hint = this.#cursor(scope, '');
    if (hint !== undefined && tx.attempt) hint += BigInt(randomInt(0, 16 << Math.min(tx.attempt, 6)));
    for (const from of hint === undefined ? [min] : [Number(hint), min]) {
      for (let next = from; next <= max; next++) {
        if (tx.reserve(scope, String(next), owner)) {
          this.#setCursor(scope, '', BigInt(next + 1));
          return next;
        }
      }
    }
    throw errors.VALUE_TAKEN({ field: scope, value: `every number up to ${max}` });
  }

  /** A locally administered unicast MAC no other interface has. */
  allocateMac(tx: WriteTx, owner: string): string {
    for (;;) {
      const bytes = randomBytes(6);
      bytes[0] = 0x02; // locally administered, unicast
      const mac = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(':');
      if (tx.reserve('mac', mac, owner)) return mac;
    }
  }
}
