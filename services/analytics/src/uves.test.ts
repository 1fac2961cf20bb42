// UVEs end to end: real nats-server, sources publishing through kit's UvePublisher, analytics
// merging, marking stale, alarming, and streaming the changes.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, createMetrics, NatsLink, Readiness, UvePublisher } from '@weft/kit';
import { natsServerMissing, startNatsServer, tempDir, waitFor } from '@weft/kit/testing';
import { startAnalytics } from './index.js';

const quiet = createLogger({
  service: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});

function source(url: string, name: string) {
  return new NatsLink({
    servers: [url],
    name,
    logger: quiet,
    metrics: createMetrics(`src-${name}-${Math.random().toString(36).slice(2)}`),
    readiness: new Readiness(),
  });
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any;

const getJson = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Json };
};

/** Reads server-sent events from a stream into an array as they come. */
async function sseEvents(url: string) {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  assert.equal(response.headers.get('content-type'), 'text/event-stream');
  const events: { event: string; data: Json }[] = [];
  const reader = response.body!.getReader();
  void (async () => {
    let buffer = '';
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, close: () => controller.abort() };
}

test('UVEs from config-api, control and an agent merge; a source that stops goes stale and raises alarms', {
  skip: natsServerMissing(),
  timeout: 60_000,
}, async () => {
  const nats = await startNatsServer();
  const state = tempDir('weft-analytics-uves-');
  const analytics = await startAnalytics({
    stateDir: state.path,
    natsUrl: [nats.url],
    host: 'an-1',
    sweepIntervalMs: 100,
  });
  const links = [source(nats.url, 'config-api'), source(nats.url, 'control'), source(nats.url, 'agent')];
  const [configLink, controlLink, agentLink] = links as [NatsLink, NatsLink, NatsLink];
  const configApi = new UvePublisher({ link: configLink, source: 'config-api:cfg-1', ttlMs: 1_500 });
  const control = new UvePublisher({ link: controlLink, source: 'control:ctl-1', ttlMs: 1_500 });
  const agent = new UvePublisher({ link: agentLink, source: 'vrouter-agent:host-1', ttlMs: 1_500 });
  const alarmStream = await sseEvents(`${analytics.restUrl}/analytics/alarm-stream`);
  const uveStream = await sseEvents(`${analytics.restUrl}/analytics/uve-stream?tablefilt=vrouter`);
  try {
    configApi.set('config-api', 'cfg-1', { process_state: 'running', store_reachable: true, resources: 12 });
    control.set('vrouter', 'host-1', { routes: 40, control_node: 'ctl-1' });
    agent.set('vrouter', 'host-1', { control_connected: true, interfaces: 3, routes: 40 });
    control.set('control', 'ctl-1', { process_state: 'running', agents: 1 });

    // The vrouter entity merges the control's and the agent's parts.
    const merged = await waitFor(
      async () => {
        const { status, body } = await getJson(`${analytics.restUrl}/analytics/uves/vrouter/host-1`);
        return status === 200 && body.sources.length === 2 ? body : undefined;
      },
      { what: 'merged vrouter UVE' },
    );
    assert.deepEqual(merged.value, { control_connected: true, interfaces: 3, routes: 40, control_node: 'ctl-1' });
    assert.deepEqual(
      merged.sources.map((s: { source: string; stale: boolean }) => [s.source, s.stale]),
      [
        ['control:ctl-1', false],
        ['vrouter-agent:host-1', false],
      ],
    );
    // Where sources disagree, each value shows with its source.
    agent.update('vrouter', 'host-1', { routes: 39 });
    const disagreeing = await waitFor(async () => {
      const { body } = await getJson(`${analytics.restUrl}/analytics/uves/vrouter/host-1?cfilt=routes`);
      return Array.isArray(body.value.routes) ? body : undefined;
    });
    assert.deepEqual(disagreeing.value, {
      routes: [
        { source: 'control:ctl-1', value: 40 },
        { source: 'vrouter-agent:host-1', value: 39 },
      ],
    });

    // Filters: one source's part (sfilt), names by pattern (kfilt).
    const fromAgent = await getJson(
      `${analytics.restUrl}/analytics/uves/vrouter/host-1?sfilt=vrouter-agent:host-1&cfilt=routes`,
    );
    assert.deepEqual(fromAgent.body.value, { routes: 39 });
    assert.deepEqual(Object.keys(fromAgent.body.parts), ['vrouter-agent:host-1']);
    assert.equal((await getJson(`${analytics.restUrl}/analytics/uves/vrouter/host-1?sfilt=control:nope`)).status, 404);
    assert.deepEqual((await getJson(`${analytics.restUrl}/analytics/uves/vrouters?kfilt=host-*`)).body.length, 1);
    assert.deepEqual((await getJson(`${analytics.restUrl}/analytics/uves/vrouters?kfilt=ctl-*,h`)).body, []);
    const bySource = await getJson(`${analytics.restUrl}/analytics/uves/controls?sfilt=control:ctl-1`);
    assert.deepEqual(
      bySource.body.map((v: { name: string; value: unknown }) => [v.name, v.value]),
      [['ctl-1', { process_state: 'running', agents: 1 }]],
    );

    const types = await getJson(`${analytics.restUrl}/analytics/uve-types`);
    for (const type of ['analytics', 'config-api', 'control', 'vrouter']) assert.ok(type in types.body, type);
    const vrouters = await getJson(`${analytics.restUrl}/analytics/uves/vrouters`);
    assert.deepEqual(vrouters.body, [{ name: 'host-1', href: '/analytics/uves/vrouter/host-1', stale: false }]);
    const list = await getJson(`${analytics.restUrl}/analytics/uves`);
    assert.ok(list.body.some((entry: { name: string }) => entry.name === 'vrouters'));
    assert.equal((await getJson(`${analytics.restUrl}/analytics/uves/vrouter/nope`)).status, 404);
    assert.deepEqual((await getJson(`${analytics.restUrl}/analytics/alarms`)).body.alarms, []);

    // The agent stops (a crash: no withdrawal). Its part goes stale; the entity stays, and the
    // alarms say what is wrong: the process stopped reporting, and no fresh part says the
    // vrouter is connected to control.
    await agent.close();
    await agentLink.close();
    const alarms = await waitFor(
      async () => {
        const { body } = await getJson(`${analytics.restUrl}/analytics/alarms`);
        return body.alarms.length >= 2 ? body.alarms : undefined;
      },
      { what: 'alarms after the agent stopped' },
    );
    assert.deepEqual(
      alarms
        .map((a: { rule: string; type: string; name: string; source?: string }) => [a.rule, a.type, a.name, a.source])
        .sort(),
      [
        ['process-stopped-reporting', 'vrouter-agent', 'host-1', 'vrouter-agent:host-1'],
        ['vrouter-without-control-connection', 'vrouter', 'host-1', undefined],
      ],
    );
    const stale = (await getJson(`${analytics.restUrl}/analytics/uves/vrouter/host-1`)).body;
    assert.deepEqual(
      stale.sources.map((s: { source: string; stale: boolean }) => [s.source, s.stale]),
      [
        ['control:ctl-1', false],
        ['vrouter-agent:host-1', true],
      ],
    );
    // The merged value now holds only what a live source says, and the entity shows its alarms.
    assert.deepEqual(stale.value, { routes: 40, control_node: 'ctl-1' });
    assert.deepEqual(stale.alarms.map((a: { rule: string }) => a.rule).sort(), [
      'process-stopped-reporting',
      'vrouter-without-control-connection',
    ]);
    assert.equal(stale.stale, false);

    // The config store becomes unreachable, then reachable again: raised, then cleared.
    configApi.update('config-api', 'cfg-1', { store_reachable: false });
    await waitFor(async () =>
      (await getJson(`${analytics.restUrl}/analytics/alarms?type=config-api`)).body.alarms.some(
        (a: { rule: string }) => a.rule === 'config-store-unreachable',
      ),
    );
    configApi.update('config-api', 'cfg-1', { store_reachable: true });
    await waitFor(() =>
      alarmStream.events.some((e) => e.event === 'clear' && e.data.rule === 'config-store-unreachable'),
    );

    // The agent comes back (a restart): its part is fresh again and both alarms clear.
    const againLink = source(nats.url, 'agent-again');
    links.push(againLink);
    const again = new UvePublisher({ link: againLink, source: 'vrouter-agent:host-1', ttlMs: 1_500 });
    again.set('vrouter', 'host-1', { control_connected: true, interfaces: 3, routes: 40 });
    await waitFor(
      () =>
        ['process-stopped-reporting', 'vrouter-without-control-connection'].every((rule) =>
          alarmStream.events.some((e) => e.event === 'clear' && e.data.rule === rule),
        ),
      { what: 'both alarms cleared' },
    );
    assert.deepEqual((await getJson(`${analytics.restUrl}/analytics/alarms`)).body.alarms, []);
    await again.close();

    // A source that withdraws its part raises nothing: control removes its vrouter part.
    control.remove('vrouter', 'host-1');
    await waitFor(
      async () => (await getJson(`${analytics.restUrl}/analytics/uves/vrouter/host-1`)).body.sources?.length === 1,
    );

    // The streams saw it all happen, in order.
    const raised = alarmStream.events.filter((e) => e.event === 'raise').map((e) => e.data.rule);
    assert.ok(raised.includes('process-stopped-reporting'));
    assert.ok(raised.includes('config-store-unreachable'));
    assert.ok(uveStream.events.length >= 3);
    assert.ok(uveStream.events.every((e) => e.data.type === 'vrouter'));
    assert.ok(uveStream.events.some((e) => e.data.sources?.some((s: { stale: boolean }) => s.stale)));
  } finally {
    alarmStream.close();
    uveStream.close();
    await Promise.all([configApi.close(), control.close(), agent.close()]);
    await Promise.all(links.map((link) => link.close()));
    await analytics.close();
    await nats.dispose();
    state.remove();
  }
});

test('UVE parts survive an analytics restart, and a stopped source is stale after it', {
  skip: natsServerMissing(),
  timeout: 60_000,
}, async () => {
  const nats = await startNatsServer();
  const state = tempDir('weft-analytics-uve-restart-');
  const options = { stateDir: state.path, natsUrl: [nats.url], host: 'an-1', sweepIntervalMs: 100 };
  let analytics = await startAnalytics(options);
  const link = source(nats.url, 'control');
  const control = new UvePublisher({ link, source: 'control:ctl-1', ttlMs: 1_500 });
  try {
    control.set('control', 'ctl-1', { process_state: 'running', agents: 2 });
    await waitFor(async () => (await getJson(`${analytics.restUrl}/analytics/uves/control/ctl-1`)).status === 200);
    await analytics.close();
    analytics = await startAnalytics(options);
    const view = (await getJson(`${analytics.restUrl}/analytics/uves/control/ctl-1`)).body;
    assert.deepEqual(view.value, { process_state: 'running', agents: 2 });
    await control.close();
    await waitFor(
      async () => (await getJson(`${analytics.restUrl}/analytics/uves/control/ctl-1`)).body.stale === true,
      {
        what: 'control stale after it stopped',
      },
    );
  } finally {
    await control.close();
    await link.close();
    await analytics.close();
    await nats.dispose();
    state.remove();
  }
});
