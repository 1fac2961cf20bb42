// NATS as the stack and the lab run it: mutual TLS, and a user per service mapped from its
// certificate, with the permissions @weft/kit declares beside the subjects. A client without a
// certificate, or with one that names no service, cannot get in at all; a service that
// publishes or subscribes outside its own subjects is refused, and nothing reaches the others.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CONFIG_CHANGES_SUBJECT, type NatsService, natsServerConfig, natsUserOf } from '@weft/kit';
import { freePort, natsServerMissing, opensslMissing, portAccepts, tempDir, waitFor } from '@weft/kit/testing';
import { connect, type NatsConnection } from 'nats';
import { identity, type TlsIdentity } from '../lab/certificates.js';

const skip = natsServerMissing() ?? opensslMissing();
let dir: ReturnType<typeof tempDir>;
let server: ChildProcess;
let url: string;
const open: NatsConnection[] = [];

const service = (name: NatsService) =>
  identity(join(dir.path, 'tls'), name, ['localhost', '127.0.0.1', natsUserOf(name)]);

before(async () => {
  if (skip) return;
  dir = tempDir('weft-nats-permissions-');
  const tls = identity(join(dir.path, 'tls'), 'nats-server', ['localhost', '127.0.0.1']);
  const config = join(dir.path, 'nats.conf');
  writeFileSync(config, natsServerConfig({ tls }));
  const port = await freePort();
  url = `nats://127.0.0.1:${port}`;
  server = spawn(
    'nats-server',
    ['-c', config, '-js', '-sd', join(dir.path, 'js'), '-a', '127.0.0.1', '-p', String(port)],
    {
      stdio: 'ignore',
    },
  );
  await waitFor(() => portAccepts(port, '127.0.0.1'), { what: 'nats-server' });
});

after(async () => {
  if (skip) return;
  for (const connection of open) await connection.close().catch(() => undefined);
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  dir.remove();
});

/** Connects with these TLS files, and collects the errors the server sends afterwards. */
async function as(tls: Partial<TlsIdentity>) {
  const connection = await connect({ servers: url, tls, reconnect: false, timeout: 5_000 });
  open.push(connection);
  const errors: string[] = [];
  void (async () => {
    for await (const status of connection.status()) if (status.type === 'error') errors.push(String(status.data));
  })();
  return { connection, errors };
}

async function refused(tls: Partial<TlsIdentity>): Promise<string> {
  try {
    const connection = await connect({ servers: url, tls, reconnect: false, timeout: 5_000 });
    open.push(connection);
    // The server may accept the socket and then close it: a round trip tells.
    await connection.flush();
    return '';
  } catch (error) {
    return String((error as Error).message || (error as { code?: string }).code);
  }
}

test('a client without a certificate, or with one that names no service, cannot connect to publish', {
  skip,
}, async () => {
  const ca = service('control').caFile;
  assert.notEqual(await refused({ caFile: ca }), '', 'a client without a certificate got in');
  const stranger = identity(join(dir.path, 'tls'), 'stranger', ['localhost']);
  assert.match(await refused(stranger), /Authorization Violation|AUTHORIZATION/i);
});

test('only config-api may publish on weft.config.changes: an agent that tries is refused and control gets nothing of it', {
  skip,
}, async () => {
  const control = await as(service('control'));
  const received: string[] = [];
  control.connection.subscribe(CONFIG_CHANGES_SUBJECT, {
    callback: (_error, message) => received.push(new TextDecoder().decode(message.data)),
  });
  await control.connection.flush();

  const agent = await as(service('vrouter-agent'));
  agent.connection.publish(CONFIG_CHANGES_SUBJECT, new TextEncoder().encode('forged'));
  await agent.connection.flush();
  await waitFor(() => agent.errors.some((error) => /PERMISSIONS_VIOLATION/.test(error)), {
    what: "the server's refusal of the agent's publish",
  });

  // After the server refused the forgery, config-api's own change: it alone arrives.
  const configApi = await as(service('config-api'));
  configApi.connection.publish(CONFIG_CHANGES_SUBJECT, new TextEncoder().encode('genuine'));
  await configApi.connection.flush();
  await waitFor(() => received.includes('genuine'), { what: "config-api's change at control" });
  assert.deepEqual(received, ['genuine']);
  assert.deepEqual(configApi.errors, []);
});

test('a service subscribes only to its own subjects: control cannot read the flows, analytics can', {
  skip,
}, async () => {
  const control = await as(service('control'));
  control.connection.subscribe('weft.flow.>', { callback: () => undefined });
  await control.connection.flush();
  await waitFor(() => control.errors.some((error) => /PERMISSIONS_VIOLATION/.test(error)), {
    what: "the server's refusal of control's subscription",
  });

  const analytics = await as(service('analytics'));
  const flows: string[] = [];
  analytics.connection.subscribe('weft.flow.>', { callback: (_error, message) => flows.push(message.subject) });
  await analytics.connection.flush();
  const agent = await as(service('vrouter-agent'));
  agent.connection.publish('weft.flow.h1', new Uint8Array([1]));
  await agent.connection.flush();
  await waitFor(() => flows.includes('weft.flow.h1'), { what: "the agent's flows at analytics" });
  assert.deepEqual(analytics.errors, []);
  assert.deepEqual(agent.errors, []);
});
