// Soak: pod churn through weft-cni on every host of a three-host lab (one pod added then deleted
// after another, a lane per host), a 20 ms ping between two established pods across hosts, and
// REST writes, for `--minutes N` (3 by default, as `npm run bench` runs it; the issue's full soak
// is `node test/dist/bench/soak.bench.js --minutes 30`). Every daemon's heap and RSS are sampled
// at each tenth of the run and shown against the first sample (the goal is flat, no leak); at the
// end every churned pod's port and address must be gone. Needs root.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { upFaultLab } from '../faults/fault-lab.js';
import { continuousPing, podChurn } from '../faults/load.js';
import { PROJECT } from '../lab/config-client.js';
import type { Lab } from '../lab/lab.js';
import { labUnavailable } from '../lab/lab.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '3' } } });
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0) {
  process.stderr.write(`soak: --minutes must be a positive number, not ${values.minutes}\n`);
  process.exit(1);
}
const unavailable = labUnavailable();
if (unavailable) {
  process.stdout.write(`skipped: ${unavailable}\n`);
  process.exit(0);
}

interface Sample {
  atMinute: number;
  rssBytes: number;
  heapBytes: number;
}

function rssOf(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line?.[1] ?? 0) * 1024;
}

async function heapOf(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return Number(/^weft_\w+_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
}

/** Each daemon of the lab, with where its metrics answer. */
function daemonsOf(lab: Lab): { name: string; metricsUrl: string }[] {
  const { ports } = lab;
  return [
    { name: 'config-api', metricsUrl: `http://127.0.0.1:${ports.configRest}/metrics` },
    { name: 'control', metricsUrl: `http://127.0.0.1:${ports.controlHttp}/metrics` },
    { name: 'analytics', metricsUrl: `http://127.0.0.1:${ports.analytics}/metrics` },
    ...lab.topology.hosts.map((host) => ({ name: `agent-${host.name}`, metricsUrl: `${lab.agentUrl(host)}/metrics` })),
  ];
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const fault = await upFaultLab('soak', 3);
const { lab } = fault;
try {
  await lab.config.createNetwork('red', '10.42.0.0/20');
  await lab.addPod('a', 'h1', ['red']);
  await lab.addPod('b', 'h2', ['red']);
  const ping = continuousPing(lab, 'a', lab.podAddress('b', 'red'));
  const started = Date.now();
  const lanes = lab.topology.hosts.map((host, index) => podChurn(lab, host.name, 'red', `soak${index + 1}x`));
  const daemons = daemonsOf(lab);
  const samples = new Map<string, Sample[]>(daemons.map((daemon) => [daemon.name, []]));
  const take = async () => {
    const atMinute = (Date.now() - started) / 60_000;
    for (const daemon of daemons) {
      const pid = lab.process(daemon.name)?.pid;
      if (pid === undefined) continue;
      samples.get(daemon.name)!.push({ atMinute, rssBytes: rssOf(pid), heapBytes: await heapOf(daemon.metricsUrl) });
    }
  };
  for (let tenth = 0; tenth <= 10; tenth += 1) {
    await take();
    if (tenth < 10) await new Promise((resolve) => setTimeout(resolve, (minutes * 60_000) / 10));
  }
  const churned = await Promise.all(lanes.map((lane) => lane.stop()));
  const elapsedS = (Date.now() - started) / 1000;
  const pingVerdict = await ping.stop(0, Number.MAX_SAFE_INTEGER);

  // What must be back: only pods a and b hold a port and an address.
  const ports: string[] = [];
  for (const host of lab.topology.hosts) {
    const view = (await (await fetch(`${lab.agentUrl(host)}/host-state`, { headers: lab.authHeaders })).json()) as {
      ports: { container_id: string }[];
    };
    ports.push(...view.ports.map((port) => port.container_id));
  }
  const addresses = (await lab.config.request<{ 'instance-ips': unknown[] }>('GET', '/instance-ips'))['instance-ips'];
  const interfaces = (
    await lab.config.request<{ 'virtual-machine-interfaces': { fq_name: string[] }[] }>(
      'GET',
      '/virtual-machine-interfaces',
    )
  )['virtual-machine-interfaces'].filter((item) => item.fq_name[0] === PROJECT[0]);

  const added = churned.reduce((sum, lane) => sum + lane.added, 0);
  const deleted = churned.reduce((sum, lane) => sum + lane.deleted, 0);
  const failures = churned.flatMap((lane) => [...lane.addFailures, ...lane.deleteFailures]);
  process.stdout.write(
    `Soak of ${minutes} min on 3 lab hosts: ${added} pods added and ${deleted} deleted through weft-cni ` +
      `(${(added / elapsedS).toFixed(2)} pods/s across 3 lanes), ${failures.length} CNI calls failed` +
      `${failures.length > 0 ? ` (${[...new Set(failures)].slice(0, 3).join('; ')})` : ''}; ` +
      `ping every 20 ms: ${pingVerdict.lostDuring + pingVerdict.lostAfter} of ${pingVerdict.sent} lost. ` +
      `At the end: ports attached ${ports.length} (expected 2: ${ports.sort().join(', ')}), ` +
      `instance-ips ${addresses.length} (expected 2), virtual-machine-interfaces ${interfaces.length} (expected 2).\n\n`,
  );
  process.stdout.write(
    '| daemon | RSS first → last (MB) | RSS last / first | heap first → last (MB) | heap last / first | heap, each tenth (MB) |\n',
  );
  process.stdout.write('| --- | --- | --- | --- | --- | --- |\n');
  for (const [name, series] of samples) {
    const first = series[0]!;
    const last = series[series.length - 1]!;
    process.stdout.write(
      `| ${name} | ${mb(first.rssBytes)} → ${mb(last.rssBytes)} | ${(last.rssBytes / first.rssBytes).toFixed(2)} | ` +
        `${mb(first.heapBytes)} → ${mb(last.heapBytes)} | ${(last.heapBytes / first.heapBytes).toFixed(2)} | ` +
        `${series.map((sample) => mb(sample.heapBytes)).join(' ')} |\n`,
    );
  }
  if (ports.length !== 2 || addresses.length !== 2 || interfaces.length !== 2) process.exitCode = 1;
} finally {
  await fault.down();
}
