// The last release, as this checkout's compatibility checks see it. Weft has no release tags:
// a release is recorded into test/compat/last-release/ from a named commit by
// record-release.ts (run when a release is cut), and committed. That folder holds what the
// next version must stay compatible with: the .proto contracts, the chart, and examples of
// every NATS message and of REST requests with their answers. accepted-breaks.json lists the
// deliberate breaks against it, each with its migration; recording a new release empties it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/stack.js';

export const compatDir = join(repoRoot, 'test', 'compat');
export const lastReleaseDir = join(compatDir, 'last-release');
export const acceptedBreaksFile = join(compatDir, 'accepted-breaks.json');

export const lastRelease = {
  /** The recorded .proto tree (the weft/… folders, as under proto/). */
  proto: join(lastReleaseDir, 'proto'),
  /** The recorded umbrella chart, with its subcharts. */
  chart: join(lastReleaseDir, 'charts', 'weft'),
  /** One JSON file per NATS subject: the bytes a publisher sent, and what they decode to. */
  nats: join(lastReleaseDir, 'nats'),
  /** REST exchanges in order: requests, and the status and body they were answered with. */
  rest: join(lastReleaseDir, 'rest', 'exchanges.json'),
  /** config-api's SQLite file after the REST exchanges, as the release wrote it. */
  configStore: join(lastReleaseDir, 'state', 'config.sqlite'),
  manifest: join(lastReleaseDir, 'RELEASE.json'),
};

/** RELEASE.json: which commit the folder was recorded from. */
export interface ReleaseManifest {
  version: string;
  commit: string;
  recordedAt: string;
  howToRefresh: string;
}

export function readReleaseManifest(): ReleaseManifest {
  return JSON.parse(readFileSync(lastRelease.manifest, 'utf8')) as ReleaseManifest;
}

/** Where a break shows: a .proto rule of buf, a NATS subject's example, a REST exchange, a chart object. */
export type BreakKind = 'proto' | 'nats' | 'rest' | 'chart';

/**
 * A deliberate break against the last release. It matches a problem by kind, path (the .proto
 * file, the NATS example's file name, the REST exchange's name), the rule (buf's rule id; for
 * examples, the field path) and, when given, a piece of the message. The migration says how a
 * rollout crosses it; an entry without one is refused.
 */
export interface AcceptedBreak {
  kind: BreakKind;
  path: string;
  rule: string;
  message?: string;
  why: string;
  migration: string;
}

export interface Problem {
  kind: BreakKind;
  path: string;
  rule: string;
  message: string;
}

/** Reads and checks accepted-breaks.json (or another file); a bad entry names its index and field. */
export function readAcceptedBreaks(file = acceptedBreaksFile): AcceptedBreak[] {
  if (!existsSync(file)) return [];
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { release?: unknown; breaks?: unknown };
  const manifest = readReleaseManifest();
  if (parsed.release !== manifest.commit)
    throw new Error(
      `${file}: release ${JSON.stringify(parsed.release)} is not the recorded last release ${manifest.commit}; ` +
        'breaks are declared against one release and start over when a new one is recorded',
    );
  if (!Array.isArray(parsed.breaks)) throw new Error(`${file}: breaks must be an array`);
  return parsed.breaks.map((entry: Record<string, unknown>, index: number) => {
    for (const field of ['kind', 'path', 'rule', 'why', 'migration'] as const) {
      if (typeof entry[field] !== 'string' || (entry[field] as string).trim() === '')
        throw new Error(`${file}: breaks[${index}].${field} is required (a non-empty string)`);
    }
    if (!['proto', 'nats', 'rest', 'chart'].includes(entry.kind as string))
      throw new Error(`${file}: breaks[${index}].kind must be proto, nats, rest or chart`);
    return entry as unknown as AcceptedBreak;
  });
}

function matches(entry: AcceptedBreak, problem: Problem): boolean {
  return (
    entry.kind === problem.kind &&
    entry.path === problem.path &&
    entry.rule === problem.rule &&
    (entry.message === undefined || problem.message.includes(entry.message))
  );
}

/** Splits problems into those a declared break covers and those it does not. */
export function applyAcceptedBreaks(problems: Problem[], accepted: AcceptedBreak[]) {
  const declared: Problem[] = [];
  const undeclared: Problem[] = [];
  for (const problem of problems) (accepted.some((e) => matches(e, problem)) ? declared : undeclared).push(problem);
  return { declared, undeclared };
}

export function describeProblems(problems: Problem[]): string {
  return problems.map((p) => `${p.kind} ${p.path} [${p.rule}]: ${p.message}`).join('\n');
}
