import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { runFixtureDaemon } from './fixtures/daemon-process.js';
import { natsServerMissing, startNatsServer, waitFor } from './testing/index.js';

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

test('SIGTERM drains the request in flight, refuses new ones, and exits 0', { skip: natsServerMissing() }, async () => {
  const nats = await startNatsServer();
  try {
    const daemon = runFixtureDaemon({ WEFT_NATS_URL: nats.url, WEFT_FIXTURE_API_TOKEN: 'tok-123' });
    const port = await daemon.port();
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, { what: 'ready' });

    const inFlight = fetch(`http://127.0.0.1:${port}/slow?ms=1000`);
    await waitFor(() => daemon.lines.some((line) => line.msg === 'slow request started'), { what: 'request start' });
    daemon.child.kill('SIGTERM');
    await waitFor(() => daemon.lines.some((line) => line.msg === 'stopping'), { what: 'stop to begin' });
    assert.equal(await connectionRefused(port), true, 'no new connection is accepted while draining');

    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { done: true });
    assert.equal(await daemon.exited, 0);
    assert.ok(daemon.lines.some((line) => line.msg === 'stopped' && line.clean === true));
    assert.ok(!JSON.stringify(daemon.lines).includes('tok-123'), 'the secret option is never logged');
  } finally {
    await nats.dispose();
  }
});

test('work that outlives the drain deadline is abandoned and the exit code says so', {
  skip: natsServerMissing(),
}, async () => {
  const nats = await startNatsServer();
  try {
    const daemon = runFixtureDaemon({ WEFT_NATS_URL: nats.url, WEFT_SHUTDOWN_TIMEOUT: '200ms' });
    const port = await daemon.port();
    const inFlight = fetch(`http://127.0.0.1:${port}/slow?ms=30000`).catch((error: Error) => error);
    await waitFor(() => daemon.lines.some((line) => line.msg === 'slow request started'), { what: 'request start' });
    daemon.child.kill('SIGINT');
    assert.equal(await daemon.exited, 1);
    assert.ok(daemon.lines.some((line) => line.msg === 'did not stop before the deadline' && line.closer === 'http'));
    assert.ok((await inFlight) instanceof Error, 'the abandoned request fails rather than hanging');
  } finally {
    await nats.dispose();
  }
});
