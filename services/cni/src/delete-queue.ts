// The host's queue of deletions the agent could not take (as Cilium's plugin keeps one): a DEL
// that finds the agent unreachable writes the container's DetachRequest (weft.agent.v1, as JSON)
// to a file of its own in the queue directory and succeeds, so that pod teardown never waits on
// the agent; the agent carries the queue out when it can. The file is written under a temporary
// name, synced and renamed into place, so that the agent never reads half of one.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DetachRequest } from '@weft/proto/gen/weft/agent/v1/DetachRequest.js';

/** One file per container (and interface, in delegate mode); the agent reads every `*.json`. */
export function queuedDeletionFile(containerId: string, ifname: string): string {
  // Container ids are hex or uuids and interface names kernel names; anything else is replaced,
  // since the name only needs to be unique, the request inside says what to detach.
  return `${[containerId, ifname].filter(Boolean).join('_')}.json`.replace(/[^\w.-]/g, '_');
}

export function queueDeletion(queueDir: string, request: DetachRequest): string {
  mkdirSync(queueDir, { recursive: true, mode: 0o700 });
  const path = join(queueDir, queuedDeletionFile(request.container_id ?? '', request.ifname ?? ''));
  // The temporary name is this process's own: two DELs of one container never share it, and the
  // agent skips names that do not end in .json.
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(request));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  return path;
}
