// Scale-out on etcd, as deployed: weft-config-api daemons (separate processes) on one real
// 3-member etcd cluster on loopback ports serve one data set, and keep every acknowledged
// write through the loss of an etcd member, of the leader, of quorum, and of a replica.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import {
  freePort,
  type NatsServerProcess,
  natsServerMissing,
  startNatsServer,
  tempDir,
  waitFor,
} from '@weft/kit/testing';
import { loadConfigProto } from '@weft/proto';
import type { ChangeEvent__Output } from '@weft/proto/gen/weft/config/v1/ChangeEvent.js';
import { connect, type NatsConnection } from 'nats';
import { CHANGES_SUBJECT, changeEventCodec } from './events/publisher.js';
import { type EtcdCluster, etcdMissing, startEtcdCluster } from './testing/etcd-cluster.js';
import { clientFor, networkBody, type Reply } from './testing/server.js';

const mainJs = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
/** WEFT_ETCD_TIMEOUT of the quorum-loss test, whose 503 must come within it. */
const QUORUM_TIMEOUT_MS = 3_000;
/** WEFT_ETCD_TIMEOUT of the others: room for a loaded machine (the test runner runs files side by side). */
const TIMEOUT_MS = 15_000;

interface Replica {
  url: string;
  grpc: string;
  child: ChildProcess;
  client: ReturnType<typeof clientFor>;
  killed: boolean;
  kill(): Promise<void>;
}

async function startReplica(
  cluster: EtcdCluster,
  prefix: string,
  natsUrl: string,
  timeoutMs: number,
): Promise<Replica> {
  const [restPort, grpcPort] = [await freePort(), await freePort()];
  const state = tempDir('weft-config-api-ha-');
  // Only this daemon's own options: it refuses any WEFT_* it does not declare.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WEFT_')));
  const child = spawn(process.execPath, [mainJs], {
    env: {
      ...inherited,
      WEFT_STORE: 'etcd',
      WEFT_ETCD_ENDPOINTS: cluster.endpoints.join(','),
      WEFT_ETCD_PREFIX: prefix,
      WEFT_ETCD_TIMEOUT: `${timeoutMs}ms`,
      WEFT_STATE_DIR: state.path,
      WEFT_CONFIG_API_REST_PORT: String(restPort),
      WEFT_CONFIG_API_GRPC_PORT: String(grpcPort),
      WEFT_CONFIG_API_HOST: '127.0.0.1',
      // On loopback, without tokens: what is tested here is not authentication.
      WEFT_AUTH_MODE: 'no-auth',
      WEFT_NATS_URL: natsUrl,
      WEFT_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${restPort}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`config-api exited with ${child.exitCode}`);
      return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true;
    },
    // A daemon's start (modules, schemas, the etcd snapshot) is slow on a loaded machine.
    { what: 'a config-api replica to listen', timeoutMs: 90_000 },
  );
  const replica: Replica = {
    url,
    grpc: `127.0.0.1:${grpcPort}`,
    child,
    client: clientFor(url),
    killed: false,
    async kill() {
      replica.killed = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      state.remove();
    },
  };
  return replica;
}

