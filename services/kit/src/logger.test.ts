import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, destination };
}

test('every line is JSON naming the service, and a child names its component', async () => {
  const { lines, destination } = capture();
  const logger = createLogger({ service: 'control', destination });
  logger.child({ component: 'agent-server' }).info({ agents: 3 }, 'serving');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.service, 'weft-control');
  assert.equal(lines[0]?.component, 'agent-server');
  assert.equal(lines[0]?.agents, 3);
  assert.equal(lines[0]?.msg, 'serving');
});

test('secrets are redacted wherever they sit', async () => {
  const { lines, destination } = capture();
  const logger = createLogger({ service: 'config-api', destination });
  logger.info(
    {
      password: 'p1',
      credentials: { token: 't1', user: 'admin' },
      req: { headers: { authorization: 'Bearer t2', 'x-auth-token': 't3', host: 'x' } },
      nested: { deeper: { secret: 's1' } },
    },
    'login',
  );
  await new Promise((resolve) => setImmediate(resolve));
  const text = JSON.stringify(lines[0]);
  for (const secret of ['p1', 't1', 'Bearer t2', 't3', 's1'])
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  assert.ok(text.includes('admin'), 'non-secret fields stay');
});
