// Analytics per tenant, end to end. Two tenants make their networks through config-api; control
// compiles them and reports their routing instances to analytics over NATS; flow records of each
// network arrive as an agent sends them, and a vrouter raises an alarm. The real analytics daemon
// (main.js, the tokens file config-api uses) gives each tenant's token his projects' UVEs, flows,
// samples and alarms only: another's answers 404 or is absent, as config-api answers. The
// projects are "red" and "red2", so that a name merely starting like another project's is not
// taken for it. Then the daemon's WEFT_ANALYTICS_RATE_LIMIT: a tenant past it gets 429.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { startConfigApi } from '@weft/config-api';
import { startControl } from '@weft/control';
import { createLogger, createMetrics, NatsLink, publishFlows, Readiness, UvePublisher } from '@weft/kit';
import { freePort, natsServerMissing, startNatsServer, tempDir, waitFor } from '@weft/kit/testing';
import { repoRoot } from '../support/stack.js';

const ADMIN = 'tenancy-admin-token-0123456789';
const ALICE = 'tenancy-alice-token-0123456789';
const CAROL = 'tenancy-carol-token-0123456789';
const BOB = 'tenancy-bob-token-01234567890';
const ERIN = 'tenancy-erin-token-0123456789';
/** The daemon's WEFT_ANALYTICS_RATE_LIMIT: more than the first test's requests of any tenant. */
const RATE = 30;

const RED_NET = 'default-domain:red:web';
const RED2_NET = 'default-domain:red2:web';
const RED_RI = `${RED_NET}:web`;
const RED2_RI = `${RED2_NET}:web`;
const HOST = `tenancy-${process.pid}`;

type Json = Record<string, unknown>;
type Closer = () => Promise<unknown>;

const skip = natsServerMissing();
const files = tempDir('weft-analytics-tenancy-');
const closers: Closer[] = [];
let analyticsUrl = '';
let configUrl = '';
let daemon: ChildProcess | undefined;
let daemonOutput = '';
let link: NatsLink;
let vrouter: UvePublisher;

