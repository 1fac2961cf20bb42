// Flow records across a fault: a stream of new UDP flows from one pod to another (one datagram
// per flow, a new source port every 20 ms, to a destination port of the case's own), and, once
// the fault is over, what analytics stored of them. The datapath samples every flow's first
// packet, so each host that saw a flow exports exactly one record of it; a flow sent with no
// record from a host that recorded the others is lost, a second record of it is doubled.
import { spawn } from 'node:child_process';
import type { Lab } from '../lab/lab.js';
import { netnsPath } from '../lab/shell.js';

export interface FlowVerdict {
  /** Flows sent (one datagram each). */
  sent: number;
  /** Per host that exported any of them: flows with no record, and records beyond one per flow. */
  hosts: { host: string; stored: number; lost: number; doubled: number }[];
}

const FIRST_SOURCE_PORT = 20_000;

// Runs in the pod's network namespace: one socket per flow, bound to the next source port, one
// datagram, closed; the port is printed once it was handed to the kernel.
const SENDER = `
const dgram = require('node:dgram');
const [address, port, first] = process.argv.slice(1);
let next = Number(first);
setInterval(() => {
  const sourcePort = next++;
  const socket = dgram.createSocket('udp4');
  socket.bind(sourcePort, () => socket.send('weft-flow', Number(port), address, (error) => {
    if (!error) process.stdout.write(sourcePort + '\\n');
    socket.close();
  }));
  socket.on('error', () => socket.close());
}, 20);
`;

interface Group {
  host: string;
  source_port: number;
  'COUNT(*)': number;
}

async function storedGroups(lab: Lab, source: string, destinationPort: number): Promise<Group[]> {
  const response = await fetch(`${lab.analyticsUrl}/analytics/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...lab.authHeaders },
    body: JSON.stringify({
      table: 'FlowRecordTable',
      start_time: 'now-1h',
      end_time: 'now+1h',
      select_fields: ['host', 'source_port', 'COUNT(*)'],
      where: [
        [
          { name: 'source_ip', value: source },
          { name: 'destination_port', value: destinationPort },
          { name: 'protocol', value: 17 },
        ],
      ],
      limit: 100_000,
    }),
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 200) throw new Error(`analytics query: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { value: Group[] }).value;
}

export function verdictOf(sent: number[], groups: Group[]): FlowVerdict {
  const byHost = new Map<string, Map<number, number>>();
  for (const group of groups) {
    const ports = byHost.get(group.host) ?? new Map<number, number>();
    ports.set(group.source_port, group['COUNT(*)']);
    byHost.set(group.host, ports);
  }
  const hosts = [...byHost.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([host, ports]) => {
      let lost = 0;
      let doubled = 0;
      for (const port of sent) {
        const count = ports.get(port) ?? 0;
        if (count === 0) lost += 1;
        else doubled += count - 1;
      }
      return { host, stored: ports.size, lost, doubled };
    });
  return { sent: sent.length, hosts };
}

/**
 * Starts the flows from `fromPod` to `address`:`destinationPort`. `stop()` ends them and waits
 * (up to `settleMs`) until analytics holds a record of every flow from each host that exported
 * any, then says what was lost or doubled.
 */
export function flowLoad(lab: Lab, fromPod: string, address: string, destinationPort: number) {
  const pod = lab.pods.find((item) => item.name === fromPod);
  if (!pod) throw new Error(`no pod ${fromPod}`);
  const source = lab.podAddress(fromPod, lab.pods.find((item) => item.name === fromPod)!.networks[0]!);
  const child = spawn(
    'nsenter',
    [
      `--net=${netnsPath(pod.netns)}`,
      process.execPath,
      '-e',
      SENDER,
      address,
      String(destinationPort),
      String(FIRST_SOURCE_PORT),
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const sent: number[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line) sent.push(Number(line));
  });
  return {
    stop: async (settleMs = 30_000): Promise<FlowVerdict> => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      // A flow's record leaves the agent within its export interval (2 s) and is stored soon after.
      const until = Date.now() + settleMs;
      let verdict = verdictOf(sent, []);
      for (;;) {
        try {
          verdict = verdictOf(sent, await storedGroups(lab, source, destinationPort));
        } catch {
          // analytics not answering yet: try again until the deadline
        }
        const complete = verdict.hosts.length > 0 && verdict.hosts.every((host) => host.lost === 0);
        if (complete || Date.now() > until) break;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      // Redeliveries may still be on their way after the last record arrived: look once more.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      return verdictOf(sent, await storedGroups(lab, source, destinationPort));
    },
  };
}

export function flowSummary(verdict: FlowVerdict): string {
  if (verdict.hosts.length === 0) return `0 of ${verdict.sent} stored`;
  return verdict.hosts.map((host) => `${host.host.replace(/^.*-/, '')}: ${host.lost} / ${host.doubled}`).join(', ');
}
