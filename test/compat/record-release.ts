// Records the last release into test/compat/last-release/, run when a release is cut:
//
//   pnpm run --silent build && node test/dist/compat/record-release.js [--commit REF]
//
// REF (default HEAD) is the release's commit. The .proto files and the chart are taken from
// REF itself (git archive); the NATS and REST examples are recorded from this checkout's build,
// so the checkout's proto/, services/ and charts/ must be exactly REF's (refused otherwise).
// accepted-breaks.json starts over, empty, against the new release.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@weft/kit/testing';
import { repoRoot } from '../support/stack.js';
import { recordFromRunningCode } from './examples.js';
import { acceptedBreaksFile, lastRelease, lastReleaseDir, type ReleaseManifest } from './release.js';

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

async function main() {
  const at = process.argv.indexOf('--commit');
  const ref = at >= 0 ? process.argv[at + 1] : 'HEAD';
  if (!ref) throw new Error('--commit needs a git ref');
  const commit = git('rev-parse', '--verify', `${ref}^{commit}`);
  const drift = spawnSync('git', ['diff', '--quiet', commit, '--', 'proto', 'services', 'charts'], { cwd: repoRoot });
  if (drift.status !== 0)
    throw new Error(
      `proto/, services/ or charts/ differ from ${ref} (${commit.slice(0, 12)}): the examples would not be ` +
        "the release's; record from a checkout of the release",
    );
  const version = JSON.parse(git('show', `${commit}:package.json`)).version as string;

  const scratch = tempDir('weft-release-');
  try {
    execFileSync('sh', ['-c', `git archive ${commit} proto/weft charts/weft | tar -x -C "${scratch.path}"`], {
      cwd: repoRoot,
    });
    rmSync(lastReleaseDir, { recursive: true, force: true });
    mkdirSync(lastRelease.nats, { recursive: true });
    mkdirSync(join(lastRelease.rest, '..'), { recursive: true });
    mkdirSync(join(lastRelease.configStore, '..'), { recursive: true });
    cpSync(join(scratch.path, 'proto', 'weft'), join(lastRelease.proto, 'weft'), { recursive: true });
    cpSync(join(scratch.path, 'charts', 'weft'), lastRelease.chart, { recursive: true });
  } finally {
    scratch.remove();
  }

  const { nats, rest } = await recordFromRunningCode(lastRelease.configStore);
  for (const example of nats) writeFileSync(join(lastRelease.nats, `${example.name}.json`), json(example));
  writeFileSync(lastRelease.rest, json(rest));
  const manifest: ReleaseManifest = {
    version,
    commit,
    recordedAt: new Date().toISOString(),
    howToRefresh: 'pnpm run --silent build && node test/dist/compat/record-release.js --commit <release commit>',
  };
  writeFileSync(lastRelease.manifest, json(manifest));
  writeFileSync(acceptedBreaksFile, json({ release: commit, breaks: [] }));
  process.stdout.write(
    `recorded release ${version} from ${commit}: ${nats.length} NATS examples, ${rest.length} REST exchanges\n`,
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`record-release: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
