// The cache of built trees of other commits (upgrade.ts's builtTree: about 1 GB each, one per
// commit, and the "previous services commit" moves with every commit that changes services/):
// each use touches a marker, and after a build only the most recently used trees are kept. A tree
// still in use is never deleted: the one just asked for, one being built (its lock held by a live
// process), and one a running process was started from (a lab's daemons run its main.js files).
import { readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from './processes.js';

/** How many built trees the cache keeps by default: the recorded release, the previous commit, and one more. */
export const DEFAULT_REF_CACHE_KEEP = 3;

/** Touched at every use of a tree: its mtime says when the tree was last used. */
const USED_MARKER = '.weft-used';
const BUILT_STAMP = '.weft-built';
const COMMIT_NAME = /^[0-9a-f]{40}$/;

/** Records that `tree` is used now, so pruning keeps it among the most recent. */
export function markUsed(tree: string): void {
  writeFileSync(join(tree, USED_MARKER), `${new Date().toISOString()}\n`);
}

/** When a tree was last used: its marker, else its build stamp, else the folder itself. */
function lastUse(tree: string): number {
  for (const name of [USED_MARKER, BUILT_STAMP]) {
    try {
      return statSync(join(tree, name)).mtimeMs;
    } catch {}
  }
  return statSync(tree).mtimeMs;
}

/** The process holding a tree's build lock is alive. */
function beingBuilt(tree: string): boolean {
  try {
    const holder = Number(readFileSync(`${tree}.lock`, 'utf8'));
    // A lock being written is empty: taken as held.
    return !(holder > 0) || isAlive(holder);
  } catch {
    return false;
  }
}

/** The ids of processes started from inside `tree` (by a command-line argument or working directory there). */
export function processesOf(tree: string): number[] {
  const inside = `${tree}/`;
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const cwd = `${readlinkSync(`/proc/${name}/cwd`)}/`;
      if (argv.some((arg) => arg.startsWith(inside)) || cwd.startsWith(inside)) found.push(Number(name));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/**
 * Deletes every built tree of `cacheDir` but the `keep` most recently used, and never `current`
 * (the one just asked for), a tree being built, or one a process runs from. Returns the deleted
 * trees. Anything in the folder not named by a commit id is left alone.
 */
export function pruneRefCache(
  cacheDir: string,
  {
    keep = DEFAULT_REF_CACHE_KEEP,
    current,
    log = (_: string) => {},
  }: { keep?: number; current?: string; log?: (line: string) => void } = {},
): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep ${keep}: expected a whole number of trees, 1 or more`);
  const trees = readdirSync(cacheDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && COMMIT_NAME.test(entry.name))
    .map((entry) => join(cacheDir, entry.name))
    .map((tree) => ({ tree, used: lastUse(tree) }))
    .sort((a, b) => b.used - a.used);
  const removed: string[] = [];
  for (const { tree } of trees.slice(keep)) {
    if (tree === current) continue;
    if (beingBuilt(tree)) {
      log(`keeping ${tree}: it is being built`);
      continue;
    }
    const users = processesOf(tree);
    if (users.length > 0) {
      log(`keeping ${tree}: processes ${users.join(', ')} run from it`);
      continue;
    }
    log(`deleting ${tree}: not among the ${keep} most recently used built trees`);
    rmSync(tree, { recursive: true, force: true });
    removed.push(tree);
  }
  return removed;
}
