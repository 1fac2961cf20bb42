// Real devices for datapath tests and benchmarks: BPF_PROG_TEST_RUN resolves the ingress
// device, and the device map accepts only devices that exist, so fixtures need real ifindexes.
// veth pairs in the current network namespace, named uniquely per process and removed after.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let counter = 0;

export interface TestVeth {
  name: string;
  peer: string;
  ifindex: number;
  peerIfindex: number;
  remove(): void;
}

function ifindexOf(name: string): number {
  return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
}

/** A veth pair with both ends up; `remove` deletes it (and so its peer). */
export function createTestVeth(): TestVeth {
  counter += 1;
  const name = `wt${process.pid.toString(36)}x${counter}`.slice(0, 13);
  const peer = `${name}p`;
  execFileSync('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', peer]);
  execFileSync('ip', ['link', 'set', name, 'up']);
  execFileSync('ip', ['link', 'set', peer, 'up']);
  return {
    name,
    peer,
    ifindex: ifindexOf(name),
    peerIfindex: ifindexOf(peer),
    remove: () => {
      try {
        execFileSync('ip', ['link', 'del', name], { stdio: 'ignore' });
      } catch {
        // Already gone: nothing to remove.
      }
    },
  };
}
