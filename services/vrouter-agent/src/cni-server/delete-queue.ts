// The host's queue of deletions weft-cni could not hand to the agent (it was down, stopped or
// its socket gone): one file per container, each a weft.agent.v1.DetachRequest as JSON, written
// by the plugin under a temporary name and renamed into place. The agent carries each one out
// and then removes its file, so that a crash midway leaves the deletion queued (a detach is
// idempotent).
import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DetachRequest__Output } from '@weft/proto/gen/weft/agent/v1/DetachRequest.js';

export interface QueuedDeletion {
  file: string;
  request: DetachRequest__Output;
}

/**
 * Deletions waiting in `dir`, by name. A file that is not a request is reported and renamed to
 * `<name>.rejected`, so that it is looked at once, not at every drain.
 */
export function queuedDeletions(dir: string, onBadFile: (file: string, reason: string) => void): QueuedDeletion[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const found: QueuedDeletion[] = [];
  for (const name of names.filter((item) => item.endsWith('.json')).sort()) {
    const file = join(dir, name);
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DetachRequest__Output>;
      if (typeof parsed.container_id !== 'string' || parsed.container_id === '') {
        throw new Error('container_id is missing');
      }
      found.push({ file, request: { container_id: parsed.container_id, ifname: parsed.ifname ?? '' } });
    } catch (error) {
      onBadFile(file, error instanceof Error ? error.message : String(error));
      renameSync(file, `${file}.rejected`);
    }
  }
  return found;
}

export function removeQueuedDeletion(deletion: QueuedDeletion): void {
  rmSync(deletion.file, { force: true });
}
