// config-api benchmark. A weft-config-api daemon runs in its own process (as deployed), with its
// SQLite file in a temp dir (WAL, synchronous=FULL: every acknowledged create is durable).
//   1. Creates: 64 concurrent clients, each creating a virtual-machine-interface and then an
//      instance-ip for it (one "pair"), over keep-alive HTTP/1.1; pairs/s and request latency.
//   2. The same creates with WEFT_CONFIG_API_SYNC=normal (no fsync per commit: survives kill -9,
//      not power loss), on a fresh store, for comparison.
//   3. Reads: 64 concurrent clients reading interfaces by uuid (with their back-references), in
//      rounds that alternate with the same reads of the baseline, so that both see the same
//      machine (it is shared, and its load moves by the second); the ratio is the median of the
//      ratios of paired rounds, and each server's CPU time per read (from /proc) is given besides.
//   4. The same creates through a config-api daemon on a 3-member etcd cluster (WEFT_STORE=etcd,
//      etcd from Debian on loopback ports, fsync on), for the HA mode.
// Baselines, in the same run: a bare fastify app in its own process with a POST route that parses
// the JSON body and answers a small JSON object, and a GET route answering a stored object of
// the same size, driven by the same clients; and for etcd, raw puts of an object of the same size
// by 64 concurrent etcd3 clients' calls from this process to the same cluster (one etcd request
// per put, where a create through config-api is one etcd transaction).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEtcdCluster } from '@weft/config-api/testing';
import { freePort, tempDir, waitFor } from '@weft/kit/testing';
import { Etcd3 } from 'etcd3';

const CLIENTS = 64;
const CREATE_SECONDS = Number(process.env.BENCH_CREATE_SECONDS ?? 10);
const READ_SECONDS = Number(process.env.BENCH_READ_SECONDS ?? 5);
/** Read rounds per contender, alternating; READ_SECONDS is split among them. */
const READ_ROUNDS = Number(process.env.BENCH_READ_ROUNDS ?? 10);
/** BENCH_CONFIG_API_ONLY=etcd runs only the HA mode's rows (config-api on etcd, raw puts, raw transactions). */
const ONLY_ETCD = process.env.BENCH_CONFIG_API_ONLY === 'etcd';
/** Creates' shapes per raw transaction in the grouped row (8 × 8 = 64 creates in flight, as with 64 clients). */
const GROUP = 8;

const configApiDir = dirname(fileURLToPath(import.meta.resolve('@weft/config-api')));
const configApiMain = join(configApiDir, 'main.js');

// The baseline server: fastify, from the config-api package's own dependencies.
const BARE_FASTIFY = `
import Fastify from 'fastify';
const app = Fastify({ bodyLimit: 1024 * 1024 });
const stored = JSON.parse(process.env.BARE_OBJECT);
let next = 0;
app.post('/things', async (request) => ({ thing: { uuid: String(next++), name: request.body.thing.fq_name.at(-1) } }));
app.get('/thing/:uuid', async () => stored);
await app.listen({ host: '127.0.0.1', port: Number(process.env.BARE_PORT) });
`;

