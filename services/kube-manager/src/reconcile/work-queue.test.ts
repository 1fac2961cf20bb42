// The work queue's promises: a key queued while it waits runs once; a key is never worked on
// twice at once, and one queued while it runs runs again after; a failure is retried.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkQueue } from './work-queue.js';

test('a key queued several times while it waits runs once', async () => {
  const runs: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const queue = new WorkQueue(
    async (key) => {
      if (key === 'blocker') await gate;
      runs.push(key);
    },
    { workers: 1 },
  );
  queue.add('blocker');
  for (let i = 0; i < 5; i++) queue.add('a');
  release();
  await queue.idle();
  assert.deepEqual(runs, ['blocker', 'a']);
});

test('a key is never worked on twice at once; queued while it runs, it runs again after', async () => {
  let running = 0;
  let most = 0;
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const queue = new WorkQueue(
    async () => {
      running++;
      most = Math.max(most, running);
      runs++;
      if (runs === 1) await gate;
      running--;
    },
    { workers: 4 },
  );
  queue.add('k');
  queue.add('k');
  queue.add('k');
  release();
  await queue.idle();
  assert.equal(most, 1);
  assert.equal(runs, 2);
});

test('a failure is retried until it succeeds', async () => {
  let attempts = 0;
  const errors: number[] = [];
  const queue = new WorkQueue(
    async () => {
      attempts++;
      if (attempts < 3) throw new Error('not yet');
    },
    { workers: 1, baseDelayMs: 1, onError: (_key, _error, attempt) => errors.push(attempt) },
  );
  queue.add('k');
  await queue.idle();
  assert.equal(attempts, 3);
  assert.deepEqual(errors, [1, 2]);
});
