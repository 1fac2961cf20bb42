#!/usr/bin/env node
// Runs every benchmark (test/dist/bench/*.bench.js), one after another so they do not compete
// for the two cores. Each prints a markdown table whose figures are ratios against a baseline
// measured in the same run; the latest tables are kept in test/bench/README.md.
//
//   npm run bench [-- name …]   only the benchmarks whose file name contains a name
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bench');
const filters = process.argv.slice(2);
const files = existsSync(benchDir)
  ? readdirSync(benchDir)
      .filter((name) => name.endsWith('.bench.js'))
      .filter((name) => filters.length === 0 || filters.some((filter) => name.includes(filter)))
      .sort()
  : [];
if (files.length === 0) {
  process.stderr.write('no benchmarks found: did the build run?\n');
  process.exit(1);
}
let failed = 0;
for (const file of files) {
  process.stdout.write(`\n## ${file.replace(/\.bench\.js$/, '')}\n\n`);
  const result = spawnSync(process.execPath, ['--expose-gc', join(benchDir, file)], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed += 1;
    process.stderr.write(`${file} failed with exit code ${result.status ?? result.signal}\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