interface Reply {
  status: number;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
/** The admin token of each daemon (by its URL), which it made at its start: every request sends it. */
const tokens = new Map<string, string>();

function call(base: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${base}${path}`,
      {
        method,
        agent,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(tokens.has(base) ? { 'x-auth-token': tokens.get(base)! } : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

function startProcess(args: string[], env: Record<string, string>, cwd?: string) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WEFT_')));
  const child = spawn(process.execPath, args, {
    env: { ...inherited, ...env },
    cwd,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitUp(url: string) {
  await waitFor(
    () =>
      call(url, 'GET', '/healthz').then(
        () => true,
        () => false,
      ),
    { timeoutMs: 20_000, what: url },
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Run {
  operations: number;
  seconds: number;
  latencies: number[];
  failures: number;
}

/** Runs `step` in `clients` loops for `seconds`; each step reports the latencies of its requests. */
async function drive(
  seconds: number,
  step: (client: number, index: number) => Promise<number[] | undefined>,
  clients = CLIENTS,
): Promise<Run> {
  const latencies: number[] = [];
  let operations = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let index = 0; performance.now() < deadline; index++) {
        const measured = await step(client, index);
        if (measured) {
          operations += 1;
          latencies.push(...measured);
        } else {
          failures += 1;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { operations, seconds: (performance.now() - started) / 1000, latencies, failures };
}

async function timed(base: string, method: string, path: string, body?: unknown): Promise<[Reply, number]> {
  const started = performance.now();
  const reply = await call(base, method, path, body);
  return [reply, performance.now() - started];
}

const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A weft-config-api daemon in its own process, on a fresh store (SQLite, or etcd when given endpoints). */
async function startDaemon(synchronous: 'full' | 'normal', etcd?: string[]) {
  const state = tempDir('weft-bench-config-api-');
  const [restPort, natsPort] = [await freePort(), await freePort()];
  // BENCH_CONFIG_API_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p" profiles the daemon.
  const nodeArgs = (process.env.BENCH_CONFIG_API_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const daemon = startProcess([...nodeArgs, configApiMain], {
    WEFT_STATE_DIR: state.path,
    WEFT_CONFIG_API_REST_PORT: String(restPort),
    WEFT_CONFIG_API_GRPC_PORT: '0',
    WEFT_CONFIG_API_HOST: '127.0.0.1',
    WEFT_CONFIG_API_SYNC: synchronous,
    ...(etcd
      ? { WEFT_STORE: 'etcd', WEFT_ETCD_ENDPOINTS: etcd.join(','), WEFT_ETCD_PREFIX: `/bench/${randomUUID()}/` }
      : {}),
    // No NATS server: events are dropped and counted; the write path is what is measured.
    WEFT_NATS_URL: `nats://127.0.0.1:${natsPort}`,
    WEFT_LOG_LEVEL: 'error',
    // Requests are authenticated as deployed (the admin token), but not rate-limited: the
    // benchmark is 64 clients of one token as fast as the daemon answers.
    WEFT_CONFIG_API_RATE_LIMIT: '0',
  });
  const url = `http://127.0.0.1:${restPort}`;
  await waitUp(url);
  tokens.set(url, readFileSync(join(state.path, 'admin.token'), 'utf8').trim());
  return {
    url,
    pid: daemon.pid,
    stop: async () => {
      await daemon.stop();
      state.remove();
    },
  };
}

/** Pairs of interface + instance-ip, 64 clients at a time; the interfaces created are pushed to `interfaces`. */
async function createPairs(api: string, interfaces: string[]): Promise<Run> {
  // A /16 holds every address the run can ask for.
  const network = JSON.parse(
    (
      await call(api, 'POST', '/virtual-networks', {
        'virtual-network': {
          fq_name: ['default-domain', 'default-project', 'bench'],
          network_ipam_refs: [
            {
              to: ['default-domain', 'default-project', 'default-network-ipam'],
              attr: { ipam_subnets: [{ subnet: { ip_prefix: '10.128.0.0', ip_prefix_len: 16 } }] },
            },
          ],
        },
      })
    ).body,
  )['virtual-network'];
  return drive(CREATE_SECONDS, async (client, index) => {
    const [port, portMs] = await timed(api, 'POST', '/virtual-machine-interfaces', {
      'virtual-machine-interface': {
        fq_name: ['default-domain', 'default-project', `c${client}-${index}`],
        virtual_network_refs: [{ uuid: network.uuid }],
      },
    });
    if (port.status !== 200) return undefined;
    const portUuid = JSON.parse(port.body)['virtual-machine-interface'].uuid as string;
    const [address, addressMs] = await timed(api, 'POST', '/instance-ips', {
      'instance-ip': {
        virtual_network_refs: [{ uuid: network.uuid }],
        virtual_machine_interface_refs: [{ uuid: portUuid }],
      },
    });
    if (address.status !== 200) return undefined;
    interfaces.push(portUuid);
    return [portMs, addressMs];
  });
}

