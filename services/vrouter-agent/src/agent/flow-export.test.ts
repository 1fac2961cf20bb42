// Flow records while NATS is away: kept in a bounded buffer and sent once it is back, and what
// did not fit is counted as dropped, never lost silently. A real nats-server, stopped and started;
// the samples come from a stand-in for the datapath's ring (the ring itself is tested with the
// datapath).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, createMetrics, FLOW_SUBJECT_PREFIX, NatsLink, Readiness } from '@weft/kit';
import { natsServerMissing, startNatsServer, waitFor } from '@weft/kit/testing';
import { HostState } from '../host-state/host-state.js';
import type { FlowSample } from '../maps/flow-samples.js';
import { FlowExport } from './flow-export.js';

const logger = createLogger({ service: 'test', level: 'silent' });

/** One sample per new flow, from port `first` on. */
function samples(first: number, count: number): FlowSample[] {
  return Array.from({ length: count }, (_, index) => ({
    flow: {
      vrfId: 1,
      source: '10.1.0.2',
      destination: '10.1.0.3',
      protocol: 17,
      sourcePort: first + index,
      destinationPort: 53,
    },
    ifindex: 1,
    destinationVrfId: 1,
    length: 100,
    verdict: 'local',
    timestampNs: 0n,
  }));
}

test('records wait for NATS within the buffer, and what did not fit is counted as dropped', {
  skip: natsServerMissing(),
}, async () => {
  const server = await startNatsServer({ jetstream: false });
  const link = new NatsLink({
    servers: [server.url],
    name: 'test-agent',
    logger,
    metrics: createMetrics('test'),
    readiness: new Readiness(),
  });
  let listener: NatsLink | undefined;
  try {
    await link.connection();
    const pending: FlowSample[][] = [];
    const state = new HostState();
    const flows = new FlowExport(
      { drain: () => pending.shift() ?? [] },
      {
        hostName: 'h1',
        sampleRate: 1,
        intervalMs: 60_000,
        nats: link,
        view: () => state.view(),
        logger,
        bufferLimit: 50,
      },
    );
    pending.push(samples(1000, 10));
    flows.flush();
    assert.equal(flows.exported, 10);

    await server.stop();
    await waitFor(() => !link.isConnected, { what: 'the link to notice NATS is gone' });
    pending.push(samples(2000, 30));
    flows.flush();
    assert.deepEqual([flows.buffered, flows.dropped], [30, 0], 'kept while they fit');
    pending.push(samples(3000, 40));
    flows.flush();
    assert.deepEqual([flows.buffered, flows.dropped], [50, 20], 'the oldest 20 counted as dropped');
    assert.equal(flows.dropping, true);

    await server.start();
    // analytics' side, connected once the server is back.
    listener = new NatsLink({
      servers: [server.url],
      name: 'test-analytics',
      logger,
      metrics: createMetrics('test2'),
      readiness: new Readiness(),
    });
    const connection = await listener.connection();
    let received = 0;
    connection.subscribe(`${FLOW_SUBJECT_PREFIX}>`, {
      callback: () => {
        received += 1;
      },
    });
    await connection.flush();
    await waitFor(() => link.isConnected, { timeoutMs: 15_000, what: 'the link to reconnect' });
    flows.flush();
    assert.equal(flows.buffered, 0, 'sent once NATS is back');
    assert.equal(flows.exported, 60);
    await waitFor(() => received > 0, { what: 'the buffered batch at a subscriber' });
  } finally {
    await link.close();
    await listener?.close();
    await server.dispose();
  }
});
