// The load a fault case runs under, and what each load lost: a 20 ms ping between pods on two
// hosts (packets lost during the fault and after it), a stream of REST writes (writes config-api
// acknowledged and no longer has), and pod churn through weft-cni (CNI calls that failed).
import { spawn } from 'node:child_process';
import type { ConfigClient } from '../lab/config-client.js';
import { PROJECT } from '../lab/config-client.js';
import type { Lab } from '../lab/lab.js';
import { netnsPath } from '../lab/shell.js';

export interface PingVerdict {
  sent: number;
  /** Lost between the fault's injection and the system's return to ready. */
  lostDuring: number;
  /** Lost after the return to ready. */
  lostAfter: number;
}

/**
 * Pings every 20 ms from a pod. A packet counts as lost when a later one was answered and it was
 * not: the one in flight when ping is stopped is not a loss. `mark()` notes where in the sequence
 * the fault began and ended, from the highest answer so far.
 */
export function continuousPing(lab: Lab, fromPod: string, address: string) {
  const pod = lab.pods.find((item) => item.name === fromPod);
  if (!pod) throw new Error(`no pod ${fromPod}`);
  const child = spawn('nsenter', [`--net=${netnsPath(pod.netns)}`, 'ping', '-i', '0.02', '-W', '1', address], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const answered = new Set<number>();
  let highest = 0;
  const started = Date.now();
  child.stdout.on('data', (chunk: Buffer) => {
    for (const match of chunk.toString().matchAll(/icmp_seq=(\d+)/g)) {
      const seq = Number(match[1]);
      answered.add(seq);
      highest = Math.max(highest, seq);
    }
  });
  // Where the sequence stood at a moment: the packets sent by then, by the 20 ms clock (ping
  // keeps sending while nothing answers, so the highest answer would lag behind).
  const now = () => Math.max(highest, Math.floor((Date.now() - started) / 20));
  return {
    answered: () => answered.size,
    now,
    stop: async (faultFrom: number, faultTo: number): Promise<PingVerdict> => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
      const sentSoFar = Math.max(0, ...answered);
      let lostDuring = 0;
      let lostAfter = 0;
      for (let seq = 1; seq <= sentSoFar; seq += 1) {
        if (answered.has(seq)) continue;
        if (seq <= faultTo && seq > faultFrom) lostDuring += 1;
        else if (seq > faultTo) lostAfter += 1;
      }
      return { sent: sentSoFar, lostDuring, lostAfter };
    },
  };
}

export interface WriteVerdict {
  acknowledged: number;
  refused: number;
  /** Acknowledged, and not there when read back after the fault. */
  lost: number;
}

/** Creates network policies back to back (one in flight), noting each one config-api acknowledged. */
export function restWrites(config: ConfigClient, tag: string) {
  const acknowledged: string[] = [];
  let refused = 0;
  let running = true;
  const loop = (async () => {
    for (let index = 0; running; index += 1) {
      try {
        const created = await config.create('network-policy', {
          fq_name: [...PROJECT, `${tag}-${index}`],
          parent_type: 'project',
        });
        acknowledged.push(created.uuid);
      } catch {
        refused += 1;
        // A config-api that is down refuses at once; don't spin.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  })();
  return {
    acknowledged: () => acknowledged.length,
    stop: async (): Promise<WriteVerdict> => {
      running = false;
      await loop;
      let lost = 0;
      for (const uuid of acknowledged) {
        try {
          await config.read('network-policy', uuid);
        } catch {
          lost += 1;
        }
      }
      return { acknowledged: acknowledged.length, refused, lost };
    },
  };
}

export interface ChurnVerdict {
  added: number;
  deleted: number;
  /** ADDs that failed, each with its CNI error code (11: try again later) or its message. */
  addFailures: string[];
  /** DELs that failed: pod teardown that would block. */
  deleteFailures: string[];
}

function cniFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /"code":\s*(\d+)/.exec(message)?.[1] ?? message;
}

/** Adds and deletes one pod after another on a host through weft-cni, as a runtime would. */
export function podChurn(lab: Lab, hostName: string, network: string, tag: string) {
  const verdict: ChurnVerdict = { added: 0, deleted: 0, addFailures: [], deleteFailures: [] };
  let running = true;
  const loop = (async () => {
    for (let index = 0; running; index += 1) {
      const name = `${tag}${index}`;
      try {
        await lab.addPod(name, hostName, [network]);
        verdict.added += 1;
      } catch (error) {
        verdict.addFailures.push(cniFailure(error));
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      try {
        await lab.deletePod(name);
        verdict.deleted += 1;
      } catch (error) {
        verdict.deleteFailures.push(cniFailure(error));
      }
    }
  })();
  return {
    stop: async (): Promise<ChurnVerdict> => {
      running = false;
      await loop;
      return verdict;
    },
  };
}