/**
 * CPU seconds (user + system) the main thread of a process has used so far, from /proc: the
 * thread that serves requests (a daemon's background threads, like config-api's WAL copier
 * after a burst of writes, are not the read's cost).
 */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After the command: state is field 3 of stat, so utime (14) and stime (15) are at 11 and 12 here.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Kernel clock ticks per second (USER_HZ), the unit of /proc/<pid>/stat times: 100 on Linux. */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) of every thread of a process so far (etcd's are many). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** The etcd members this process started (its children named etcd). */
function etcdPids(): number[] {
  const pids: number[] = [];
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    const children = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim();
    for (const child of children ? children.split(' ').map(Number) : []) {
      if (readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'etcd') pids.push(child);
    }
  }
  return pids;
}

/** CPU seconds `pids` (main threads of `mainThreadOf`, whole processes of the others) spend while `run` runs. */
async function withCpu<T>(mainThreadOf: number, run: () => Promise<T>): Promise<[T, { main: number; etcd: number }]> {
  const members = etcdPids();
  const etcdCpu = () => members.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
  const [mainBefore, etcdBefore] = [cpuSeconds(mainThreadOf), etcdCpu()];
  const result = await run();
  return [result, { main: cpuSeconds(mainThreadOf) - mainBefore, etcd: etcdCpu() - etcdBefore }];
}

