import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { messageCodec } from '@weft/proto';
import type { FlowBatch__Output } from '@weft/proto/gen/weft/analytics/v1/FlowBatch.js';
import type { LogRecord__Output } from '@weft/proto/gen/weft/analytics/v1/LogRecord.js';
import type { Uve__Output } from '@weft/proto/gen/weft/analytics/v1/Uve.js';
import type { Msg } from 'nats';
import { Readiness } from './health.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { NatsLink } from './nats.js';
import { natsServerMissing, startNatsServer, waitFor } from './testing/index.js';
import { publishFlows, publishLog, subjectToken, UvePublisher } from './uve.js';

const quiet = createLogger({
  service: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});
const uveCodec = messageCodec<object, Uve__Output>('weft.analytics.v1.Uve');

async function withBus(run: (link: NatsLink, seen: Msg[]) => Promise<void>) {
  const server = await startNatsServer({ jetstream: false });
  const link = new NatsLink({
    servers: [server.url],
    name: 'uve-test',
    logger: quiet,
    metrics: createMetrics(`uve-test-${Math.random().toString(36).slice(2)}`),
    readiness: new Readiness(),
  });
  const listener = await (await import('nats')).connect({ servers: server.url });
  const seen: Msg[] = [];
  const subscription = listener.subscribe('weft.>', { callback: (_error, message) => seen.push(message) });
  await listener.flush();
  try {
    await link.connection();
    await run(link, seen);
  } finally {
    subscription.unsubscribe();
    await listener.close();
    await link.close();
    await server.dispose();
  }
}

test('a UVE part is published, re-published before its ttl, withdrawn, and silent after close', {
  skip: natsServerMissing(),
}, async () => {
  await withBus(async (link, seen) => {
    const publisher = new UvePublisher({ link, source: 'control:ctl-1', ttlMs: 1_000, logger: quiet });
    publisher.set('vrouter', 'host-1', { control_connected: true, routes: 3 });
    publisher.update('vrouter', 'host-1', { routes: 4 });
    const uves = () => seen.filter((m) => m.subject === 'weft.uve.vrouter').map((m) => uveCodec.decode(m.data));

    // The burst of set+update goes out as one message with the merged fields.
    const first = await waitFor(() => uves()[0], { what: 'first UVE' });
    assert.equal(first.source, 'control:ctl-1');
    assert.equal(first.name, 'host-1');
    assert.equal(first.ttl_ms, 1_000);
    assert.equal(first.deleted, false);
    assert.deepEqual(JSON.parse(first.fields_json), { control_connected: true, routes: 4 });

    // Re-sent well within the ttl, so analytics never sees a live source as stale.
    await waitFor(() => uves().length >= 3, { what: 'two refreshes', timeoutMs: 3_000 });
    const gaps = uves()
      .slice(0, 3)
      .map((uve) => uve.timestamp_ms);
    assert.ok(gaps[2]! - gaps[1]! < 1_000, `refresh gap ${gaps[2]! - gaps[1]!} ms is under the ttl`);

    publisher.remove('vrouter', 'host-1');
    const removed = await waitFor(() => uves().find((uve) => uve.deleted), { what: 'deletion' });
    assert.equal(removed.name, 'host-1');

    publisher.set('vrouter', 'host-2', {});
    await waitFor(() => uves().some((uve) => uve.name === 'host-2'), { what: 'host-2' });
    await publisher.close();
    const countAtClose = uves().length;
    // After close no refresh follows: nothing arrives over more than two refresh periods
    // (an absence can only be observed over a window).
    await new Promise((resolve) => setTimeout(resolve, 800));
    await link.current!.flush();
    assert.equal(uves().length, countAtClose);
  });
});

test('flow batches and log records carry a record_id and land on their subjects', {
  skip: natsServerMissing(),
}, async () => {
  await withBus(async (link, seen) => {
    assert.equal(
      publishFlows(link, 'host.a', [
        { source_ip: '10.0.0.1', bytes: 10 },
        { record_id: 'r-2', source_ip: '10.0.0.2' },
      ]),
      true,
    );
    assert.equal(publishLog(link, { service: 'config-api', message: 'created', event: 'config.change' }), true);
    await waitFor(() => seen.length >= 2, { what: 'flow and log messages' });
    const flow = seen.find((m) => m.subject === 'weft.flow.host_a');
    assert.ok(flow, `flow subject uses a safe token, got ${seen.map((m) => m.subject)}`);
    const batch = messageCodec<object, FlowBatch__Output>('weft.analytics.v1.FlowBatch').decode(flow.data);
    assert.equal(batch.records.length, 2);
    assert.match(batch.records[0]!.record_id, /^[0-9a-f-]{36}$/);
    assert.equal(batch.records[1]!.record_id, 'r-2');
    assert.equal(batch.records[0]!.host, 'host.a');
    const log = seen.find((m) => m.subject === 'weft.log.config-api');
    assert.ok(log);
    const record = messageCodec<object, LogRecord__Output>('weft.analytics.v1.LogRecord').decode(log.data);
    assert.match(record.record_id, /^[0-9a-f-]{36}$/);
    assert.ok(Math.abs(record.timestamp_ms - Date.now()) < 5_000);
    assert.equal(record.event, 'config.change');
  });
});

test('a publisher refuses a source that is not "<service>:<host>"', () => {
  const link = { current: undefined, connection: () => new Promise<never>(() => {}) };
  assert.throws(() => new UvePublisher({ link, source: 'control' }), /"<service>:<host>"/);
  assert.equal(subjectToken('a b.c*>'), 'a_b_c__');
});
