// The BPF filesystem, where the agent pins its maps and programs so that they outlive it. It is
// not mounted at boot on every host, so the agent mounts it when it is missing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errors } from '../errors.js';

export const BPFFS = '/sys/fs/bpf';

export function isBpffsMounted(mountPoint = BPFFS): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => {
      const [, point, type] = line.split(' ');
      return point === mountPoint && type === 'bpf';
    });
}

export function ensureBpffs(mountPoint = BPFFS): void {
  if (isBpffsMounted(mountPoint)) return;
  mkdirSync(mountPoint, { recursive: true });
  const result = spawnSync('mount', ['-t', 'bpf', 'bpf', mountPoint], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw errors.KERNEL_CALL_FAILED({
      operation: `mount -t bpf bpf ${mountPoint}`,
      reason: (result.stderr || result.error?.message || `exit ${result.status}`).trim(),
    });
  }
}

/** The pin directory of one host's datapath: several agents (the netns lab) share one bpffs. */
export function hostPinRoot(hostName: string, base = join(BPFFS, 'weft')): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(hostName)) {
    throw errors.INVALID_FIELD({
      field: 'hostName',
      reason: `must be letters, digits, "_", "." or "-", got "${hostName}"`,
    });
  }
  return join(base, hostName);
}
