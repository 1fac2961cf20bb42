// Who may read analytics: a token is needed (401 without); flows, logs and UVEs cross tenants, so
// a cloud-admin or a global reader reads everything and a tenant his projects' only (the two-tenant
// case end to end: test/e2e/analytics-tenancy.test.ts). Probes stay open.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type NatsServerProcess, natsServerMissing, startNatsServer, tempDir, waitFor } from '@weft/kit/testing';
import { type RunningAnalytics, startAnalytics } from '../index.js';

const skip = natsServerMissing();
const files = tempDir('weft-analytics-auth-');
let nats: NatsServerProcess;
let analytics: RunningAnalytics;

before(async () => {
  if (skip) return;
  nats = await startNatsServer();
  const tokensFile = join(files.path, 'tokens.json');
  writeFileSync(
    tokensFile,
    JSON.stringify({
      tokens: [
        { token: 'reader-token-0123456789abcdef', user: 'control', roles: ['reader'] },
        { token: 'member-token-0123456789abcdef', user: 'alice', projects: { 'default-domain:alice': 'member' } },
      ],
    }),
  );
  analytics = await startAnalytics({
    stateDir: join(files.path, 'state'),
    natsUrl: [nats.url],
    auth: { mode: 'rbac', tokensFile },
    host: 'tenancy-unit',
  });
});
after(async () => {
  if (skip) return;
  await analytics.close();
  await nats.dispose();
  files.remove();
});

const get = (path: string, token?: string) =>
  fetch(`${analytics.restUrl}${path}`, { headers: token ? { 'x-auth-token': token } : {} });

test('queries need a token: no token 401; a tenant member is served his projects only (none here), a reader everything; probes stay open', {
  skip,
}, async () => {
  const none = await get('/analytics/uves');
  assert.equal(none.status, 401);
  assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'TOKEN_MISSING');
  // analytics' own UVE is the system's: the reader sees it, alice's project has nothing.
  await waitFor(
    async () => {
      const reader = await get('/analytics/uves', 'reader-token-0123456789abcdef');
      assert.equal(reader.status, 200);
      return ((await reader.json()) as { name: string }[]).some((type) => type.name === 'analyticss');
    },
    { what: "analytics' own UVE, as the reader sees it" },
  );
  const member = await get('/analytics/uves', 'member-token-0123456789abcdef');
  assert.equal(member.status, 200);
  assert.deepEqual(await member.json(), []);
  assert.equal((await get('/analytics/uves/analytics/tenancy-unit', 'member-token-0123456789abcdef')).status, 404);
  assert.equal((await get('/healthz')).status, 200);
  assert.equal((await get('/readyz')).status, 200);
});
