// A slow query holds up only itself: while a runaway query runs on one worker, other queries are
// answered on another; the runaway is stopped at its deadline.
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

async function post(url: string, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { value: unknown[]; error?: { code: string } } };
}

test('a runaway query does not hold up the queries behind it', {
  skip: natsServerMissing(),
  timeout: 90_000,
}, async () => {
  const nats = await startNatsServer();
  const state = tempDir('weft-analytics-slow-');
  const analytics = await startAnalytics({
    stateDir: state.path,
    natsUrl: [nats.url],
    queryTimeoutMs: 15_000,
    queryWorkers: 2,
  });
  const link = new NatsLink({
    servers: [nats.url],
    name: 'slow-query-test',
    logger: quiet,
    metrics: createMetrics('slow-query-test'),
    readiness: new Readiness(),
  });
  try {
    await link.connection();
    publishLog(link, { service: 'control', host: 'ctl-1', level: 'LOG_LEVEL_WARN', message: `${'a'.repeat(40)}!` });
    const url = `${analytics.restUrl}/analytics/query`;
    const warnings = {
      table: 'MessageTable',
      start_time: 'now-1h',
      end_time: 'now+1m',
      select_fields: ['message'],
      where: [[{ name: 'level', value: 'warn' }]],
    };
    await waitFor(async () => (await post(url, warnings)).body.value.length === 1, { what: 'the line stored' });
    let runawayDone = false;
    const runaway = post(url, {
      ...warnings,
      where: [
        [
          { name: 'message', value: '^(a+)+$', op: 'REGEX_MATCH' },
          { name: 'level', value: 'warn' },
        ],
      ],
    }).finally(() => {
      runawayDone = true;
    });
    // Three queries in a row, each answered while the runaway still runs.
    for (let i = 0; i < 3; i++) {
      const answered = await post(url, warnings);
      assert.equal(answered.status, 200);
      assert.equal(runawayDone, false, 'answered while the runaway query still runs');
    }
    const stopped = await runaway;
    assert.equal(stopped.status, 504);
    assert.equal(stopped.body.error?.code, 'QUERY_TIMEOUT');
  } finally {
    await link.close();
    await analytics.close();
    await nats.dispose();
    state.remove();
  }
});
