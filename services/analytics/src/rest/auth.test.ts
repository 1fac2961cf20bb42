// Who may read analytics: flows, logs and UVEs cross tenants, so only a cloud-admin or a global
// reader; a tenant's member token is refused with 403, no token with 401. Probes stay open.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type NatsServerProcess, natsServerMissing, startNatsServer, tempDir } from '@weft/kit/testing';
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

test('queries need a cloud-admin or reader token; a member gets 403, no token 401, probes stay open', {
  skip,
}, async () => {
  const none = await get('/analytics/uves');
  assert.equal(none.status, 401);
  assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'TOKEN_MISSING');
  const member = await get('/analytics/uves', 'member-token-0123456789abcdef');
  assert.equal(member.status, 403);
  assert.equal(((await member.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');
  assert.equal((await get('/analytics/uves', 'reader-token-0123456789abcdef')).status, 200);
  assert.equal((await get('/healthz')).status, 200);
  assert.equal((await get('/readyz')).status, 200);
});
