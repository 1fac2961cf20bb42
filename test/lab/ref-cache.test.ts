// The cache of built trees (ref-cache.ts) in a temp folder: after a build only the N most
// recently used trees stay, by the marker each use touches; the tree just asked for, one being
// built and one a running process was started from are never deleted; builtTree marks a tree it
// hands out as used. The trees are folders shaped as the cache's (a commit id, a build stamp).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir, waitFor } from '@weft/kit/testing';
import { markUsed, processesOf, pruneRefCache } from './ref-cache.js';
import { builtTree, commitOf } from './upgrade.js';

const commitName = (n: number) => n.toString(16).padStart(40, 'a');

/** A built tree in `cache`, last used `minutesAgo`. */
function tree(cache: string, n: number, minutesAgo: number): string {
  const path = join(cache, commitName(n));
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, '.weft-built'), 'built\n');
  markUsed(path);
  const when = new Date(Date.now() - minutesAgo * 60_000);
  utimesSync(join(path, '.weft-used'), when, when);
  return path;
}

test('after a build only the N most recently used trees stay, the one just asked for always', (t) => {
  const cache = tempDir('weft-ref-cache-');
  t.after(cache.remove);
  const trees = [1, 2, 3, 4, 5].map((n) => tree(cache.path, n, n * 10));
  // Not a tree: left alone.
  writeFileSync(join(cache.path, `${commitName(9)}.lock`), '');
  mkdirSync(join(cache.path, 'notes'));
  const removed = pruneRefCache(cache.path, { keep: 3, current: trees[4] });
  assert.deepEqual(removed, [trees[3]]);
  assert.deepEqual(
    readdirSync(cache.path).sort(),
    [commitName(1), commitName(2), commitName(3), commitName(5), `${commitName(9)}.lock`, 'notes'].sort(),
  );
  // Using an old tree makes it recent: the next prune deletes another.
  markUsed(trees[4]!);
  assert.deepEqual(pruneRefCache(cache.path, { keep: 2, current: trees[1] }), [trees[2]]);
  assert.throws(() => pruneRefCache(cache.path, { keep: 0 }), /keep 0: expected a whole number of trees, 1 or more/);
});

test('a tree being built or run from is never deleted', async (t) => {
  const cache = tempDir('weft-ref-cache-');
  t.after(cache.remove);
  const built = tree(cache.path, 1, 1);
  const building = tree(cache.path, 2, 20);
  const running = tree(cache.path, 3, 30);
  const idle = tree(cache.path, 4, 40);
  writeFileSync(`${building}.lock`, String(process.pid));
  // A daemon of a lab started from that tree, as the lab starts an older release's main.js.
  mkdirSync(join(running, 'services'));
  writeFileSync(join(running, 'services', 'main.js'), 'setInterval(() => {}, 1000);\n');
  const daemon = spawn(process.execPath, [join(running, 'services', 'main.js')], { stdio: 'ignore' });
  t.after(() => daemon.kill());
  await waitFor(() => processesOf(running).includes(daemon.pid!), { timeoutMs: 10_000, what: 'the daemon to run' });
  assert.deepEqual(pruneRefCache(cache.path, { keep: 1, current: built }), [idle]);
  assert.ok(existsSync(building) && existsSync(running));
  // Once the build and the daemon are over, they go too.
  daemon.kill();
  await waitFor(() => processesOf(running).length === 0, { timeoutMs: 10_000, what: 'the daemon to end' });
  writeFileSync(`${building}.lock`, '999999999');
  assert.deepEqual(pruneRefCache(cache.path, { keep: 1, current: built }).sort(), [building, running].sort());
});

test('builtTree marks a tree it hands out as used', (t) => {
  const cache = tempDir('weft-ref-cache-');
  t.after(cache.remove);
  const head = commitOf('HEAD');
  const path = join(cache.path, head);
  mkdirSync(path);
  writeFileSync(join(path, '.weft-built'), 'built\n');
  const others = [1, 2].map((n) => tree(cache.path, n, 0));
  assert.equal(builtTree('HEAD', { cacheDir: cache.path }), path);
  assert.ok(existsSync(join(path, '.weft-used')));
  // The freshest now: a prune keeping one keeps it.
  const before = new Date(Date.now() - 60_000);
  for (const other of others) utimesSync(join(other, '.weft-used'), before, before);
  assert.deepEqual(pruneRefCache(cache.path, { keep: 1 }).sort(), others.sort());
});
