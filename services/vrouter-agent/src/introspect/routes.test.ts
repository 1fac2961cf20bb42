// Who may use the agent's introspection: every route (host state, datapath, both probes) wants a
// cloud-admin token of the tokens file, as config-api and analytics check it; a reader's token is
// refused, naming why; /healthz, /readyz and /metrics stay open. The app is the agent's own
// (the kit's HTTP app with the introspection registered as main.ts does), driven by inject; with
// no datapath loaded, a caller let through meets the datapath's own answer (503), not auth's.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Authenticator, createHttpApp, createLogger, createMetrics, Readiness } from '@weft/kit';
import { tempDir } from '@weft/kit/testing';
import { HostState } from '../host-state/host-state.js';
import { registerIntrospection } from './routes.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const ADMIN = 'admin-token-0123456789abcdef';
const READER = 'reader-token-0123456789abcdef';
const MEMBER = 'member-token-0123456789abcdef';

const dir = tempDir('weft-agent-introspect-');
let app: ReturnType<typeof createHttpApp>;

before(async () => {
  const tokensFile = join(dir.path, 'tokens.json');
  writeFileSync(
    tokensFile,
    JSON.stringify({
      tokens: [
        { token: ADMIN, user: 'admin', roles: ['cloud-admin'] },
        { token: READER, user: 'auditor', roles: ['reader'] },
        { token: MEMBER, user: 'alice', projects: { 'default-domain:blue': 'member' } },
      ],
    }),
  );
  const state = new HostState();
  app = createHttpApp({ logger, readiness: new Readiness(), metrics: createMetrics('vrouter-agent') });
  registerIntrospection(
    app,
    {
      hostState: () => ({ host: 'h1', synced: state.synced }),
      view: () => state.view(),
      ports: () => [],
      inspect: () => undefined,
    },
    new Authenticator({ mode: 'rbac', tokensFile }, { logger, host: '0.0.0.0' }),
  );
  await app.ready();
});

after(async () => {
  await app?.close();
  dir.remove();
});

const probe = { interface_uuid: 'vmi-a', destination: '10.1.0.3' };
const tunnelProbe = { frame: '00', vni: 5, from: '10.255.0.2', flow: {} };
const routes = [
  { method: 'GET', url: '/host-state' },
  { method: 'GET', url: '/datapath' },
  { method: 'POST', url: '/probe', payload: probe },
  { method: 'POST', url: '/probe/tunnel', payload: tunnelProbe },
] as const;

const call = (route: (typeof routes)[number], headers: Record<string, string> = {}) =>
  app.inject({
    method: route.method,
    url: route.url,
    headers,
    ...('payload' in route ? { payload: route.payload } : {}),
  });

test('without a token every introspection route is refused with 401, and nothing runs', async () => {
  for (const route of routes) {
    const answer = await call(route);
    assert.equal(answer.statusCode, 401, `${route.method} ${route.url}: ${answer.body}`);
    assert.equal(answer.json().error.code, 'TOKEN_MISSING', route.url);
    const unknown = await call(route, { 'x-auth-token': 'not-a-token-of-the-file' });
    assert.equal(unknown.statusCode, 401, `${route.url} with an unknown token`);
  }
});

test('a reader or a project member is refused with 403, naming cloud-admin', async () => {
  for (const token of [READER, MEMBER]) {
    for (const route of routes) {
      const answer = await call(route, { 'x-auth-token': token });
      assert.equal(answer.statusCode, 403, `${route.method} ${route.url}: ${answer.body}`);
      assert.match(answer.json().error.message, /may not use the agent's introspection \(cloud-admin only\)/);
    }
  }
});

test('a cloud-admin token is let through, as X-Auth-Token or Authorization: Bearer', async () => {
  const state = await call(routes[0], { authorization: `Bearer ${ADMIN}` });
  assert.equal(state.statusCode, 200, state.body);
  assert.deepEqual(state.json(), { host: 'h1', synced: false });
  // No datapath is loaded here: the routes' own answer, past authentication.
  for (const route of routes.slice(1)) {
    const answer = await call(route, { 'x-auth-token': ADMIN });
    assert.equal(answer.statusCode, 503, `${route.method} ${route.url}: ${answer.body}`);
    assert.equal(answer.json().error.code, 'DATAPATH_UNAVAILABLE', route.url);
  }
});

test('health, readiness and metrics stay open, as on every daemon', async () => {
  assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
  assert.notEqual((await app.inject({ url: '/readyz' })).statusCode, 401);
  const metrics = await app.inject({ url: '/metrics' });
  assert.equal(metrics.statusCode, 200);
});