before(async () => {
  if (skip) return;
  const nats = await startNatsServer();
  closers.push(() => nats.dispose());
  const tokensFile = join(files.path, 'tokens.json');
  writeFileSync(
    tokensFile,
    JSON.stringify({
      tokens: [
        { token: ADMIN, user: 'admin', roles: ['cloud-admin'] },
        { token: ALICE, user: 'alice', projects: { 'default-domain:red': 'member' } },
        { token: CAROL, user: 'carol', projects: { 'default-domain:red': 'reader' } },
        { token: BOB, user: 'bob', projects: { 'default-domain:red2': 'member' } },
        { token: ERIN, user: 'erin', projects: { 'default-domain:red': 'member' } },
      ],
    }),
  );

  const port = await freePort();
  daemon = spawn(process.execPath, [join(repoRoot, 'services', 'analytics', 'dist', 'main.js')], {
    // Only this daemon's own options: it refuses any WEFT_* it does not declare.
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WEFT_'))),
      WEFT_STATE_DIR: join(files.path, 'analytics'),
      WEFT_NATS_URL: nats.url,
      WEFT_REST_PORT: String(port),
      WEFT_REST_HOST: '127.0.0.1',
      WEFT_HOST: HOST,
      WEFT_AUTH_MODE: 'rbac',
      WEFT_AUTH_TOKENS_FILE: tokensFile,
      WEFT_ANALYTICS_RATE_LIMIT: String(RATE),
      WEFT_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  daemon.stdout?.on('data', (chunk: Buffer) => {
    daemonOutput += chunk.toString();
  });
  daemon.stderr?.on('data', (chunk: Buffer) => {
    daemonOutput += chunk.toString();
  });
  const exited = new Promise((resolve) => daemon!.once('exit', resolve));
  closers.push(async () => {
    if (daemon!.exitCode === null && daemon!.signalCode === null) daemon!.kill('SIGTERM');
    await exited;
  });
  analyticsUrl = `http://127.0.0.1:${port}`;
  // Ready once its streams exist: nothing published after this is lost.
  await waitFor(async () => (await fetch(`${analyticsUrl}/readyz`).catch(() => undefined))?.status === 200, {
    what: `analytics to be ready (its output: ${daemonOutput})`,
    timeoutMs: 30_000,
  });

  const config = await startConfigApi({
    stateDir: join(files.path, 'config-api'),
    natsUrl: [nats.url],
    auth: { mode: 'rbac', tokensFile },
  });
  closers.unshift(() => config.close());
  configUrl = config.restUrl;
  const controlToken = join(files.path, 'control.token');
  writeFileSync(controlToken, `${ADMIN}\n`);
  const control = await startControl({
    configApiGrpc: config.grpcAddress,
    configApiTokenFile: controlToken,
    natsUrl: [nats.url],
    logLevel: 'silent',
    name: HOST,
  });
  closers.unshift(() => control.close());

  const quiet = createLogger({
    service: 'tenancy-test',
    level: 'silent',
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });
  link = new NatsLink({
    servers: [nats.url],
    name: 'tenancy-test',
    logger: quiet,
    metrics: createMetrics('tenancy_test'),
    readiness: new Readiness(),
  });
  await link.connection();
  vrouter = new UvePublisher({ link, source: `vrouter-agent:${HOST}`, logger: quiet });
  closers.unshift(
    () => link.close(),
    () => vrouter.close(),
  );
});

after(async () => {
  for (const close of closers) await close();
  files.remove();
});

async function configRest(token: string, method: string, path: string, body: unknown) {
  const response = await fetch(`${configUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, `${method} ${path}: ${await response.text()}`);
}

async function get(token: string, path: string): Promise<{ status: number; body: Json & Json[] }> {
  const response = await fetch(`${analyticsUrl}${path}`, { headers: { 'x-auth-token': token } });
  return { status: response.status, body: (await response.json()) as Json & Json[] };
}

async function query(token: string, body: Json): Promise<{ status: number; body: { value?: Json[] } & Json }> {
  const response = await fetch(`${analyticsUrl}/analytics/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    body: JSON.stringify({ start_time: 'now-1h', end_time: 'now+1h', ...body }),
  });
  return { status: response.status, body: (await response.json()) as { value?: Json[] } & Json };
}

const flows = async (token: string) => {
  const answer = await query(token, { table: 'FlowRecordTable', select_fields: ['record_id'] });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.value!.map((row) => row.record_id).sort();
};

const names = (list: Json[]) => list.map((item) => item.name).sort();

/** The events of an SSE stream, until `done` holds of them. */
async function streamUntil(token: string, path: string, done: (events: Json[]) => boolean): Promise<Json[]> {
  const controller = new AbortController();
  const response = await fetch(`${analyticsUrl}${path}`, {
    headers: { 'x-auth-token': token },
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  const events: Json[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    await waitFor(
      async () => {
        const { value, done: ended } = await reader.read();
        if (ended) throw new Error('the stream ended');
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
          buffer = buffer.slice(end + 2);
          if (data) events.push(JSON.parse(data));
        }
        return done(events);
      },
      { what: `events of ${path}`, intervalMs: 1 },
    );
  } finally {
    controller.abort();
  }
  return events;
}

test('each tenant reads his projects’ UVEs, flows, samples and alarms only; another’s is 404 or absent', {
  skip,
}, async () => {
  for (const name of ['red', 'red2']) {
    await configRest(ADMIN, 'POST', '/projects', { project: { fq_name: ['default-domain', name] } });
  }
  await configRest(ALICE, 'POST', '/virtual-networks', { 'virtual-network': { fq_name: RED_NET.split(':') } });
  await configRest(BOB, 'POST', '/virtual-networks', { 'virtual-network': { fq_name: RED2_NET.split(':') } });

  const now = Date.now();
  const flow = (record_id: string, from: string, to: string) => ({
    record_id,
    source_ip: '10.0.0.1',
    destination_ip: '10.0.0.2',
    protocol: 6,
    destination_port: 80,
    source_virtual_network: from,
    destination_virtual_network: to,
    bytes: 100,
    packets: 1,
    first_seen_ms: now,
    last_seen_ms: now,
  });
  assert.ok(
    publishFlows(link, HOST, [
      flow('in-red', RED_NET, RED_NET),
      flow('in-red2', RED2_NET, RED2_NET),
      flow('red-to-red2', RED_NET, RED2_NET),
      flow('underlay', '', ''),
    ]),
  );
  // A vrouter without control: a system alarm, the operator's to see.
  vrouter.set('vrouter', HOST, { process_state: 'running', control_connected: false });

  // Everything has arrived, as the cloud-admin sees it.
  await waitFor(
    async () => {
      const instances = names((await get(ADMIN, '/analytics/uves/routing-instances')).body);
      return instances.includes(RED_RI) && instances.includes(RED2_RI);
    },
    { what: "control's routing-instance UVEs of both networks", timeoutMs: 30_000 },
  );
  await waitFor(async () => (await flows(ADMIN)).length === 4, { what: 'the four flow records' });
  await waitFor(
    async () =>
      ((await get(ADMIN, '/analytics/alarms')).body.alarms as Json[]).some(
        (alarm) => alarm.type === 'vrouter' && alarm.name === HOST,
      ),
    { what: "the vrouter's alarm" },
  );
  const sampled = async (token: string) => {
    const answer = await query(token, { table: 'StatTable.UveStat', select_fields: ['type', 'name', 'COUNT(*)'] });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.value!.map((row) => `${row.type} ${row.name}`).sort();
  };
  await waitFor(
    async () => {
      const samples = await sampled(ADMIN);
      return samples.includes(`routing-instance ${RED_RI}`) && samples.includes(`routing-instance ${RED2_RI}`);
    },
    { what: 'UVE samples of both routing instances' },
  );
  assert.ok((await sampled(ADMIN)).includes(`vrouter ${HOST}`), 'the admin sees the system samples');
  assert.ok(names((await get(ADMIN, '/analytics/uves')).body).includes('vrouters'));

  // alice (member of red) and carol (reader of red) see red's, and nothing else.
  for (const token of [ALICE, CAROL]) {
    assert.deepEqual(names((await get(token, '/analytics/uves')).body), ['routing-instances']);
    assert.deepEqual((await get(token, '/analytics/uve-types')).body, { 'routing-instance': { count: 1 } });
    assert.deepEqual(names((await get(token, '/analytics/uves/routing-instances')).body), [RED_RI]);
    assert.deepEqual(await flows(token), ['in-red', 'red-to-red2']);
  }
  const own = await get(ALICE, `/analytics/uves/routing-instance/${encodeURIComponent(RED_RI)}`);
  assert.equal(own.status, 200);
  assert.equal(own.body.name, RED_RI);
  assert.deepEqual(own.body.alarms, [], "the system's alarms are not shown with a tenant's entity");
  const flat = (await get(ALICE, '/analytics/uves/routing-instances?flat')).body;
  assert.deepEqual(names(flat), [RED_RI]);

  // Another tenant's entity and a system one answer as one that does not exist.
  for (const [type, name] of [
    ['routing-instance', RED2_RI],
    ['vrouter', HOST],
    ['analytics', HOST],
    ['routing-instance', 'default-domain:red:nothing:nothing'],
  ]) {
    const answer = await get(ALICE, `/analytics/uves/${type}/${encodeURIComponent(name!)}`);
    assert.equal(answer.status, 404, `${type} ${name}`);
    const { code, message } = answer.body.error as Json;
    assert.deepEqual({ code, message }, { code: 'NO_SUCH_UVE', message: `no ${type} UVE named ${name}` });
  }
  assert.deepEqual((await get(ALICE, '/analytics/uves/vrouters')).body, []);
  assert.deepEqual((await get(ALICE, '/analytics/alarms')).body, { alarms: [] });

  // A where cannot widen the scope; the log table (services' logs, the audit) is the system's.
  const widened = await query(ALICE, {
    table: 'FlowRecordTable',
    select_fields: ['COUNT(*)'],
    where: [[{ name: 'source_virtual_network', value: RED2_NET }]],
  });
  assert.deepEqual(widened.body.value, [{ 'COUNT(*)': 0 }]);
  const samples = await sampled(ALICE);
  assert.ok(samples.length > 0);
  assert.deepEqual(
    samples.filter((sample) => sample !== `routing-instance ${RED_RI}`),
    [],
    'samples of red’s routing instance only',
  );
  const logs = await query(ALICE, { table: 'MessageTable', select_fields: ['T'] });
  assert.equal(logs.status, 403);
  assert.equal((logs.body.error as Json).code, 'FORBIDDEN');
  assert.equal((await query(ADMIN, { table: 'MessageTable', select_fields: ['T'] })).status, 200);

  // The live stream: the current state first, red's only.
  const events = await streamUntil(ALICE, '/analytics/uve-stream', (seen) => seen.some((e) => e.name === RED_RI));
  assert.deepEqual(
    events.filter((event) => event.name !== RED_RI),
    [],
    'no other entity in the stream',
  );

  // bob (member of red2) sees red2's; red's answers 404.
  assert.deepEqual(names((await get(BOB, '/analytics/uves/routing-instances')).body), [RED2_RI]);
  assert.deepEqual(await flows(BOB), ['in-red2', 'red-to-red2']);
  assert.equal((await get(BOB, `/analytics/uves/routing-instance/${encodeURIComponent(RED_RI)}`)).status, 404);
  assert.deepEqual(await sampled(BOB), [`routing-instance ${RED2_RI}`]);

  // The cloud-admin sees everything.
  assert.deepEqual(await flows(ADMIN), ['in-red', 'in-red2', 'red-to-red2', 'underlay']);
  const adminView = await get(ADMIN, `/analytics/uves/vrouter/${HOST}`);
  assert.equal(adminView.status, 200);
  assert.ok((adminView.body.alarms as Json[]).some((alarm) => alarm.rule === 'vrouter-without-control-connection'));
});

test('WEFT_ANALYTICS_RATE_LIMIT: a tenant token past it gets 429 RATE_LIMITED; another token, cloud-admin and the probes go on', {
  skip,
}, async () => {
  for (let i = 0; i < RATE; i++) assert.equal((await get(ERIN, '/analytics/uves')).status, 200, `request ${i + 1}`);
  const limited = await get(ERIN, '/analytics/uves');
  assert.equal(limited.status, 429);
  assert.equal((limited.body.error as Json).code, 'RATE_LIMITED');
  assert.match(String((limited.body.error as Json).message), new RegExp(`at most ${RATE} per minute for one token`));
  assert.equal((await get(ALICE, '/analytics/uves')).status, 200, 'another token of the same project has its own');
  for (let i = 0; i < RATE + 10; i++) assert.equal((await get(ADMIN, '/analytics/uves')).status, 200);
  assert.equal((await fetch(`${analyticsUrl}/healthz`)).status, 200);
});
