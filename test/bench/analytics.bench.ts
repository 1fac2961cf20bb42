// Analytics benchmark.
//   1. Ingest: flow records published to NATS as fast as one publisher can, stored by a
//      weft-analytics daemon (its own process, as deployed); baseline: a raw NATS subscriber in
//      this process counting the same messages in the same run.
//   2. Query: latency percentiles of POST /analytics/query over a store of many flow records
//      (hourly partitions over a day); baseline: the same SQL on one plain SQLite table with the
//      same rows, no partitions and no REST.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore, startAnalytics } from '@weft/analytics';
import { createLogger, createMetrics, NatsLink, Readiness } from '@weft/kit';
import { freePort, startNatsServer, tempDir, waitFor } from '@weft/kit/testing';
import { messageCodec } from '@weft/proto';

const INGEST_RECORDS = Number(process.env.BENCH_INGEST_RECORDS ?? 500_000);
const PER_MESSAGE = 100;
const QUERY_RECORDS = Number(process.env.BENCH_QUERY_RECORDS ?? 10_000_000);
const QUERY_RUNS = 40;

const analyticsMain = join(dirname(fileURLToPath(import.meta.resolve('@weft/analytics'))), 'main.js');
// The baseline uses the same SQLite library as analytics (a dependency of analytics, not of
// this package), through the few calls it needs.
interface PlainDatabase {
  pragma(text: string): unknown;
  exec(sql: string): void;
  prepare(sql: string): { run(row: object): unknown; all(...params: unknown[]): unknown[] };
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}
const Database = createRequire(import.meta.resolve('@weft/analytics'))('better-sqlite3') as new (
  path: string,
) => PlainDatabase;
/** A plain client connection (kit's link, the one every service uses). */
async function connect(url: string, name: string) {
  const link = new NatsLink({
    servers: [url],
    name,
    logger: createLogger({ service: 'bench', level: 'silent' }),
    metrics: createMetrics(`bench-${name}`),
    readiness: new Readiness(),
  });
  return { connection: await link.connection(), close: () => link.close() };
}

const flowBatch = messageCodec<object, unknown>('weft.analytics.v1.FlowBatch');

const networks = Array.from({ length: 20 }, (_, i) => `default-domain:tenant-${i % 5}:vn-${i}`);
function flowRecord(i: number, time: number) {
  return {
    record_id: `bench-${i}`,
    source_ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    destination_ip: `10.200.0.${i % 200}`,
    protocol: i % 3 === 0 ? 17 : 6,
    source_port: 1024 + (i % 60_000),
    destination_port: [80, 443, 53, 22][i % 4]!,
    source_virtual_network: networks[i % 20]!,
    destination_virtual_network: networks[(i * 7) % 20]!,
    host: `host-${i % 50}`,
    action: i % 10 === 0 ? 'FLOW_ACTION_DENY' : 'FLOW_ACTION_PASS',
    bytes: (i * 7919) % 100_000,
    packets: i % 100,
    first_seen_ms: time - 1_000,
    last_seen_ms: time,
  };
}

