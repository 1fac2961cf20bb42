// The allocator's hints never mean "full": a write that runs again after a collision with another
// replica (etcd) starts its search a random distance ahead, which in a small pool can land past
// its end; the network still gives every free address before it counts as exhausted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WriteTx } from '../store/store.js';
import { Allocator } from './allocator.js';
import { normalizeSubnets } from './subnets.js';

/** The part of a write transaction the allocator uses: reservations, and how often it ran. */
function reservations(attempt: number) {
  const taken = new Map<string, string>();
  const tx = {
    attempt,
    reserve: (scope: string, value: string, owner: string) => {
      const key = `${scope}|${value}`;
      if (taken.has(key)) return false;
      taken.set(key, owner);
      return true;
    },
  };
  return { tx: tx as unknown as WriteTx, taken };
}

/** Allocates until the network says it is full; returns the distinct addresses given. */
function allocateAll(attempt: number): Set<string> {
  // A /28: its host addresses but the gateway's and the DNS server's.
  const subnets = normalizeSubnets([
    { attr: { ipam_subnets: [{ subnet: { ip_prefix: '10.9.0.0', ip_prefix_len: 28 } }] } },
  ]);
  const network = { uuid: 'net-1', name: 'default-domain:default-project:small' };
  const allocator = new Allocator();
  const { tx } = reservations(attempt);
  const given = new Set<string>();
  for (let i = 0; i < 100; i++) {
    try {
      given.add(allocator.allocateAddress(tx, network, subnets, { field: 'instance_ip_address' }, `owner-${i}`));
    } catch (error) {
      assert.equal((error as { code?: string }).code, 'ADDRESS_EXHAUSTED');
      return given;
    }
  }
  throw new Error('a /28 never ran out');
}

test('a write run again many times still gets every free address of a small subnet before exhaustion', () => {
  const firstRun = allocateAll(0);
  assert.ok(firstRun.size >= 11, `a /28 gives its host addresses (${firstRun.size})`);
  // Attempt 6: each search starts up to 1,024 addresses ahead, far past the end of this pool.
  assert.deepEqual([...allocateAll(6)].sort(), [...firstRun].sort());
});
