// `buf breaking` of a .proto tree against the last release's, with the rules that keep a
// mixed-version controller talking: WIRE_JSON (a message encoded by one version decodes in the
// other, in protobuf's binary form and in its JSON mapping). buf comes from the npm package
// @bufbuild/buf, which ships the binary.
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tempDir } from '@weft/kit/testing';
import { compatDir, type Problem } from './release.js';

/** The buf configuration both sides are read with (test/compat/buf.yaml). */
export const bufConfig = join(compatDir, 'buf.yaml');

export function bufBinary(): string {
  return createRequire(import.meta.url).resolve('@bufbuild/buf/bin/buf');
}

interface BufFinding {
  path: string;
  start_line?: number;
  type: string;
  message: string;
}

/**
 * The breaking changes from `against` to `current` (two folders that hold the weft/… tree).
 * Throws when buf itself fails (a .proto that does not compile), with buf's own message.
 */
export function protoBreaks(current: string, against: string): Problem[] {
  // Only the weft/ trees are compared: proto/ also holds node_modules with other packages'
  // .proto files, and buf names files relative to the folder it runs in.
  const scratch = tempDir('weft-buf-');
  try {
    cpSync(join(current, 'weft'), join(scratch.path, 'current', 'weft'), { recursive: true });
    cpSync(join(against, 'weft'), join(scratch.path, 'against', 'weft'), { recursive: true });
    return runBuf(join(scratch.path, 'current'));
  } finally {
    scratch.remove();
  }
}

function runBuf(cwd: string): Problem[] {
  const result = spawnSync(
    bufBinary(),
    [
      'breaking',
      '.',
      '--against',
      '../against',
      '--config',
      bufConfig,
      '--against-config',
      bufConfig,
      '--error-format',
      'json',
    ],
    { encoding: 'utf8', cwd },
  );
  if (result.error) throw result.error;
  if (result.status === 0) return [];
  const findings: BufFinding[] = [];
  for (const line of result.stdout.split('\n')) {
    if (line.trim() === '') continue;
    try {
      findings.push(JSON.parse(line) as BufFinding);
    } catch {
      throw new Error(`buf breaking failed:\n${result.stdout}${result.stderr}`);
    }
  }
  if (findings.length === 0) throw new Error(`buf breaking failed (${result.status}):\n${result.stderr}`);
  return findings.map((f) => ({
    kind: 'proto' as const,
    path: f.path,
    rule: f.type,
    message: `${f.start_line ? `line ${f.start_line}: ` : ''}${f.message}`,
  }));
}
