// Traffic between two network namespaces with the real tools: iperf3 (TCP throughput, with the
// CPU both ends used) and sockperf (TCP request/response latency). Used by the lab tests and by
// the datapath benchmark, on pods built by weft-cni and on the Linux baseline's namespaces alike.
import { spawn, spawnSync } from 'node:child_process';
import { waitFor } from '@weft/kit/testing';
import { netnsPath } from './shell.js';

export interface Endpoints {
  /** Network namespace names (under /var/run/netns) of the client and the server. */
  clientNs: string;
  serverNs: string;
  serverAddress: string;
  /** Where the client connects when not serverAddress: a floating IP or a NAT's address. */
  connectAddress?: string;
}

export interface Iperf3Result {
  gbitPerSecond: number;
  /** CPU of the client and server processes, in percent of one core, as iperf3 reports it. */
  clientCpuPercent: number;
  serverCpuPercent: number;
  retransmits: number;
}

const inNs = (netns: string, command: string, args: string[]) =>
  ['nsenter', [`--net=${netnsPath(netns)}`, command, ...args]] as const;

function listening(netns: string, address: string, port: number): boolean {
  const [command, args] = inNs(netns, 'ss', ['-ltn']);
  const wanted = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  return spawnSync(command, args, { encoding: 'utf8' }).stdout.includes(wanted);
}

/** One iperf3 run (TCP, `streams` parallel streams) from the client namespace to the server. */
export async function iperf3(
  { clientNs, serverNs, serverAddress, connectAddress }: Endpoints,
  { seconds, streams = 1, port = 5201 }: { seconds: number; streams?: number; port?: number },
): Promise<Iperf3Result> {
  const [command, args] = inNs(serverNs, 'iperf3', ['-s', '-1', '-B', serverAddress, '-p', String(port)]);
  const server = spawn(command, args, { stdio: 'ignore' });
  try {
    await waitFor(() => listening(serverNs, serverAddress, port), { what: 'the iperf3 server', timeoutMs: 10_000 });
    const [clientCommand, clientArgs] = inNs(clientNs, 'iperf3', [
      '-c',
      connectAddress ?? serverAddress,
      '-p',
      String(port),
      '-t',
      String(seconds),
      '-P',
      String(streams),
      '-J',
    ]);
    const client = spawnSync(clientCommand, clientArgs, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
    const report = JSON.parse(client.stdout || '{}') as {
      error?: string;
      end?: {
        sum_received: { bits_per_second: number };
        sum_sent: { retransmits?: number };
        cpu_utilization_percent: { host_total: number; remote_total: number };
      };
    };
    if (client.status !== 0 || !report.end) {
      throw new Error(`iperf3 ${clientNs} → ${serverAddress} failed: ${report.error ?? client.stderr}`);
    }
    return {
      gbitPerSecond: report.end.sum_received.bits_per_second / 1e9,
      clientCpuPercent: report.end.cpu_utilization_percent.host_total,
      serverCpuPercent: report.end.cpu_utilization_percent.remote_total,
      retransmits: report.end.sum_sent.retransmits ?? 0,
    };
  } finally {
    server.kill();
  }
}

export interface LatencyResult {
  p50Us: number;
  p99Us: number;
  /** Round trips measured. */
  observations: number;
}

/** TCP request/response round trips (sockperf ping-pong, 64-byte messages) for `seconds`. */
export async function tcpRoundTrips(
  { clientNs, serverNs, serverAddress }: Endpoints,
  { seconds, port = 11111 }: { seconds: number; port?: number },
): Promise<LatencyResult> {
  const [command, args] = inNs(serverNs, 'sockperf', ['server', '--tcp', '-i', serverAddress, '-p', String(port)]);
  const server = spawn(command, args, { stdio: 'ignore' });
  try {
    await waitFor(() => listening(serverNs, serverAddress, port), { what: 'the sockperf server', timeoutMs: 10_000 });
    const [clientCommand, clientArgs] = inNs(clientNs, 'sockperf', [
      'ping-pong',
      '--tcp',
      '-i',
      serverAddress,
      '-p',
      String(port),
      '-t',
      String(seconds),
      '-m',
      '64',
    ]);
    const client = spawnSync(clientCommand, clientArgs, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
    const output = `${client.stdout}${client.stderr}`;
    const percentile = (which: string) => Number(output.match(new RegExp(`percentile ${which} =\\s+([\\d.]+)`))?.[1]);
    const observations = Number(output.match(/(\d+) observations/)?.[1] ?? 0);
    const result = { p50Us: percentile('50.000'), p99Us: percentile('99.000'), observations };
    if (client.status !== 0 || !(result.p50Us > 0) || !(result.p99Us > 0)) {
      throw new Error(`sockperf ${clientNs} → ${serverAddress} failed: ${output.slice(-2000)}`);
    }
    return result;
  } finally {
    server.kill();
  }
}
