// Fault cases about a full disk on a host: the directory where h1's agent records its ports (the
// one file it writes in its state directory) on a small tmpfs, filled to the last byte. The
// agent keeps forwarding and answering CNI: a pod it cannot record is refused with a reason
// naming the full disk (nothing attached), a pod deleted meanwhile is deleted, and its log and
// its UVE say what it cannot write.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitFor } from '@weft/kit/testing';
import type { FaultCase } from './cases.js';
import { fillUp } from './fill-up.js';

/** Replaces the files of `to` with those of `from`. */
function copyRecords(from: string, to: string): void {
  for (const file of readdirSync(to)) rmSync(join(to, file), { force: true });
  for (const file of readdirSync(from)) if (file.endsWith('.json')) cpSync(join(from, file), join(to, file));
}

let runs = 0;

export function agentDiskFull(): FaultCase {
  let portsDir = '';
  let saved: ReturnType<typeof tempDir> | undefined;
  let doomed = '';
  return {
    name: "agent's disk full (h1)",
    // No churn: a churned pod's deletion frees its record's page, and the next ADD would fit.
    inject: async (lab) => {
      runs += 1;
      const host = lab.host('h1');
      portsDir = join(lab.dir, host.name, 'ports');
      // A pod made before the disk fills, deleted while it is full.
      doomed = `diskfull${runs}`;
      await lab.addPod(doomed, 'h1', ['red']);
      // The records so far go onto the tmpfs, so that the agent's view and the files agree.
      saved = tempDir('weft-faults-ports-');
      copyRecords(portsDir, saved.path);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', portsDir]);
      copyRecords(saved.path, portsDir);
      fillUp(join(portsDir, 'filler'));
    },
    holdMs: 5_000,
    during: async (lab) => {
      const host = lab.host('h1');
      let refusal = '';
      let added = false;
      try {
        const pod = await lab.addPod(`diskfull${runs}new`, 'h1', ['red']);
        added = true;
        await lab.deletePod(pod.name).catch(() => undefined);
      } catch (error) {
        refusal = error instanceof Error ? error.message : String(error);
      }
      if (added) throw new Error('a pod was added while the disk was full');
      if (!/disk is full/.test(refusal)) throw new Error(`ADD on a full disk failed without saying why: ${refusal}`);
      await lab.deletePod(doomed);
      const log = readFileSync(join(lab.dir, 'logs', `agent-${host.name}.log`), 'utf8');
      if (!log.includes('the disk is full: cannot record the port'))
        throw new Error('the agent did not log the full disk');
      let uve = '';
      await waitFor(
        async () => {
          const response = await fetch(`${lab.analyticsUrl}/analytics/uves/vrouter/${host.name}`, {
            headers: lab.authHeaders,
          });
          uve = await response.text();
          return /"state_write_error":"cannot write[^"]*ENOSPC/.test(uve);
        },
        { timeoutMs: 15_000, intervalMs: 500, what: 'the vrouter UVE to say what the agent cannot write' },
      );
      const code = /"code":\s*(\d+)/.exec(refusal)?.[1] ?? '?';
      return `ADD refused (code ${code}, "disk is full … nothing attached"), DEL done, log and UVE state_write_error say so`;
    },
    recover: async () => {
      rmSync(join(portsDir, 'filler'), { force: true });
      const kept = tempDir('weft-faults-ports-');
      try {
        copyRecords(portsDir, kept.path);
        execFileSync('umount', [portsDir]);
        mkdirSync(portsDir, { recursive: true });
        copyRecords(kept.path, portsDir);
      } finally {
        kept.remove();
        saved?.remove();
      }
    },
  };
}

export const diskFaultCases: FaultCase[] = [agentDiskFull()];
