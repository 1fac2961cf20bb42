import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger, createMetrics } from '@weft/kit';
import { type NatsServerProcess, natsServerMissing, startNatsServer, waitFor } from '@weft/kit/testing';
import { messageCodec } from '@weft/proto';
import { connect, type NatsConnection } from 'nats';
import { virtualNetwork } from '../testing/fixtures.js';
import { MemoryConfigServer } from '../testing/memory-config-server.js';
import { ConfigClient } from './config-client.js';
import { CONFIG_CHANGES_SUBJECT, ConfigFeed } from './feed.js';
import { ConfigStore } from './store.js';

const skip = natsServerMissing();

describe('config feed', { skip }, () => {
  let nats: NatsServerProcess;
  let bus: NatsConnection;
  const codec = messageCodec('weft.config.v1.ChangeEvent');

  before(async () => {
    nats = await startNatsServer({ jetstream: false });
    bus = await connect({ servers: nats.url });
  });
  after(async () => {
    await bus.close();
    await nats.dispose();
  });

  async function setup() {
    const server = new MemoryConfigServer();
    let publish = true;
    server.onCommit = (event) => {
      if (publish) bus.publish(CONFIG_CHANGES_SUBJECT, codec.encode(event));
    };
    const address = await server.listen();
    const store = new ConfigStore();
    let changes = 0;
    const client = new ConfigClient(address);
    const metrics = createMetrics('control');
    const feed = new ConfigFeed({
      client,
      store,
      onChange: () => {
        changes += 1;
      },
      logger: createLogger({ service: 'control', level: 'silent' }),
      metrics,
      watchStallMs: 200,
    });
    const subscriber = await connect({ servers: nats.url });
    feed.subscribe(subscriber);
    return {
      server,
      store,
      feed,
      relists: async (reason: string) => {
        const metric = await metrics.registry.getSingleMetric('weft_control_config_relists_total')!.get();
        return metric.values.find((value) => value.labels.reason === reason)?.value ?? 0;
      },
      changes: () => changes,
      setPublish: (on: boolean) => {
        publish = on;
      },
      async close() {
        await feed.close();
        client.close();
        server.close();
        await subscriber.close();
      },
    };
  }

  it('lists what exists, then follows every change in revision order', async () => {
    const t = await setup();
    const red = t.server.put('virtual-network', virtualNetwork('red', { prefix: '10.1.0.0' }));
    t.server.put('network-policy', { fq_name: ['default-domain', 'admin', 'p'] });
    t.feed.start();
    await t.feed.whenSynced();
    assert.equal(t.store.count('virtual-network'), 1);
    assert.equal(t.store.count('network-policy'), 1);
    assert.equal(t.feed.revision, 2);
    t.setPublish(false);
    // A type control does not compile changes between two it does: its revision is no gap.
    t.server.put('project', { fq_name: ['default-domain', 'other'] });
    const blue = t.server.put('virtual-network', virtualNetwork('blue', { prefix: '10.2.0.0' }));
    t.server.remove(red);
    await waitFor(() => t.feed.revision === 5, { what: 'revision 5' });
    assert.equal(await t.relists('gap'), 0);
    assert.equal(t.store.count(), 2, 'only compiled types are kept: blue and the policy');
    t.setPublish(true);
    assert.ok(t.store.get('virtual-network', blue));
    assert.equal(t.store.get('virtual-network', red), undefined);
    assert.ok(t.changes() >= 2);
    await t.close();
  });

  it('takes a change from NATS while the watch is stalled, and restarts a watch that falls behind', async () => {
    const t = await setup();
    t.feed.start();
    await t.feed.whenSynced();
    t.server.holdWatchers = true;
    const a = t.server.put('virtual-network', virtualNetwork('a', { prefix: '10.5.0.0' }));
    await waitFor(() => t.store.get('virtual-network', a), { what: 'a change delivered by NATS alone' });
    // Lose one NATS message: the next one is ahead, so the feed restarts its watch and the
    // replay fills the gap in order.
    t.setPublish(false);
    const b = t.server.put('virtual-network', virtualNetwork('b', { prefix: '10.6.0.0' }));
    t.setPublish(true);
    const c = t.server.put('virtual-network', virtualNetwork('c', { prefix: '10.7.0.0' }));
    await waitFor(() => t.feed.revision === t.server.revision, { what: 'the watch to catch up' });
    assert.ok(t.store.get('virtual-network', b));
    assert.ok(t.store.get('virtual-network', c));
    await t.close();
  });

  it('lists again and reconciles when the log it needs was trimmed', async () => {
    const t = await setup();
    const keep = t.server.put('virtual-network', virtualNetwork('keep', { prefix: '10.8.0.0' }));
    const gone = t.server.put('virtual-network', virtualNetwork('gone', { prefix: '10.9.0.0' }));
    t.feed.start();
    await t.feed.whenSynced();
    t.setPublish(false);
    t.server.holdWatchers = true;
    t.server.remove(gone);
    const added = t.server.put('virtual-network', virtualNetwork('added', { prefix: '10.10.0.0' }));
    t.server.trimBefore(t.server.revision + 1);
    t.server.holdWatchers = false;
    t.server.endWatches();
    await waitFor(() => t.feed.revision === t.server.revision, { what: 'a relist after OUT_OF_RANGE' });
    assert.ok(t.store.get('virtual-network', keep));
    assert.ok(t.store.get('virtual-network', added));
    assert.equal(t.store.get('virtual-network', gone), undefined);
    await t.close();
  });
});
