// The audit of config-api as an operator reads it: every change, and every refused attempt at
// one, reaches analytics as a config.change event that says who (the token's user), what (the
// request and the object) and when, through the real NATS and analytics.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAnalytics } from '@weft/analytics';
import { startConfigApi } from '@weft/config-api';
import { natsServerMissing, startNatsServer, tempDir, waitFor } from '@weft/kit/testing';

const ADMIN = 'audit-admin-token-0123456789';
const ALICE = 'audit-alice-token-0123456789';
const BOB = 'audit-bob-token-01234567890';

type Started = { close(): Promise<void> };
const skip = natsServerMissing();
const files = tempDir('weft-audit-');
const running: Started[] = [];
let configUrl = '';
let analyticsUrl = '';

before(async () => {
  if (skip) return;
  const nats = await startNatsServer();
  running.push({ close: () => nats.dispose() });
  const analytics = await startAnalytics({ stateDir: join(files.path, 'analytics'), natsUrl: [nats.url] });
  running.push(analytics);
  analyticsUrl = analytics.restUrl;
  const tokensFile = join(files.path, 'tokens.json');
  writeFileSync(
    tokensFile,
    JSON.stringify({
      tokens: [
        { token: ADMIN, user: 'admin', roles: ['cloud-admin'] },
        { token: ALICE, user: 'alice', projects: { 'default-domain:alice': 'member' } },
        { token: BOB, user: 'bob', projects: { 'default-domain:bob': 'member' } },
      ],
    }),
  );
  const config = await startConfigApi({
    stateDir: join(files.path, 'config-api'),
    natsUrl: [nats.url],
    auth: { mode: 'rbac', tokensFile },
  });
  running.unshift(config);
  configUrl = config.restUrl;
});

after(async () => {
  for (const part of running) await part.close();
  files.remove();
});

async function rest(token: string | undefined, method: string, path: string, body?: unknown) {
  const response = await fetch(`${configUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { 'x-auth-token': token } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, { uuid: string }> };
}

test('every change and every refused attempt is in analytics: who, what, when, and how it ended', {
  skip,
}, async () => {
  const start = Date.now();
  for (const name of ['alice', 'bob']) {
    assert.equal(
      (await rest(ADMIN, 'POST', '/projects', { project: { fq_name: ['default-domain', name] } })).status,
      200,
    );
  }
  const made = await rest(ALICE, 'POST', '/network-policys', {
    'network-policy': { fq_name: ['default-domain', 'alice', 'audited'] },
  });
  assert.equal(made.status, 200);
  const uuid = made.body['network-policy']!.uuid;
  assert.equal((await rest(BOB, 'DELETE', `/network-policy/${uuid}`)).status, 404);
  assert.equal((await rest(undefined, 'DELETE', `/network-policy/${uuid}`)).status, 401);
  assert.equal((await rest(ALICE, 'DELETE', `/network-policy/${uuid}`)).status, 200);

  type Row = { T: number; message: string; fields: string };
  const rows = await waitFor(
    async () => {
      const response = await fetch(`${analyticsUrl}/analytics/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          table: 'MessageTable',
          start_time: start - 1_000,
          end_time: 'now+1m',
          select_fields: ['T', 'message', 'fields'],
          where: [
            [
              { name: 'service', value: 'config-api' },
              { name: 'event', value: 'config.change' },
            ],
          ],
          sort_fields: ['T'],
        }),
      });
      const value = ((await response.json()) as { value?: Row[] }).value ?? [];
      return value.filter((row) => row.fields.includes(uuid)).length >= 4 ? value : undefined;
    },
    { what: 'the audit events in analytics' },
  );
  const about = rows
    .map((row): Record<string, string | number | undefined> => ({ ...JSON.parse(row.fields), T: row.T }))
    .filter((entry) => entry.uuid === uuid);
  assert.deepEqual(
    about.map(({ user, method, type, status, code }) => ({ user, method, type, status, ...(code ? { code } : {}) })),
    [
      { user: 'alice', method: 'POST', type: 'network-policy', status: 200 },
      { user: 'bob', method: 'DELETE', type: 'network-policy', status: 404, code: 'NOT_FOUND' },
      { user: '(unauthenticated)', method: 'DELETE', type: 'network-policy', status: 401, code: 'TOKEN_MISSING' },
      { user: 'alice', method: 'DELETE', type: 'network-policy', status: 200 },
    ],
  );
  // When: each record's time, in the order the requests were made.
  const times = about.map((entry) => Number(entry.T));
  assert.deepEqual(
    [...times].sort((a, b) => a - b),
    times,
  );
  const projects = rows.map((row) => JSON.parse(row.fields)).filter((entry) => entry.type === 'project');
  assert.deepEqual(
    projects.map((entry) => entry.user),
    ['admin', 'admin'],
  );
});
