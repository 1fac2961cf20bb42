import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { tlsFilesOf } from './grpc.js';
import { Readiness } from './health.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { NatsLink } from './nats.js';
import {
  freePort,
  natsServerMissing,
  opensslMissing,
  selfSignedCertificate,
  startNatsServer,
  waitFor,
} from './testing/index.js';

const quiet = createLogger({
  service: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});

async function gaugeValue(metrics: ReturnType<typeof createMetrics>) {
  const metric = await metrics.registry.getSingleMetric('weft_kit_test_nats_connected')?.get();
  return metric?.values[0]?.value;
}

test('the NATS link follows the server: unready while it is down, ready when it is up', {
  skip: natsServerMissing(),
}, async () => {
  const server = await startNatsServer();
  await server.stop();
  const metrics = createMetrics('kit-test');
  const readiness = new Readiness();
  const link = new NatsLink({ servers: [server.url], name: 'kit-test', logger: quiet, metrics, readiness });
  try {
    // Started while the server is down: the daemon lives, but says why it is not ready.
    const report = await readiness.report();
    assert.equal(report.ready, false);
    assert.match(report.checks[0]?.reason ?? '', /not connected to NATS at nats:\/\/127\.0\.0\.1:\d+/);
    assert.equal(await gaugeValue(metrics), 0);

    await server.start();
    const connection = await link.connection();
    assert.equal((await readiness.report()).ready, true);
    assert.equal(await gaugeValue(metrics), 1);

    // The server goes away and comes back: the same connection reconnects by itself.
    await server.stop();
    await waitFor(async () => !(await readiness.report()).ready, { what: 'unready after the server stopped' });
    assert.equal(await gaugeValue(metrics), 0);
    await server.start();
    await waitFor(async () => (await readiness.report()).ready, { what: 'ready after the server returned' });
    assert.equal(await gaugeValue(metrics), 1);

    // And it carries messages again.
    const subscription = connection.subscribe('kit.test', { max: 1 });
    connection.publish('kit.test', new TextEncoder().encode('hello'));
    for await (const message of subscription) assert.equal(new TextDecoder().decode(message.data), 'hello');
  } finally {
    await link.close();
    await server.dispose();
  }
});

test('closing a link that never connected ends its retries', async () => {
  const metrics = createMetrics('kit-test-closed');
  const readiness = new Readiness();
  const link = new NatsLink({
    servers: [`nats://127.0.0.1:${await freePort()}`],
    name: 'kit-test',
    logger: quiet,
    metrics,
    readiness,
  });
  await link.close();
  await assert.rejects(link.connection(), /closed before it connected/);
});

test('closing a link while the server is away closes the connection', { skip: natsServerMissing() }, async () => {
  const server = await startNatsServer();
  const link = new NatsLink({
    servers: [server.url],
    name: 'kit-test',
    logger: quiet,
    metrics: createMetrics('kit-test-away'),
    readiness: new Readiness(),
  });
  try {
    const connection = await link.connection();
    await server.stop();
    await waitFor(() => !link.isConnected, { what: 'the link to notice the server is gone' });
    await link.close();
    assert.equal(connection.isClosed(), true, 'no client left reconnecting (it would keep the process alive)');
  } finally {
    await server.dispose();
  }
});

test('with WEFT_TLS_* files the link speaks TLS to a server that requires it', {
  skip: natsServerMissing() ?? opensslMissing(),
}, async () => {
  const { certFile, keyFile, remove } = selfSignedCertificate();
  const server = await startNatsServer({ tls: { certFile, keyFile } });
  const secure = new NatsLink({
    servers: [server.url],
    name: 'kit-test',
    tls: tlsFilesOf({ tlsCert: '', tlsKey: '', tlsCa: certFile }),
    logger: quiet,
    metrics: createMetrics('kit-test-tls'),
    readiness: new Readiness(),
  });
  const plain = new NatsLink({
    servers: [server.url.replace('tls://', 'nats://')],
    name: 'kit-test',
    logger: quiet,
    metrics: createMetrics('kit-test-plain'),
    readiness: new Readiness(),
  });
  try {
    await waitFor(() => secure.isConnected, { what: 'the TLS link to connect' });
    const connection = await secure.connection();
    assert.equal(connection.info?.tls_required, true);
    assert.equal(plain.isConnected, false, 'a plaintext client is not let in');
  } finally {
    await secure.close();
    await plain.close();
    await server.dispose();
    remove();
  }
});
