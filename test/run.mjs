#!/usr/bin/env node
// Runs every test of the workspace with Node's own test runner, after the lint. Tests are the
// compiled `*.test.js` files of each package's dist/ (unit tests beside the code, cross-service
// tests under test/), so `deploy/setup.mjs test` (which builds) runs first.
//
//   node test/run.mjs [substring …]   only the test files whose path contains a substring
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);

function findTests(dir, found = []) {
  if (!existsSync(dir)) return found;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(path).isDirectory()) findTests(path, found);
    else if (name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

function packageDirs() {
  const services = readdirSync(join(root, 'services')).map((name) => join(root, 'services', name));
  return [join(root, 'proto'), ...services, join(root, 'test')];
}

if (filters.length === 0) {
  const lint = spawnSync(join(root, 'node_modules', '.bin', 'biome'), ['check', '--reporter=summary', '.'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (lint.status !== 0) {
    process.stderr.write('lint failed: run `npm run lint:fix` and look at what is left\n');
    process.exit(1);
  }
}

const files = packageDirs()
  .flatMap((dir) => findTests(join(dir, 'dist')))
  .map((file) => relative(root, file))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
if (files.length === 0) {
  process.stderr.write('no test files found: did the build run?\n');
  process.exit(1);
}

// Most tests wait on servers and the kernel rather than the CPU, so a little more than one
// file per core keeps both cores busy.
const concurrency = Math.max(2, availableParallelism());
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
