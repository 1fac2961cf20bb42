// The reconnect wait of a session: full jitter within the doubling ceiling, so that agents cut
// off together come back spread over the window, not in lockstep. The random source is a seeded
// generator (mulberry32), so every run draws the same numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullJitter, type RandomSource, ReconnectBackoff } from './backoff.js';

/** mulberry32: a small, well-known seeded generator of uniform numbers in [0, 1). */
function seeded(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('a wait is within [0, ceiling) at both ends of the random source', () => {
  assert.equal(
    fullJitter(5_000, () => 0),
    0,
  );
  assert.equal(
    fullJitter(5_000, () => 0.5),
    2_500,
  );
  assert.equal(
    fullJitter(5_000, () => 1 - Number.EPSILON),
    4_999,
  );
  assert.equal(
    fullJitter(1, () => 0.99),
    0,
  );
});

test('many agents at the same attempt wait spread over the whole window, not in lockstep', () => {
  const random = seeded(42);
  const ceiling = 5_000;
  const draws = Array.from({ length: 10_000 }, () => fullJitter(ceiling, random));
  for (const wait of draws) assert.ok(wait >= 0 && wait < ceiling, `${wait} outside [0, ${ceiling})`);
  // Ten equal slices of the window each hold about a tenth of the draws (1,000 expected).
  const slices = new Array(10).fill(0);
  for (const wait of draws) slices[Math.floor(wait / (ceiling / 10))] += 1;
  for (const [index, count] of slices.entries()) {
    assert.ok(count > 850 && count < 1_150, `slice ${index} holds ${count} of 10,000 draws`);
  }
  assert.ok(new Set(draws).size > 3_000, 'waits are not a handful of values');
  const mean = draws.reduce((sum, wait) => sum + wait, 0) / draws.length;
  assert.ok(Math.abs(mean - ceiling / 2) < 100, `mean ${mean}`);
});

test('the ceiling doubles per attempt up to the cap and starts over once connected', () => {
  const top = new ReconnectBackoff(100, 5_000, () => 1 - Number.EPSILON);
  assert.deepEqual(
    Array.from({ length: 8 }, () => top.next()),
    [99, 199, 399, 799, 1_599, 3_199, 4_999, 4_999],
  );
  top.reset();
  assert.equal(top.next(), 99);
  const random = seeded(7);
  const sessions = Array.from({ length: 1_000 }, () => new ReconnectBackoff(100, 5_000, random));
  // A thousand agents on their seventh attempt after one cut: none waits the same as most others.
  for (let attempt = 0; attempt < 6; attempt++) for (const session of sessions) session.next();
  const waits = sessions.map((session) => session.next());
  const alike = new Map<number, number>();
  for (const wait of waits) alike.set(wait, (alike.get(wait) ?? 0) + 1);
  const mostAlike = Math.max(...alike.values());
  assert.ok(mostAlike < 10, `${mostAlike} of 1,000 agents would reconnect at the same millisecond`);
});
