// The REST surface over a running analytics: logs and events published through kit land in
// MessageTable, the table catalog, bad queries, and the disk alarm with its metric.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, createMetrics, NatsLink, publishLog, Readiness } from '@weft/kit';
import { natsServerMissing, startNatsServer, tempDir, waitFor } from '@weft/kit/testing';
import { startAnalytics } from '../index.js';

const quiet = createLogger({
  service: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any;

async function post(url: string, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

test('logs and events are queryable; bad queries answer 400 naming the field; the disk alarm fires near the limit', {
  skip: natsServerMissing(),
  timeout: 60_000,
}, async () => {
  const nats = await startNatsServer();
  const state = tempDir('weft-analytics-rest-');
  // One partition a day: retention cannot drop the partition being written, so the store
  // grows past the alarm threshold and the alarm must say so.
  const analytics = await startAnalytics({
    stateDir: state.path,
    natsUrl: [nats.url],
    host: 'an-1',
    maxBytes: 2 * 1024 * 1024,
    partitionMs: 86_400_000,
    retentionIntervalMs: 100,
    sweepIntervalMs: 100,
    queryTimeoutMs: 1_000,
  });
  const link = new NatsLink({
    servers: [nats.url],
    name: 'config-api',
    logger: quiet,
    metrics: createMetrics('rest-test-config-api'),
    readiness: new Readiness(),
  });
  try {
    await link.connection();
    // A message nobody can read is counted and skipped; it does not hold up the ones behind it.
    link.current!.publish('weft.log.broken', new Uint8Array([0x0a, 0xff, 0x01]));
    const start = Date.now();
    for (let i = 0; i < 50; i++) {
      publishLog(link, {
        service: 'config-api',
        host: 'cfg-1',
        level: i % 10 === 0 ? 'LOG_LEVEL_ERROR' : 'LOG_LEVEL_INFO',
        message: `created virtual-network vn-${i}`,
        event: 'config.change',
        fields_json: JSON.stringify({ type: 'virtual-network', revision: i }),
      });
    }
    const url = `${analytics.restUrl}/analytics/query`;
    const errorsOnly = {
      table: 'MessageTable',
      start_time: start - 1000,
      end_time: 'now+1m',
      select_fields: ['service', 'level', 'COUNT(*)'],
      where: [[{ name: 'level', value: 'error' }]],
    };
    const counted = await waitFor(
      async () => {
        const { body } = await post(url, errorsOnly);
        return (body.value as { 'COUNT(*)': number }[])[0]?.['COUNT(*)'] === 5 ? body.value : undefined;
      },
      { what: 'five error events' },
    );
    assert.deepEqual(counted, [{ service: 'config-api', level: 'error', 'COUNT(*)': 5 }]);
    const lines = await post(url, {
      table: 'MessageTable',
      start_time: 'now-1h',
      end_time: 'now+1m',
      select_fields: ['message', 'fields', 'T'],
      where: [
        [
          { name: 'event', value: 'config.change' },
          { name: 'message', value: 'vn-4', op: 'CONTAINS' },
        ],
      ],
      sort_fields: ['T'],
    });
    assert.deepEqual(
      (lines.body.value as { message: string }[]).map((row) => row.message).sort(),
      [
        'created virtual-network vn-4',
        ...Array.from({ length: 10 }, (_, i) => `created virtual-network vn-${40 + i}`),
      ].sort(),
    );

    // The catalog and each schema.
    const tables = (await (await fetch(`${analytics.restUrl}/analytics/tables`)).json()) as { name: string }[];
    assert.deepEqual(
      tables.map((t) => t.name),
      ['FlowRecordTable', 'MessageTable', 'StatTable.UveStat'],
    );
    const schema = (await (await fetch(`${analytics.restUrl}/analytics/table/FlowRecordTable/schema`)).json()) as {
      columns: { name: string }[];
    };
    assert.ok(schema.columns.some((c) => c.name === 'source_virtual_network'));
    assert.equal((await fetch(`${analytics.restUrl}/analytics/table/Nope/schema`)).status, 404);

    // Bad queries: 400, the field and the reason.
    const bad = await post(url, { ...errorsOnly, where: [[{ name: 'level', value: 'error', op: 'SOMETIMES' }]] });
    assert.equal(bad.status, 400);
    assert.equal((bad.body.error as { field: string }).field, 'where[0][0].op');
    assert.match((bad.body.error as { message: string }).message, /must be one of EQUAL/);
    const badSort = await post(url, { ...errorsOnly, sort: 'sideways' });
    assert.deepEqual([badSort.status, (badSort.body.error as { field: string }).field], [400, 'sort']);
    const notJson = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    assert.equal(notJson.status, 400);

    // A runaway query (a regular expression that backtracks forever on one line) is stopped at
    // its deadline with a 504, the service answers meanwhile, and the next query works.
    publishLog(link, { service: 'control', host: 'ctl-1', level: 'LOG_LEVEL_WARN', message: `${'a'.repeat(40)}!` });
    await waitFor(async () => {
      const { body } = await post(url, { ...errorsOnly, where: [[{ name: 'level', value: 'warn' }]] });
      return body.value.length === 1;
    });
    const runaway = post(url, {
      table: 'MessageTable',
      start_time: 'now-1h',
      end_time: 'now+1m',
      select_fields: ['message'],
      where: [
        [
          { name: 'message', value: '^(a+)+$', op: 'REGEX_MATCH' },
          { name: 'level', value: 'warn' },
        ],
      ],
    });
    const health = await fetch(`${analytics.restUrl}/healthz`);
    assert.equal(health.status, 200);
    const stopped = await runaway;
    assert.equal(stopped.status, 504);
    assert.equal(stopped.body.error.code, 'QUERY_TIMEOUT');
    assert.equal((await post(url, errorsOnly)).status, 200);

    // Analytics' own UVE reports its store; stats of numeric UVE fields are queryable.
    const own = await waitFor(async () => {
      const response = await fetch(`${analytics.restUrl}/analytics/uves/analytics/an-1`);
      return response.ok ? ((await response.json()) as { value: Record<string, unknown> }) : undefined;
    });
    assert.equal(own.value.process_state, 'running');
    assert.equal(own.value.store_max_bytes, 2 * 1024 * 1024);
    const stats = await waitFor(async () => {
      const { body } = await post(url, {
        table: 'StatTable.UveStat',
        start_time: 'now-1h',
        end_time: 'now+1m',
        select_fields: ['field', 'MAX(value)'],
        where: [
          [
            { name: 'type', value: 'analytics' },
            { name: 'field', value: 'store_max_bytes' },
          ],
        ],
      });
      return (body.value as unknown[]).length > 0 ? body.value : undefined;
    });
    assert.deepEqual(stats, [{ field: 'store_max_bytes', 'MAX(value)': 2 * 1024 * 1024 }]);

    // Fill the store past 90% of its limit: the alarm is raised and the metric shows the size.
    const filler = 'x'.repeat(2_000);
    for (let i = 0; i < 1_200; i++) {
      publishLog(link, { service: 'control', host: 'ctl-1', level: 'LOG_LEVEL_DEBUG', message: `${i} ${filler}` });
    }
    const alarm = await waitFor(
      async () => {
        const body = (await (await fetch(`${analytics.restUrl}/analytics/alarms`)).json()) as {
          alarms: { rule: string; type: string; name: string }[];
        };
        return body.alarms.find((a) => a.rule === 'analytics-disk-near-limit');
      },
      { what: 'the disk alarm', timeoutMs: 20_000 },
    );
    assert.deepEqual([alarm.type, alarm.name], ['analytics', 'an-1']);
    const metrics = await (await fetch(`${analytics.restUrl}/metrics`)).text();
    const size = Number(/^weft_analytics_store_bytes (\d+)/m.exec(metrics)?.[1]);
    assert.ok(size > 0.9 * 2 * 1024 * 1024, `store_bytes ${size}`);
    assert.match(metrics, /weft_analytics_alarms_active\{rule="analytics-disk-near-limit"\} 1/);
    assert.match(metrics, /weft_analytics_messages_malformed_total\{stream="WEFT_LOG"\} 1/);

    // Analytics re-sends its own UVE at every retention pass (100 ms here), yet its stat series
    // holds one sample: at most one per part per stat interval (60 s).
    const sampleQuery = {
      table: 'StatTable.UveStat',
      start_time: 'now-1h',
      end_time: 'now+1m',
      select_fields: ['COUNT(*)', 'MAX(T)'],
      where: [
        [
          { name: 'type', value: 'analytics' },
          { name: 'field', value: 'store_max_bytes' },
        ],
      ],
    };
    const sample = await post(url, sampleQuery);
    assert.equal(sample.body.value[0]['COUNT(*)'], 1);
    const sampledAt = sample.body.value[0]['MAX(T)'] as number;
    await waitFor(
      async () => {
        const view = await (await fetch(`${analytics.restUrl}/analytics/uves/analytics/an-1`)).json();
        return (view as { sources: { last_seen_ms: number }[] }).sources[0]!.last_seen_ms > sampledAt + 500;
      },
      { what: 'a later report of analytics itself' },
    );
    const again = await post(url, sampleQuery);
    assert.equal(again.body.value[0]['COUNT(*)'], 1);
  } finally {
    await link.close();
    await analytics.close();
    await nats.dispose();
    state.remove();
  }
});