interface ReadRounds {
  /** Reads per second of each round. */
  rates: number[];
  latencies: number[];
  operations: number;
  failures: number;
  cpuSeconds: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Contender {
  pid: number;
  step: (client: number, index: number) => Promise<number[] | undefined>;
}

/** Reads of both contenders in alternating rounds; each round's rate and the server's CPU time are kept. */
async function alternateReads(contenders: [Contender, Contender]): Promise<[ReadRounds, ReadRounds]> {
  const empty = (): ReadRounds => ({ rates: [], latencies: [], operations: 0, failures: 0, cpuSeconds: 0 });
  const results: [ReadRounds, ReadRounds] = [empty(), empty()];
  // A first round each, not counted: both servers (and the clients) warm up their code first.
  for (const contender of contenders) await drive(Math.min(1, READ_SECONDS / READ_ROUNDS), contender.step);
  for (let round = 0; round < READ_ROUNDS; round++) {
    for (const [index, contender] of contenders.entries()) {
      const cpuBefore = cpuSeconds(contender.pid);
      const run = await drive(READ_SECONDS / READ_ROUNDS, contender.step);
      const result = results[index]!;
      result.cpuSeconds += cpuSeconds(contender.pid) - cpuBefore;
      result.rates.push(run.operations / run.seconds);
      result.latencies.push(...run.latencies);
      result.operations += run.operations;
      result.failures += run.failures;
    }
  }
  for (const result of results) result.latencies.sort((a, b) => a - b);
  return results;
}

async function commitStats(api: string) {
  const metrics = (await call(api, 'GET', '/metrics')).body;
  const metric = (name: string) =>
    Number(metrics.match(new RegExp(`^weft_config_api_${name} (\\S+)$`, 'm'))?.[1] ?? NaN);
  const commits = metric('store_commit_duration_seconds_count');
  return {
    commits,
    msPerCommit: (1000 * metric('store_commit_duration_seconds_sum')) / commits,
    slow: commits - metric('store_commit_duration_seconds_bucket\\{le="0.025"\\}'),
    conflicts: metric('store_conflicts_total'),
  };
}

/** The HA mode: creates through config-api on a 3-member etcd, then raw puts and transactions on the same cluster. */
async function haRuns(storedSample?: string) {
  const cluster = await startEtcdCluster({ size: 3 });
  const etcdDaemon = await startDaemon('full', cluster.endpoints);
  const etcdInterfaces: string[] = [];
  const [etcdCreates, etcdCpu] = await withCpu(etcdDaemon.pid, () => createPairs(etcdDaemon.url, etcdInterfaces));
  const etcdStats = await commitStats(etcdDaemon.url);
  // The raw puts' object: an interface as config-api answers it (SQLite's, when that ran first).
  const sample =
    storedSample ?? (await call(etcdDaemon.url, 'GET', `/virtual-machine-interface/${etcdInterfaces[0]}`)).body;
  await etcdDaemon.stop();
  const etcd = new Etcd3({ hosts: cluster.endpoints });
  const prefix = `/bench-raw/${randomUUID()}/`;
  const [rawPuts, rawPutsCpu] = await withCpu(process.pid, () =>
    drive(CREATE_SECONDS, async (client, index) => {
      const started = performance.now();
      try {
        await etcd.put(`${prefix}${client}/${index}`).value(sample);
      } catch {
        return undefined;
      }
      return [performance.now() - started];
    }),
  );
  // The shape of one create without config-api: one transaction that requires its log key
  // absent and puts nine keys (the object and its log entry at the stored object's size, the
  // name, the reservation, two references, two back-references and the head, small).
  const shape = (at: string) => {
    const key = (part: string) => Buffer.from(`${at}${part}`);
    return {
      compare: { key: key('l'), target: 'Create' as const, result: 'Equal' as const, create_revision: 0 },
      success: ['o', 'l', 'n', 'a', 'r1', 'b1', 'r2', 'b2', 'h'].map((part) => ({
        request_put: { key: key(part), value: Buffer.from(part === 'o' || part === 'l' ? sample : part) },
      })),
    };
  };
  const [shaped, shapedCpu] = await withCpu(process.pid, () =>
    drive(CREATE_SECONDS, async (client, index) => {
      const { compare, success } = shape(`${prefix}txn/${client}/${index}/`);
      const started = performance.now();
      try {
        await etcd.kv.txn({ compare: [compare], success });
      } catch {
        return undefined;
      }
      return [performance.now() - started];
    }),
  );
  // What a group commit could reach at most: the same 64 creates in flight, as 8 transactions of
  // 8 creates' shapes each (their compares and puts side by side). Each operation counts 8.
  const [grouped, groupedCpu] = await withCpu(process.pid, () =>
    drive(
      CREATE_SECONDS,
      async (client, index) => {
        const shapes = Array.from({ length: GROUP }, (_, n) => shape(`${prefix}group/${client}/${index}/${n}/`));
        const started = performance.now();
        try {
          await etcd.kv.txn({
            compare: shapes.map((one) => one.compare),
            success: shapes.flatMap((one) => one.success),
          });
        } catch {
          return undefined;
        }
        const ms = performance.now() - started;
        return Array.from({ length: GROUP }, () => ms);
      },
      CLIENTS / GROUP,
    ),
  );
  etcd.close();
  await cluster.dispose();
  const cpu = { etcdCreates: etcdCpu, rawPuts: rawPutsCpu, shaped: shapedCpu, grouped: groupedCpu };
  return { etcdCreates, etcdStats, etcdInterfaces, rawPuts, shaped, grouped, cpu };
}

function haReport(ha: Awaited<ReturnType<typeof haRuns>>, sqliteCreates?: Run) {
  const { etcdCreates, etcdStats, etcdInterfaces, rawPuts, shaped, grouped, cpu } = ha;
  const rate = (run: Run) => run.operations / run.seconds;
  const latency = (run: { latencies: number[] }) =>
    `${fmt(percentile(run.latencies, 50), 1)} / ${fmt(percentile(run.latencies, 99), 1)} ms`;
  // Per create request (two per pair) against one etcd request per raw put.
  const createRate = (run: Run) => (2 * run.operations) / run.seconds;
  const perOperation = (seconds: number, operations: number) => fmt((1000 * seconds) / operations, 2);
  process.stdout.write(
    `\nHA mode: ${CLIENTS} concurrent clients for ${CREATE_SECONDS} s each, one run; a create is one etcd transaction ` +
      '(its keys, references, reservations and log entry); the baseline is a raw etcd put of an object of the same size. ' +
      'CPU per create: the main thread of the process that talks to etcd (config-api, or this benchmark for the raw rows), ' +
      'and the three etcd members together.\n\n' +
      '| measure | creates/s | ratio to raw etcd puts | p50 / p99 per request | CPU ms per create: client / etcd |\n' +
      '| --- | ---: | ---: | ---: | ---: |\n',
  );
  // [what, creates (or puts) done, the run, CPU spent meanwhile]
  const haRows: [string, number, Run, { main: number; etcd: number } | undefined][] = [
    ['raw etcd puts (etcd3 client, 3 members)', rawPuts.operations, rawPuts, cpu.rawPuts],
    ["raw etcd transactions of one create's shape (9 keys, fenced)", shaped.operations, shaped, cpu.shaped],
    [
      `raw etcd transactions of ${GROUP} creates' shapes each, ${CLIENTS / GROUP} at a time (a group commit's ceiling)`,
      grouped.latencies.length,
      grouped,
      cpu.grouped,
    ],
    [
      'config-api on etcd (3 members), interface and instance-ip creates',
      2 * etcdCreates.operations,
      etcdCreates,
      cpu.etcdCreates,
    ],
  ];
  if (sqliteCreates) {
    haRows.push([
      'config-api on SQLite (synchronous=FULL), the same creates',
      2 * sqliteCreates.operations,
      sqliteCreates,
      undefined,
    ]);
  }
  for (const [what, done, run, used] of haRows) {
    const perSecond = done / run.seconds;
    const cpuCell = used ? `${perOperation(used.main, done)} / ${perOperation(used.etcd, done)}` : '';
    process.stdout.write(
      `| ${what} | ${fmt(perSecond)} | ${fmt(perSecond / rate(rawPuts), 2)} | ${latency(run)} | ${cpuCell} |\n`,
    );
  }
  const etcdRatio = createRate(etcdCreates) / rate(rawPuts);
  process.stdout.write(
    `\nGoal: config-api on etcd >= 0.5x raw etcd puts: ${fmt(etcdRatio, 2)}x, ${etcdRatio >= 0.5 ? 'met' : 'missed'}. ` +
      `Against raw transactions of the same shape: ${fmt(createRate(etcdCreates) / rate(shaped), 2)}x. ` +
      `Failed operations: config-api on etcd ${etcdCreates.failures}, raw puts ${rawPuts.failures}, raw transactions ${shaped.failures}; ` +
      `${fmt(etcdInterfaces.length)} interfaces with an address stored on etcd; ` +
      `${fmt(etcdStats.commits)} etcd transactions for ${fmt(2 * etcdCreates.operations + 1)} creates, ` +
      `${fmt(etcdStats.msPerCommit, 2)} ms per etcd transaction, ${fmt(etcdStats.conflicts)} writes run again after a conflict.\n`,
  );
}

async function main() {
  if (ONLY_ETCD) {
    haReport(await haRuns());
    agent.destroy();
    return;
  }
  const barePort = await freePort();
  const bare = `http://127.0.0.1:${barePort}`;

  // SQLite (the default): the creates here, and later the reads of what they made.
  const sqliteDaemon = await startDaemon('full');
  let daemon = sqliteDaemon;
  const interfaces: string[] = [];
  const creates = await createPairs(daemon.url, interfaces);
  const stats = await commitStats(daemon.url);
  const sample = (await call(daemon.url, 'GET', `/virtual-machine-interface/${interfaces[0]}`)).body;

  // The HA mode, with raw puts of the interface as SQLite stored it.
  const ha = await haRuns(sample);

  const bareServer = startProcess(
    ['--input-type=module', '-e', BARE_FASTIFY],
    { BARE_PORT: String(barePort), BARE_OBJECT: sample },
    configApiDir,
  );
  await waitFor(
    () =>
      call(bare, 'GET', '/thing/x').then(
        (reply) => reply.status === 200,
        () => false,
      ),
    { timeoutMs: 20_000, what: 'bare fastify' },
  );
  // The reads go to the SQLite daemon, which holds the interfaces they ask for.
  const daemonUrl = sqliteDaemon.url;
  const [reads, bareReads] = await alternateReads([
    {
      pid: sqliteDaemon.pid,
      step: async (client, index) => {
        const uuid = interfaces[(client * 7919 + index * 104_729) % interfaces.length]!;
        const [reply, ms] = await timed(daemonUrl, 'GET', `/virtual-machine-interface/${uuid}`);
        return reply.status === 200 ? [ms] : undefined;
      },
    },
    {
      pid: bareServer.pid,
      step: async () => {
        const [reply, ms] = await timed(bare, 'GET', '/thing/x');
        return reply.status === 200 ? [ms] : undefined;
      },
    },
  ]);
  await sqliteDaemon.stop();

  daemon = await startDaemon('normal');
  const normalCreates = await createPairs(daemon.url, []);
  await daemon.stop();

  const bareCreates = await drive(CREATE_SECONDS, async (client, index) => {
    const [first, firstMs] = await timed(bare, 'POST', '/things', { thing: { fq_name: ['a', `c${client}-${index}`] } });
    const [second, secondMs] = await timed(bare, 'POST', '/things', {
      thing: { fq_name: ['b', `c${client}-${index}`] },
    });
    return first.status === 200 && second.status === 200 ? [firstMs, secondMs] : undefined;
  });
  await bareServer.stop();
  agent.destroy();

  const rate = (run: Run) => run.operations / run.seconds;
  const latency = (run: { latencies: number[] }) =>
    `${fmt(percentile(run.latencies, 50), 1)} / ${fmt(percentile(run.latencies, 99), 1)} ms`;
  const rows = [
    ['interface + instance-ip pairs created/s, durable (synchronous=FULL)', creates, bareCreates],
    ['pairs created/s with WEFT_CONFIG_API_SYNC=normal (survives kill -9, not power loss)', normalCreates, bareCreates],
  ] as const;
  process.stdout.write(
    `${CLIENTS} concurrent clients, keep-alive HTTP/1.1; creates for ${CREATE_SECONDS} s, reads for ${READ_SECONDS} s in ` +
      `${READ_ROUNDS} rounds alternating with the baseline's; ` +
      'config-api and the bare fastify baseline (two POSTs per pair; a GET of a stored object of the same size) each in their own process.\n\n',
  );
  process.stdout.write(
    '| measure | config-api | bare fastify | ratio | config-api p50 / p99 per request | bare p50 / p99 |\n| --- | ---: | ---: | ---: | ---: | ---: |\n',
  );
  for (const [what, run, baseline] of rows) {
    process.stdout.write(
      `| ${what} | ${fmt(rate(run))} | ${fmt(rate(baseline))} | ${fmt(rate(run) / rate(baseline), 2)} | ` +
        `${latency(run)} | ${latency(baseline)} |\n`,
    );
  }
  const readRate = median(reads.rates);
  const bareRate = median(bareReads.rates);
  const readRatio = median(reads.rates.map((rate, round) => rate / bareReads.rates[round]!));
  process.stdout.write(
    `| interface reads by uuid/s (with back-references; median round, ratio of paired rounds) | ${fmt(readRate)} | ` +
      `${fmt(bareRate)} | ${fmt(readRatio, 2)} | ${latency(reads)} | ${latency(bareReads)} |\n`,
  );
  const cpuPerRead = (1e6 * reads.cpuSeconds) / reads.operations;
  const bareCpuPerRead = (1e6 * bareReads.cpuSeconds) / bareReads.operations;
  process.stdout.write(
    `| server CPU time per read (µs) | ${fmt(cpuPerRead)} | ${fmt(bareCpuPerRead)} | ${fmt(bareCpuPerRead / cpuPerRead, 2)} | | |\n`,
  );
  haReport(ha, creates);

  const pairRate = rate(creates);
  const p99 = percentile(creates.latencies, 99);
  process.stdout.write(
    `\nTarget: >= 2,000 durable creates/s with p99 < 50 ms: ${fmt(pairRate * 2)} creates/s ` +
      `(${fmt(pairRate)} pairs/s), p99 ${fmt(p99, 1)} ms: ${pairRate * 2 >= 2000 && p99 < 50 ? 'met' : 'missed'}.\n` +
      `Target: reads by uuid >= 0.8x the bare route: ${fmt(readRatio, 2)}x: ${readRatio >= 0.8 ? 'met' : 'missed'} ` +
      `(rounds, reads/s: config-api ${reads.rates.map((r) => fmt(r)).join(', ')}; bare ${bareReads.rates.map((r) => fmt(r)).join(', ')}).\n` +
      `Failed operations: config-api ${creates.failures + reads.failures + normalCreates.failures}, baseline ` +
      `${bareCreates.failures + bareReads.failures}; ${fmt(interfaces.length)} interfaces with an address were stored.\n` +
      `Group commit (durable run): ${fmt(stats.commits)} commits for ${fmt(2 * creates.operations + 1)} creates ` +
      `(${fmt((2 * creates.operations) / stats.commits, 1)} per commit), ${fmt(stats.msPerCommit, 2)} ms per commit ` +
      `(writes + fsync), ${fmt(stats.slow)} commits over 25 ms.\n`,
  );
}

await main();
