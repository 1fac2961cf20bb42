// The limits that keep one caller from hurting the others, and a fuzz of what arrives at the
// door: authentication headers of every shape and bodies around the size limit. Whatever
// arrives, no 5xx and no crash; too much is 413 or 429, never a slow or dead server.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { tempDir } from '@weft/kit/testing';
import { loadConfigProto } from '@weft/proto';
import type { ConfigClient } from '@weft/proto/gen/weft/config/v1/Config.js';
import fc from 'fast-check';
import { request, startTestServer, type TestServer } from '../testing/server.js';

const ADMIN = 'limits-admin-token-0123456789';
const OTHER = 'limits-other-token-0123456789';
const THIRD = 'limits-third-token-0123456789';
const BODY_LIMIT = 8 * 1024;

function tokensFileIn(dir: string): string {
  const path = join(dir, 'tokens.json');
  writeFileSync(
    path,
    JSON.stringify({
      tokens: [
        { token: ADMIN, user: 'admin', roles: ['cloud-admin'] },
        { token: OTHER, user: 'other', projects: { 'default-domain:default-project': 'member' } },
        { token: THIRD, user: 'third', projects: { 'default-domain:default-project': 'reader' } },
      ],
    }),
  );
  return path;
}

describe('fuzz: authentication headers and bodies at the size limit', () => {
  const files = tempDir('weft-fuzz-auth-');
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      auth: { mode: 'rbac', tokensFile: tokensFileIn(files.path) },
      bodyLimit: BODY_LIMIT,
    });
  });
  after(async () => {
    await server.dispose();
    files.remove();
  });

  const printable = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    maxLength: 300,
  });
  const base64url = fc.stringMatching(/^[A-Za-z0-9_-]{0,80}$/);
  const jwtShaped = fc.tuple(base64url, base64url, base64url).map((parts) => parts.join('.'));
  const tokenish = fc.oneof(printable, jwtShaped, fc.constantFrom(ADMIN, OTHER, '', ' ', 'Bearer', 'null'));
  const headers = fc.record(
    {
      'x-auth-token': tokenish,
      authorization: fc.oneof(
        tokenish,
        tokenish.map((token) => `Bearer ${token}`),
        tokenish.map((token) => `bearer  ${token}`),
        tokenish.map((token) => `Basic ${token}`),
      ),
    },
    { requiredKeys: [] },
  );
  const paths = fc.constantFrom(
    '/virtual-networks',
    '/projects',
    '/',
    '/fqname-to-id',
    '/virtual-network/00000000-0000-0000-0000-000000000000',
  );

  test('any authentication header: 2xx, 4xx, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(headers, paths, fc.constantFrom('GET', 'POST', 'DELETE'), async (sent, path, method) => {
        const reply = await request(
          server.restUrl,
          method,
          path,
          method === 'POST' ? {} : undefined,
          sent as Record<string, string>,
        );
        assert.ok(
          reply.status < 500,
          `${method} ${path} ${JSON.stringify(sent)}: ${reply.status} ${JSON.stringify(reply.body)}`,
        );
        if (reply.status === 401) assert.match(reply.body.error.code, /^TOKEN_/);
      }),
      { numRuns: 300 },
    );
  });

  test('any token in gRPC metadata: OK or UNAUTHENTICATED, never INTERNAL', async () => {
    const client: ConfigClient = new (loadConfigProto().weft.config.v1.Config)(
      server.grpcAddress,
      credentials.createInsecure(),
    );
    try {
      await fc.assert(
        fc.asyncProperty(headers, async (sent) => {
          const metadata = new Metadata();
          for (const [key, value] of Object.entries(sent)) if (value !== undefined) metadata.set(key, value);
          const code = await new Promise<number>((resolve) =>
            client.List({ type: 'project', page_limit: 1 }, metadata, (error) => resolve(error?.code ?? status.OK)),
          );
          assert.ok(
            [status.OK, status.UNAUTHENTICATED, status.PERMISSION_DENIED].includes(code),
            `${JSON.stringify(sent)}: ${code}`,
          );
        }),
        { numRuns: 200 },
      );
    } finally {
      client.close();
    }
  });

  test('bodies around the size limit, with or without a token: 413 above it, never 5xx', async () => {
    const sizes = fc.integer({ min: BODY_LIMIT - 64, max: BODY_LIMIT + 64 });
    await fc.assert(
      fc.asyncProperty(sizes, fc.boolean(), fc.boolean(), async (size, withToken, json) => {
        const filler = 'x'.repeat(Math.max(0, size - 60));
        const body = json
          ? JSON.stringify({ 'virtual-network': { display_name: filler } }).slice(0, size)
          : filler.slice(0, size);
        const response = await fetch(`${server.restUrl}/virtual-networks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(withToken ? { 'x-auth-token': ADMIN } : {}) },
          body,
        });
        await response.text();
        assert.ok(response.status < 500, `${size} bytes: ${response.status}`);
        if (Buffer.byteLength(body) > BODY_LIMIT && withToken) assert.equal(response.status, 413);
      }),
      { numRuns: 150 },
    );
    assert.equal((await request(server.restUrl, 'GET', '/healthz')).status, 200, 'the server is still there');
  });
});

describe('rate limit per token', () => {
  test('a tenant token past its rate gets 429 RATE_LIMITED; another token, cloud-admin and the probes are not held up', async () => {
    const files = tempDir('weft-rate-');
    const server = await startTestServer({
      auth: { mode: 'rbac', tokensFile: tokensFileIn(files.path) },
      rateLimit: 5,
    });
    try {
      const as = (token: string) => request(server.restUrl, 'GET', '/projects', undefined, { 'x-auth-token': token });
      for (let i = 0; i < 5; i++) assert.equal((await as(OTHER)).status, 200);
      const limited = await as(OTHER);
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error.code, 'RATE_LIMITED');
      assert.equal((await as(THIRD)).status, 200, 'another token has its own allowance');
      // The operator's and the orchestrators' cloud-admin tokens are not limited.
      for (let i = 0; i < 10; i++) assert.equal((await as(ADMIN)).status, 200);
      assert.equal((await request(server.restUrl, 'GET', '/healthz')).status, 200);
    } finally {
      await server.dispose();
      files.remove();
    }
  });

  test('over gRPC too: a tenant token past its rate gets RESOURCE_EXHAUSTED with the reason, Watch included; another token and cloud-admin go on', async () => {
    const files = tempDir('weft-grpc-rate-');
    const server = await startTestServer({
      auth: { mode: 'rbac', tokensFile: tokensFileIn(files.path) },
      rateLimit: 5,
    });
    const client: ConfigClient = new (loadConfigProto().weft.config.v1.Config)(
      server.grpcAddress,
      credentials.createInsecure(),
    );
    const metadataOf = (token: string) => {
      const metadata = new Metadata();
      metadata.set('x-auth-token', token);
      return metadata;
    };
    const list = (token: string) =>
      new Promise<{ code: number; details: string; errorCode: string | undefined }>((resolve) =>
        client.List({ type: 'project', page_limit: 10 }, metadataOf(token), (error) =>
          resolve({
            code: error?.code ?? status.OK,
            details: error?.details ?? '',
            errorCode: error?.metadata.get('weft-error-code')[0]?.toString(),
          }),
        ),
      );
    try {
      // The REST allowance is its own: spending it leaves the gRPC one whole.
      for (let i = 0; i < 5; i++) {
        assert.equal(
          (await request(server.restUrl, 'GET', '/projects', undefined, { 'x-auth-token': OTHER })).status,
          200,
        );
      }
      for (let i = 0; i < 5; i++) assert.equal((await list(OTHER)).code, status.OK, `call ${i + 1} of 5`);
      const limited = await list(OTHER);
      assert.equal(limited.code, status.RESOURCE_EXHAUSTED);
      assert.equal(limited.errorCode, 'RATE_LIMITED');
      assert.match(limited.details, /too many requests: at most 5 per minute for one token/);
      // Opening a Watch is a call like any other.
      const watch = client.Watch({ from_revision: 0, types: ['project'] }, metadataOf(OTHER));
      const watchError = await new Promise<{ code: number }>((resolve) => watch.on('error', resolve));
      assert.equal(watchError.code, status.RESOURCE_EXHAUSTED);
      assert.equal((await list(THIRD)).code, status.OK, 'another token has its own bucket');
      for (let i = 0; i < 10; i++) assert.equal((await list(ADMIN)).code, status.OK, 'cloud-admin is not limited');
    } finally {
      client.close();
      await server.dispose();
      files.remove();
    }
  });
});
