// 100,000 flow records stream in while analytics stops cleanly once and is killed (SIGKILL,
// mid-batch) once: every record is stored exactly once.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, createMetrics, NatsLink, publishFlows, Readiness } from '@weft/kit';
import { freePort, natsServerMissing, startNatsServer, tempDir, waitFor } from '@weft/kit/testing';
import type { FlowRecord } from '@weft/proto/gen/weft/analytics/v1/FlowRecord.js';
import { startAnalytics } from '../index.js';

const quiet = createLogger({
  service: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});
const TOTAL = 100_000;
const PER_MESSAGE = 100;
const mainJs = fileURLToPath(new URL('../main.js', import.meta.url));

async function query(restUrl: string, body: Record<string, unknown>) {
  const response = await fetch(`${restUrl}/analytics/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { value: Record<string, unknown>[] }).value;
}

const countFlows = async (restUrl: string) =>
  (
    await query(restUrl, { table: 'FlowRecordTable', start_time: 0, end_time: 'now+1h', select_fields: ['COUNT(*)'] })
  )[0]!['COUNT(*)'] as number;

test('restarting and killing analytics during 100,000 flow records stores each exactly once', {
  skip: natsServerMissing(),
  timeout: 150_000,
}, async () => {
  const nats = await startNatsServer();
  const state = tempDir('weft-analytics-exactly-once-');
  const options = { stateDir: state.path, natsUrl: [nats.url], host: 'an-1', ackWaitMs: 2_000 };
  let analytics = await startAnalytics(options);
  const link = new NatsLink({
    servers: [nats.url],
    name: 'agent',
    logger: quiet,
    metrics: createMetrics('exactly-once-agent'),
    readiness: new Readiness(),
  });
  await link.connection();
  let child: ChildProcess | undefined;
  let published = 0;
  const base = Date.now();
  // The publisher holds at two points until the test has stopped (then killed) an analytics,
  // so each stop falls inside the stream however slow or loaded the machine is.
  const gates = new Map<number, { open: () => void; opened: Promise<void> }>();
  for (const at of [40_000, 70_000]) {
    let open = () => {};
    const opened = new Promise<void>((resolve) => {
      open = resolve;
    });
    gates.set(at, { open, opened });
  }
  const publishing = (async () => {
    while (published < TOTAL) {
      await gates.get(published)?.opened;
      const records: FlowRecord[] = [];
      for (let i = 0; i < PER_MESSAGE; i++, published++) {
        records.push({
          record_id: `r-${published}`,
          source_ip: `10.0.${(published >> 8) & 255}.${published & 255}`,
          destination_ip: '10.1.0.1',
          protocol: 6,
          destination_port: 443,
          bytes: published,
          packets: 1,
          first_seen_ms: base,
          last_seen_ms: base + (published % 1000),
        });
      }
      assert.ok(publishFlows(link, 'host-1', records));
      // Paced like an agent's exporter, so the restarts fall in the middle of the stream.
      if (published % 1_000 === 0) {
        await link.current!.flush();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    await link.current!.flush();
  })();
  try {
    // A clean stop while records flow; they wait in the stream.
    await waitFor(() => published >= 20_000, { what: '20,000 published', timeoutMs: 60_000 });
    await waitFor(async () => (await countFlows(analytics.restUrl)) > 0, { what: 'first records stored' });
    await analytics.close();
    gates.get(40_000)!.open();

    // A daemon started from main.ts takes over, and is killed without warning mid-stream.
    const port = await freePort();
    child = spawn(process.execPath, [mainJs], {
      env: {
        ...process.env,
        WEFT_STATE_DIR: state.path,
        WEFT_NATS_URL: nats.url,
        WEFT_REST_PORT: String(port),
        WEFT_REST_HOST: '127.0.0.1',
        // On loopback, without tokens: what is tested here is not authentication.
        WEFT_AUTH_MODE: 'no-auth',
        WEFT_LOG_LEVEL: 'error',
        WEFT_ANALYTICS_ACK_WAIT: '2s',
      },
      stdio: 'ignore',
    });
    const childUrl = `http://127.0.0.1:${port}`;
    // Killed once it has stored records of its own, with the publisher held at 70,000: the
    // kill falls in the middle of the stream, likely between a commit and its acks.
    const storedByDaemon = async () => {
      const metrics = await (await fetch(`${childUrl}/metrics`)).text();
      return Number(/^weft_analytics_records_stored_total\{table="FlowRecordTable"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    };
    await waitFor(async () => (await storedByDaemon()) >= 5_000, { what: 'the daemon ingesting', timeoutMs: 60_000 });
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    gates.get(70_000)!.open();

    analytics = await startAnalytics(options);
    await publishing;
    await waitFor(async () => (await countFlows(analytics.restUrl)) >= TOTAL, {
      what: `${TOTAL} records stored`,
      timeoutMs: 90_000,
    });
    assert.equal(await countFlows(analytics.restUrl), TOTAL);
    const ids = await query(analytics.restUrl, {
      table: 'FlowRecordTable',
      start_time: 0,
      end_time: 'now+1h',
      select_fields: ['record_id'],
      limit: TOTAL,
    });
    const unique = new Set(ids.map((row) => row.record_id));
    assert.equal(unique.size, TOTAL);
    for (let i = 0; i < TOTAL; i += 997) assert.ok(unique.has(`r-${i}`), `r-${i} stored`);
    const [sum] = await query(analytics.restUrl, {
      table: 'FlowRecordTable',
      start_time: 0,
      end_time: 'now+1h',
      select_fields: ['SUM(bytes)'],
    });
    assert.equal(sum!['SUM(bytes)'], (TOTAL * (TOTAL - 1)) / 2);
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const gate of gates.values()) gate.open();
    await publishing.catch(() => {});
    await link.close();
    await analytics.close();
    await nats.dispose();
    state.remove();
  }
});
