// Change events on NATS against a real nats-server: one event per committed change, in
// revision order, decodable with the ChangeEvent codec; and a NATS outage neither fails nor
// blocks a write.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { natsServerMissing, startNatsServer, waitFor } from '@weft/kit/testing';
import type { ChangeEvent__Output } from '@weft/proto/gen/weft/config/v1/ChangeEvent.js';
import { connect } from 'nats';
import { networkBody, startTestServer } from '../testing/server.js';
import { CHANGES_SUBJECT, changeEventCodec } from './publisher.js';

const skip = natsServerMissing();

test('each committed change is published on weft.config.changes', { skip }, async () => {
  const nats = await startNatsServer({ jetstream: false });
  const server = await startTestServer({ natsUrl: [nats.url] });
  const subscriber = await connect({ servers: nats.url });
  try {
    const events: ChangeEvent__Output[] = [];
    const subscription = subscriber.subscribe(CHANGES_SUBJECT);
    void (async () => {
      for await (const message of subscription)
        events.push(changeEventCodec.decode(message.data) as ChangeEvent__Output);
    })();
    await subscriber.flush();
    await waitFor(async () => (await server.request('GET', '/readyz')).status === 200, { what: 'config-api ready' });

    const network = await server.create('virtual-network', networkBody('evented', '10.95.0.0/24'));
    await server.request('PUT', `/virtual-network/${network.uuid}`, { 'virtual-network': { display_name: 'e' } });
    await server.request('DELETE', `/virtual-network/${network.uuid}`);
    await waitFor(() => events.length >= 3, { what: 'three change events' });
    assert.deepEqual(
      events.map((event) => [event.operation, event.type, event.uuid]),
      [
        ['OPERATION_CREATE', 'virtual-network', network.uuid],
        ['OPERATION_UPDATE', 'virtual-network', network.uuid],
        ['OPERATION_DELETE', 'virtual-network', network.uuid],
      ],
    );
    const revisions = events.map((event) => Number(event.revision));
    assert.deepEqual(revisions, [revisions[0]!, revisions[0]! + 1, revisions[0]! + 2]);
    assert.deepEqual(events[0]!.fq_name, ['default-domain', 'default-project', 'evented']);
    assert.equal(JSON.parse(events[1]!.object_json).display_name, 'e');
    assert.ok(Number(events[2]!.committed_at_ms) > 0);

    // NATS goes away: writes still succeed, promptly.
    await nats.stop();
    await waitFor(async () => (await server.request('GET', '/readyz')).status === 503, { what: 'NATS seen down' });
    const started = Date.now();
    const during = await server.create('virtual-machine', { fq_name: ['while-nats-down'] });
    assert.ok(Date.now() - started < 2_000, 'a write does not wait for NATS');
    assert.equal((await server.request('GET', `/virtual-machine/${during.uuid}`)).status, 200);
  } finally {
    await subscriber.close().catch(() => {});
    await server.dispose();
    await nats.dispose();
  }
});