/** Concurrent writers creating projects through the given replicas until stopped. */
function writeBurst(replicas: Replica[], writers = 8) {
  const acknowledged: { uuid: string; at: number }[] = [];
  const failed: { status: number; body: unknown; at: number }[] = [];
  let stopped = false;
  const loops = Array.from({ length: writers }, async (_, id) => {
    const replica = replicas[id % replicas.length]!;
    for (let index = 0; !stopped; index++) {
      let reply: Reply;
      try {
        reply = await replica.client.request('POST', '/projects', {
          project: { fq_name: ['default-domain', `burst-${id}-${index}-${randomUUID().slice(0, 8)}`] },
        });
      } catch {
        if (replica.killed) return; // the replica is gone
        throw new Error('the request failed without an answer');
      }
      if (reply.status === 200) acknowledged.push({ uuid: reply.body.project.uuid, at: Date.now() });
      else failed.push({ status: reply.status, body: reply.body, at: Date.now() });
    }
  });
  return {
    acknowledged,
    failed,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

async function assertAllPresent(replica: Replica, uuids: string[]) {
  for (const uuid of uuids) {
    const read = await replica.client.request('GET', `/project/${uuid}`);
    assert.equal(read.status, 200, `acknowledged project ${uuid} is missing`);
  }
}

const skip = etcdMissing() ?? natsServerMissing();

describe('config-api replicas on a 3-member etcd', { skip }, () => {
  let cluster: EtcdCluster;
  let nats: NatsServerProcess;
  const replicas: Replica[] = [];
  const pair = async (timeoutMs = TIMEOUT_MS) => {
    const prefix = `/weft-ha/${randomUUID()}/`;
    const started = [
      await startReplica(cluster, prefix, nats.url, timeoutMs),
      await startReplica(cluster, prefix, nats.url, timeoutMs),
    ];
    replicas.push(...started);
    return started as [Replica, Replica];
  };
  const restoreCluster = async () => {
    for (const member of cluster.members) await member.start();
    await cluster.waitForLeader(30_000);
  };

  before(async () => {
    cluster = await startEtcdCluster({ size: 3 });
    nats = await startNatsServer({ jetstream: false });
  });
  after(async () => {
    for (const replica of replicas) await replica.kill();
    await cluster?.dispose();
    await nats?.dispose();
  });

  test('one data set: a write through one replica is read through the other at once, and watched there', async () => {
    const [a, b] = await pair();
    const Config = loadConfigProto().weft.config.v1.Config;
    const watcher = new Config(b.grpc, credentials.createInsecure());
    const listed = await new Promise<{ revision: number }>((resolve, reject) =>
      watcher.List({ type: 'project', page_limit: 10 }, (error, reply) => (error ? reject(error) : resolve(reply!))),
    );
    const events: ChangeEvent__Output[] = [];
    const stream = watcher.Watch({ from_revision: Number(listed.revision) + 1, types: [] });
    stream.on('data', (event: ChangeEvent__Output) => events.push(event));
    stream.on('error', () => {});
    const natsClient: NatsConnection = await connect({ servers: nats.url });
    const published: ChangeEvent__Output[] = [];
    natsClient.subscribe(CHANGES_SUBJECT, {
      callback: (_error, message) => published.push(changeEventCodec.decode(message.data) as ChangeEvent__Output),
    });
    await natsClient.flush();
    try {
      const written: string[] = [];
      for (let i = 0; i < 30; i++) {
        const [writer, reader] = i % 2 ? [a, b] : [b, a];
        const project = await writer.client.create('project', { fq_name: ['default-domain', `rw-${i}`] });
        written.push(project.uuid);
        const read = await reader.client.request('GET', `/project/${project.uuid}`);
        assert.equal(read.status, 200, `written through one replica, not yet readable through the other (${i})`);
        const byName = await reader.client.request('POST', '/fqname-to-id', {
          type: 'project',
          fq_name: ['default-domain', `rw-${i}`],
        });
        assert.equal(byName.body.uuid, project.uuid);
      }
      await waitFor(() => events.filter((e) => e.type === 'project').length >= 30, { what: 'the watch on replica b' });
      assert.deepEqual(
        events.filter((e) => e.type === 'project').map((e) => e.uuid),
        written,
        'the watch through one replica carries every write through either, in order',
      );
      const revisions = events.map((e) => Number(e.revision));
      assert.deepEqual(
        revisions,
        [...revisions].sort((x, y) => x - y),
      );
      // NATS: each change published once, by the replica that wrote it.
      await waitFor(() => published.filter((e) => written.includes(e.uuid)).length >= 30, { what: 'NATS events' });
      await natsClient.flush();
      const mine = published.filter((e) => written.includes(e.uuid));
      assert.deepEqual(mine.map((e) => e.uuid).sort(), [...written].sort(), 'each change published exactly once');
    } finally {
      stream.cancel();
      watcher.close();
      await natsClient.close();
    }
  });

  test('200 concurrent instance-ip creates split across two replicas get 200 distinct addresses', async () => {
    const [a, b] = await pair();
    const network = await a.client.create('virtual-network', networkBody('ha-net', '10.120.0.0/24'));
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 ? a : b).client.request('POST', '/instance-ips', {
          'instance-ip': { virtual_network_refs: [{ uuid: network.uuid }] },
        }),
      ),
    );
    for (const reply of replies) assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const addresses = replies.map((reply) => reply.body['instance-ip'].instance_ip_address as string);
    assert.equal(new Set(addresses).size, 200, 'every address distinct');
    for (const replica of [a, b]) {
      const counted = await replica.client.request('GET', `/instance-ips?back_ref_id=${network.uuid}&count=true`);
      assert.equal(counted.body['instance-ips'].count, 200);
    }
  });

  for (const which of ['a follower', 'the leader'] as const) {
    test(`killing ${which} during a write burst: the API keeps serving and loses no acknowledged write`, async () => {
      const [a, b] = await pair();
      const burst = writeBurst([a, b]);
      try {
        await waitFor(() => burst.acknowledged.length >= 100, {
          what: '100 writes before the kill',
          timeoutMs: 30_000,
        });
        const leader = await cluster.leader();
        const victim = which === 'the leader' ? leader : cluster.members.find((m) => m !== leader)!;
        await victim.kill();
        const killedAt = Date.now();
        await waitFor(() => burst.acknowledged.filter((w) => w.at > killedAt).length >= 100, {
          what: '100 writes after the kill',
          timeoutMs: 30_000,
        });
        await burst.stop();
        assert.deepEqual(burst.failed, [], 'every write answered 2xx, through the kill and the election');
        await assertAllPresent(
          a,
          burst.acknowledged.map((w) => w.uuid),
        );
      } finally {
        await burst.stop();
        await restoreCluster();
      }
    });
  }

  test('without quorum a write gets 503 within its deadline, and service comes back with quorum', async () => {
    const [a] = await pair(QUORUM_TIMEOUT_MS);
    const before = await a.client.create('project', { fq_name: ['default-domain', 'before-quorum-loss'] });
    const leader = await cluster.leader();
    const survivors = cluster.members.filter((m) => m !== leader);
    await leader.kill();
    await survivors[0]!.kill();
    try {
      const started = Date.now();
      const reply = await a.client.request('POST', '/projects', {
        project: { fq_name: ['default-domain', 'without-quorum'] },
      });
      const took = Date.now() - started;
      assert.equal(reply.status, 503, JSON.stringify(reply.body));
      assert.equal(reply.body.error.code, 'STORE_UNAVAILABLE');
      assert.match(reply.body.error.message, /etcd/);
      assert.ok(took < QUORUM_TIMEOUT_MS + 2_000, `answered after ${took} ms, deadline ${QUORUM_TIMEOUT_MS} ms`);
      const read = await a.client.request('GET', `/project/${before.uuid}`);
      assert.equal(read.status, 503, 'a read that cannot be confirmed is refused, not served stale');
    } finally {
      await restoreCluster();
    }
    // No restart of config-api: it recovers by itself once quorum is back.
    let after: Reply | undefined;
    await waitFor(
      async () => {
        after = await a.client.request('POST', '/projects', {
          project: { fq_name: ['default-domain', `after-quorum-${randomUUID().slice(0, 8)}`] },
        });
        return after.status === 200;
      },
      { what: 'a write to succeed once quorum is back', timeoutMs: 30_000 },
    );
    // A read also waits for this replica's watch to catch up with the quorum read (its read
    // barrier); the watch comes back on its own backoff, which can outlast the first write.
    await waitFor(async () => (await a.client.request('GET', `/project/${before.uuid}`)).status === 200, {
      what: 'a read of what was written before the loss to succeed once quorum is back',
      timeoutMs: 30_000,
    });
  });

  test('kill -9 of a replica during a write burst: no acknowledged write is lost, the other goes on', async () => {
    const [a, b] = await pair();
    const burst = writeBurst([a, b]);
    try {
      await waitFor(() => burst.acknowledged.length >= 100, { what: '100 writes before the kill', timeoutMs: 30_000 });
      await a.kill();
      const killedAt = Date.now();
      await waitFor(() => burst.acknowledged.filter((w) => w.at > killedAt).length >= 100, {
        what: '100 writes through the surviving replica',
        timeoutMs: 30_000,
      });
      await burst.stop();
      assert.deepEqual(burst.failed, [], 'the surviving replica answered every write 2xx');
      await assertAllPresent(
        b,
        burst.acknowledged.map((w) => w.uuid),
      );
    } finally {
      await burst.stop();
    }
  });
});