async function benchIngest() {
  const nats = await startNatsServer();
  const state = tempDir('weft-bench-analytics-');
  const port = await freePort();
  const daemon = spawn(process.execPath, [analyticsMain], {
    env: {
      ...process.env,
      WEFT_STATE_DIR: state.path,
      WEFT_NATS_URL: nats.url,
      WEFT_REST_PORT: String(port),
      WEFT_REST_HOST: '127.0.0.1',
      WEFT_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const restUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(`${restUrl}/readyz`)).ok, { what: 'analytics ready', timeoutMs: 30_000 });
    const stored = async () => {
      const text = await (await fetch(`${restUrl}/metrics`)).text();
      return Number(/^weft_analytics_records_stored_total\{table="FlowRecordTable"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    const now = Date.now();
    const messages: Uint8Array[] = [];
    for (let m = 0; m < INGEST_RECORDS / PER_MESSAGE; m++) {
      const records = Array.from({ length: PER_MESSAGE }, (_, i) => flowRecord(m * PER_MESSAGE + i, now - (i % 1000)));
      messages.push(flowBatch.encode({ records }));
    }
    const publisherLink = await connect(nats.url, 'publisher');
    const listenerLink = await connect(nats.url, 'listener');
    const publisher = publisherLink.connection;
    const listener = listenerLink.connection;
    let rawCount = 0;
    let rawDone = 0;
    const rawAll = new Promise<void>((resolve) => {
      listener.subscribe('weft.flow.>', {
        callback: (_error, message) => {
          // Decoding is part of counting records: the baseline does what analytics must do first.
          rawCount += (flowBatch.decode(message.data) as { records: unknown[] }).records.length;
          if (rawCount >= INGEST_RECORDS) {
            rawDone = performance.now();
            resolve();
          }
        },
      });
    });
    await listener.flush();

    const start = performance.now();
    for (let m = 0; m < messages.length; m++) {
      publisher.publish('weft.flow.host-1', messages[m]!);
      if (m % 200 === 199) await publisher.flush();
    }
    await publisher.flush();
    await rawAll;
    let storedAt = 0;
    await waitFor(
      async () => {
        if ((await stored()) < INGEST_RECORDS) return false;
        storedAt = performance.now();
        return true;
      },
      { what: `${INGEST_RECORDS} stored`, timeoutMs: 300_000, intervalMs: 20 },
    );
    const rawRate = INGEST_RECORDS / ((rawDone - start) / 1000);
    const storedRate = INGEST_RECORDS / ((storedAt - start) / 1000);
    await publisherLink.close();
    await listenerLink.close();
    return { rawRate, storedRate };
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
    await nats.dispose();
    state.remove();
  }
}

const HOUR = 3_600_000;

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function benchQueries() {
  const nats = await startNatsServer();
  const state = tempDir('weft-bench-analytics-query-');
  const baselineDir = tempDir('weft-bench-analytics-baseline-');
  const end = Math.floor(Date.now() / HOUR) * HOUR;
  const start = end - 24 * HOUR;
  try {
    // Fill the store the way ingest does (one transaction per batch) but without the bus: the
    // ingest rate is measured above, and this is about queries.
    const fillStart = performance.now();
    await fillThroughStore(state.path, start, end);
    const fillSeconds = (performance.now() - fillStart) / 1000;

    const baseline = new Database(join(baselineDir.path, 'plain.db'));
    baseline.pragma('journal_mode = WAL');
    baseline.exec(
      'CREATE TABLE flows (T INTEGER, record_id TEXT UNIQUE, source_ip TEXT, destination_ip TEXT, protocol INTEGER, destination_port INTEGER, source_virtual_network TEXT, destination_virtual_network TEXT, host TEXT, action TEXT, bytes INTEGER, packets INTEGER); CREATE INDEX flows_T ON flows (T);',
    );
    const insert = baseline.prepare(
      'INSERT INTO flows VALUES (@T, @record_id, @source_ip, @destination_ip, @protocol, @destination_port, @source_virtual_network, @destination_virtual_network, @host, @action, @bytes, @packets)',
    );
    const fillBaseline = baseline.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const r = flowRecord(i, start + Math.floor((i / QUERY_RECORDS) * 24 * HOUR));
        insert.run({ ...r, T: r.last_seen_ms, action: r.action === 'FLOW_ACTION_DENY' ? 'deny' : 'pass' });
      }
    });
    for (let i = 0; i < QUERY_RECORDS; i += 100_000) fillBaseline(i, Math.min(i + 100_000, QUERY_RECORDS));

    const running = await startAnalytics({
      stateDir: state.path,
      natsUrl: [nats.url],
      host: 'bench',
      retentionMs: 48 * HOUR,
      maxBytes: 64 * 1024 ** 3,
    });
    const queries = [
      {
        name: 'top 10 network pairs by bytes, last hour',
        body: {
          table: 'FlowRecordTable',
          start_time: end - HOUR,
          end_time: end,
          select_fields: ['source_virtual_network', 'destination_virtual_network', 'SUM(bytes)'],
          sort_fields: ['SUM(bytes)'],
          sort: 'desc',
          limit: 10,
        },
        sql: 'SELECT source_virtual_network, destination_virtual_network, SUM(bytes) AS s FROM flows WHERE T BETWEEN ? AND ? GROUP BY 1, 2 ORDER BY s DESC LIMIT 10',
        params: [end - HOUR, end],
      },
      {
        name: 'denied flows of one host, last 10 minutes',
        body: {
          table: 'FlowRecordTable',
          start_time: end - 10 * 60_000,
          end_time: end,
          select_fields: ['source_ip', 'destination_ip', 'destination_port', 'T'],
          where: [
            [
              { name: 'host', value: 'host-10' },
              { name: 'action', value: 'deny' },
            ],
          ],
          limit: 1000,
        },
        sql: "SELECT source_ip, destination_ip, destination_port, T FROM flows WHERE T BETWEEN ? AND ? AND host = ? AND action = 'deny' LIMIT 1000",
        params: [end - 10 * 60_000, end, 'host-10'],
      },
      {
        name: 'flow count per host, whole day',
        body: {
          table: 'FlowRecordTable',
          start_time: start,
          end_time: end,
          select_fields: ['host', 'COUNT(*)', 'SUM(packets)'],
        },
        sql: 'SELECT host, COUNT(*), SUM(packets) FROM flows WHERE T BETWEEN ? AND ? GROUP BY host',
        params: [start, end],
      },
    ];
    const results = [];
    for (const query of queries) {
      const apiTimes: number[] = [];
      const rawTimes: number[] = [];
      const statement = baseline.prepare(query.sql);
      const runs = query.name.includes('whole day') ? Math.max(10, QUERY_RUNS / 4) : QUERY_RUNS;
      for (let run = 0; run < runs; run++) {
        const t0 = performance.now();
        const response = await fetch(`${running.restUrl}/analytics/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(query.body),
        });
        const body = (await response.json()) as { value: unknown[] };
        apiTimes.push(performance.now() - t0);
        if (response.status !== 200 || body.value.length === 0)
          throw new Error(`${query.name}: ${JSON.stringify(body)}`);
        const t1 = performance.now();
        statement.all(...query.params);
        rawTimes.push(performance.now() - t1);
      }
      apiTimes.sort((a, b) => a - b);
      rawTimes.sort((a, b) => a - b);
      results.push({
        name: query.name,
        runs,
        p50: percentile(apiTimes, 50),
        p99: percentile(apiTimes, 99),
        rawP99: percentile(rawTimes, 99),
      });
    }
    await running.close();
    baseline.close();
    return { results, fillSeconds };
  } finally {
    await nats.dispose();
    state.remove();
    baselineDir.remove();
  }
}

/** Writes QUERY_RECORDS flow records over [start, end) through the store's own commit path. */
async function fillThroughStore(stateDir: string, start: number, end: number) {
  const store = new SqliteStore({ stateDir, partitionMs: HOUR, retentionMs: 48 * HOUR, maxBytes: 64 * 1024 ** 3 });
  const span = end - start;
  for (let i = 0; i < QUERY_RECORDS; i += 50_000) {
    const rows = [];
    for (let j = i; j < Math.min(i + 50_000, QUERY_RECORDS); j++) {
      const r = flowRecord(j, start + Math.floor((j / QUERY_RECORDS) * span));
      rows.push({
        T: r.last_seen_ms,
        first_seen_ms: r.first_seen_ms,
        record_id: r.record_id,
        source_ip: r.source_ip,
        destination_ip: r.destination_ip,
        protocol: r.protocol,
        source_port: r.source_port,
        destination_port: r.destination_port,
        source_virtual_network: r.source_virtual_network,
        destination_virtual_network: r.destination_virtual_network,
        source_interface: '',
        destination_interface: '',
        host: r.host,
        action: r.action === 'FLOW_ACTION_DENY' ? 'deny' : 'pass',
        bytes: r.bytes,
        packets: r.packets,
      });
    }
    store.commit({ rows: { flow: rows }, uveUpserts: [], uveDeletes: [] }, end);
  }
  store.close();
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(1)} ms`;

const ingest = await benchIngest();
const query = await benchQueries();
const lines = [
  `Ingest: ${fmt(INGEST_RECORDS)} flow records in batches of ${PER_MESSAGE}, one publisher, weft-analytics as its own process.`,
  '',
  '| measure | records/s | ratio to raw NATS subscriber | target |',
  '| --- | ---: | ---: | --- |',
  `| raw NATS subscriber (decode + count) | ${fmt(ingest.rawRate)} | 1.00 | |`,
  `| analytics: stored (committed, acked) | ${fmt(ingest.storedRate)} | ${(ingest.storedRate / ingest.rawRate).toFixed(2)} | >= 50,000/s ${ingest.storedRate >= 50_000 ? 'met' : 'NOT met'} |`,
  '',
  `Query: ${fmt(QUERY_RECORDS)} flow records over 24 hourly partitions (filled in ${query.fillSeconds.toFixed(0)} s); REST round trip; baseline: the same SQL on one plain SQLite table, no REST.`,
  '',
  '| query | runs | p50 | p99 | baseline p99 | p99 ratio |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...query.results.map(
    (r) =>
      `| ${r.name} | ${r.runs} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.rawP99)} | ${(r.p99 / r.rawP99).toFixed(2)} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
