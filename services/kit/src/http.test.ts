import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { defineErrors, GrpcStatus } from './errors.js';
import { Readiness } from './health.js';
import { createHttpApp, fieldFromInstancePath } from './http.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { opensslMissing, selfSignedCertificate } from './testing/index.js';

const quiet = createLogger({
  service: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});

function build(readiness = new Readiness()) {
  const metrics = createMetrics('test-service');
  const app = createHttpApp({ logger: quiet, readiness, metrics });
  return { app, metrics, readiness };
}

test('/healthz answers while the process lives', async () => {
  const { app } = build();
  const response = await app.inject('/healthz');
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { status: 'ok' });
});

test('/readyz is 503 and names each failing dependency, 200 when all pass', async () => {
  const readiness = new Readiness();
  let storeUp = false;
  readiness.declare('nats', () => undefined);
  readiness.declare('store', () => (storeUp ? undefined : 'store file is read-only'));
  readiness.declare('control', async () => {
    throw new Error('connection refused');
  });
  const { app } = build(readiness);
  let response = await app.inject('/readyz');
  assert.equal(response.statusCode, 503);
  assert.deepEqual(
    response.json().failing.map((check: { name: string; reason: string }) => [check.name, check.reason]),
    [
      ['store', 'store file is read-only'],
      ['control', 'connection refused'],
    ],
  );
  storeUp = true;
  readiness.declare('control', () => undefined);
  response = await app.inject('/readyz');
  assert.equal(response.statusCode, 200);
  assert.equal(response.json().status, 'ready');
});

test("/metrics serves the default process metrics and the service's own, all prefixed", async () => {
  const { app, metrics } = build();
  metrics.counter('requests_total', 'requests', ['route']).inc({ route: '/x' });
  const response = await app.inject('/metrics');
  assert.equal(response.statusCode, 200);
  assert.match(response.body, /^weft_test_service_process_cpu_user_seconds_total /m);
  assert.match(response.body, /^weft_test_service_requests_total\{route="\/x"\} 1$/m);
  const names = [...response.body.matchAll(/^(\w+)[ {]/gm)].map((match) => match[1]);
  assert.ok(
    names.every((name) => name?.startsWith('weft_test_service_')),
    'every metric is prefixed',
  );
});

test('catalog errors, validation failures and malformed JSON become JSON bodies naming the field', async () => {
  const errors = defineErrors({
    NOT_FOUND: {
      httpStatus: 404,
      grpcStatus: GrpcStatus.NOT_FOUND,
      message: (d: { uuid: string }) => `no object with uuid ${d.uuid}`,
    },
  });
  const { app } = build();
  app.get('/thing/:uuid', async (request) => {
    throw errors.NOT_FOUND({ uuid: (request.params as { uuid: string }).uuid, field: 'uuid' });
  });
  app.post(
    '/things',
    {
      schema: {
        body: {
          type: 'object',
          required: ['thing'],
          additionalProperties: false,
          properties: { thing: { type: 'object', properties: { mtu: { type: 'integer', minimum: 68 } } } },
        },
      },
    },
    async () => ({ ok: true }),
  );
  const missing = await app.inject('/thing/abc');
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), {
    error: { code: 'NOT_FOUND', message: 'no object with uuid abc', uuid: 'abc', field: 'uuid' },
  });

  const invalid = await app.inject({ method: 'POST', url: '/things', payload: { thing: { mtu: 10 } } });
  assert.equal(invalid.statusCode, 400);
  assert.equal(invalid.json().error.field, 'thing.mtu');
  assert.match(invalid.json().error.message, /thing\.mtu: must be >= 68/);

  const unknown = await app.inject({ method: 'POST', url: '/things', payload: { thing: {}, extra: 1 } });
  assert.equal(unknown.statusCode, 400);
  assert.equal(unknown.json().error.field, 'extra');

  const malformed = await app.inject({
    method: 'POST',
    url: '/things',
    payload: '{"thing": ',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(malformed.statusCode, 400);
  assert.equal(malformed.json().error.field, 'body');

  const noRoute = await app.inject('/nowhere');
  assert.equal(noRoute.statusCode, 404);
  assert.equal(noRoute.json().error.code, 'NO_SUCH_ROUTE');
});

test('an empty body is no body, whatever its content-type says; a malformed one is still refused', async () => {
  const { app } = build();
  app.delete('/thing/:id', async (request) => ({ deleted: (request.params as { id: string }).id, body: request.body }));
  app.post('/things', async (request) => ({ body: request.body ?? null }));
  for (const method of ['DELETE', 'GET'] as const) {
    const url = method === 'DELETE' ? '/thing/abc' : '/healthz';
    const response = await app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: '' });
    assert.equal(response.statusCode, 200, `${method} with an empty JSON body: ${response.body}`);
  }
  const emptyPost = await app.inject({
    method: 'POST',
    url: '/things',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    payload: '',
  });
  assert.equal(emptyPost.statusCode, 200);
  assert.deepEqual(emptyPost.json(), { body: null });
  const poisoned = await app.inject({
    method: 'POST',
    url: '/things',
    headers: { 'content-type': 'application/json' },
    payload: '{"__proto__": {"admin": true}}',
  });
  assert.equal(poisoned.statusCode, 400);
  assert.equal(poisoned.json().error.field, 'body');
});

test('an unexpected error is a 500 that reveals nothing of its cause', async () => {
  const { app } = build();
  app.get('/boom', async () => {
    throw new Error('disk /var/lib/secret-path failed');
  });
  const response = await app.inject('/boom');
  assert.equal(response.statusCode, 500);
  assert.ok(!response.body.includes('secret-path'));
});

test('instance paths become field names', () => {
  assert.equal(fieldFromInstancePath('/network_ipam_refs/0/attr'), 'network_ipam_refs[0].attr');
  assert.equal(fieldFromInstancePath('', 'uuid'), 'uuid');
  assert.equal(fieldFromInstancePath('/a', 'b'), 'a.b');
});

test('with a certificate (WEFT_HTTP_TLS) the ops routes answer over HTTPS, and plain HTTP gets no answer', {
  skip: opensslMissing(),
}, async () => {
  const { certFile, keyFile, remove } = selfSignedCertificate();
  const app = createHttpApp({
    logger: quiet,
    readiness: new Readiness(),
    metrics: createMetrics('test-https'),
    tls: { certFile, keyFile },
  });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const body = await new Promise<string>((resolve, reject) => {
      const request = httpsGet(
        { host: '127.0.0.1', port, path: '/healthz', ca: readFileSync(certFile), servername: 'localhost' },
        (response) => {
          let text = '';
          response.on('data', (chunk) => {
            text += chunk;
          });
          response.on('end', () => resolve(`${response.statusCode} ${text}`));
        },
      );
      request.on('error', reject);
    });
    assert.equal(body, '200 {"status":"ok"}');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
  } finally {
    await app.close();
    remove();
  }
});
