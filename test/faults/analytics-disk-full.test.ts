// Analytics on a real full disk: its state directory is a small tmpfs holding a store of a dozen
// old partitions, and another file fills the rest of it to the last byte. New flow records keep
// coming through NATS: analytics drops its oldest partitions to make room (counted, logged, and
// the `analytics-disk-full` alarm raised), stores every new record, and stays up.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, createMetrics, NatsLink, publishFlows, Readiness } from '@weft/kit';
import { freePort, natsServerMissing, startNatsServer, tempDir, waitFor } from '@weft/kit/testing';
import type { FlowRecord } from '@weft/proto/gen/weft/analytics/v1/FlowRecord.js';
import { repoRoot } from '../support/stack.js';
import { fillUp } from './fill-up.js';

const skip = process.getuid?.() !== 0 ? 'mounting a tmpfs needs root' : natsServerMissing();
const mainJs = join(repoRoot, 'services', 'analytics', 'dist', 'main.js');
const quiet = createLogger({
  service: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});
const PARTITION_MS = 60_000;
const OLD_PARTITIONS = 12;
const PER_OLD_PARTITION = 1_000;
const NEW_RECORDS = 8_000;

function records(host: string, at: number, from: number, count: number): FlowRecord[] {
  // Long names make each record a few hundred bytes, so a few MB hold a dozen partitions.
  const network = `default-domain:default-project:${'n'.repeat(40)}`;
  return Array.from({ length: count }, (_, index) => ({
    record_id: `${host}-${from + index}`,
    source_ip: '10.1.0.2',
    destination_ip: '10.1.0.3',
    protocol: 17,
    source_port: (from + index) % 65_536,
    destination_port: 53,
    source_virtual_network: network,
    destination_virtual_network: network,
    host,
    action: 'FLOW_ACTION_PASS' as const,
    bytes: 100,
    packets: 1,
    first_seen_ms: at,
    last_seen_ms: at,
  }));
}

test('a full disk: analytics drops its oldest partitions with an alarm and keeps storing new records', {
  skip,
  timeout: 240_000,
}, async () => {
  const dir = tempDir('weft-faults-analytics-disk-');
  const mount = join(dir.path, 'state');
  mkdirSync(mount);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', mount]);
  const nats = await startNatsServer();
  const restPort = await freePort();
  const url = `http://127.0.0.1:${restPort}`;
  let child: ChildProcess | undefined;
  let output = '';
  const link = new NatsLink({
    servers: [nats.url],
    name: 'disk-full-agent',
    logger: quiet,
    metrics: createMetrics('analytics-disk-full'),
    readiness: new Readiness(),
  });
  const query = async (body: Record<string, unknown>) => {
    const response = await fetch(`${url}/analytics/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ table: 'FlowRecordTable', start_time: 'now-1d', end_time: 'now+1h', ...body }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { value: Record<string, number>[] }).value;
  };
  const countOf = async (host: string) =>
    (await query({ select_fields: ['COUNT(*)'], where: [[{ name: 'host', value: host }]] }))[0]?.['COUNT(*)'] ?? 0;
  try {
    child = spawn(process.execPath, [mainJs], {
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WEFT_'))),
        WEFT_STATE_DIR: mount,
        WEFT_NATS_URL: nats.url,
        WEFT_REST_PORT: String(restPort),
        WEFT_REST_HOST: '127.0.0.1',
        WEFT_HOST: 'disk-full',
        WEFT_AUTH_MODE: 'no-auth',
        WEFT_ANALYTICS_PARTITION: `${PARTITION_MS}ms`,
        WEFT_ANALYTICS_RETENTION: '6h',
        WEFT_ANALYTICS_RETENTION_INTERVAL: '1s',
        WEFT_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, {
      timeoutMs: 30_000,
      what: 'analytics to be ready',
    });
    await link.connection();

    // A dozen partitions of the past, stored before the disk fills.
    const now = Date.now();
    const oldTimes: number[] = [];
    for (let partition = 0; partition < OLD_PARTITIONS; partition += 1) {
      const at = now - (OLD_PARTITIONS - partition + 1) * PARTITION_MS;
      oldTimes.push(at);
      for (let from = 0; from < PER_OLD_PARTITION; from += 250) {
        assert.ok(publishFlows(link, 'old', records('old', at, partition * PER_OLD_PARTITION + from, 250)));
      }
    }
    await waitFor(async () => (await countOf('old')) === OLD_PARTITIONS * PER_OLD_PARTITION, {
      timeoutMs: 60_000,
      what: 'the old records to be stored',
    });

    fillUp(join(mount, 'filler'));

    // New records, more than the room the disk has left.
    for (let from = 0; from < NEW_RECORDS; from += 250) {
      assert.ok(publishFlows(link, 'new', records('new', Date.now(), from, 250)));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor(async () => (await countOf('new')) === NEW_RECORDS, {
      timeoutMs: 90_000,
      intervalMs: 500,
      what: `every new record to be stored on the full disk (log:\n${output.slice(-3_000)})`,
    });
    const free = execFileSync('df', ['-B1', '--output=avail', mount]).toString().split('\n')[1]?.trim();
    assert.ok(Number(free) < 2 * 1024 * 1024, `the file system stayed (nearly) full: ${free} bytes free`);

    const oldLeft = await countOf('old');
    assert.ok(oldLeft < OLD_PARTITIONS * PER_OLD_PARTITION, 'old records made room');
    // Oldest first: what is left of the old records is the newest of them.
    const [kept] = await query({ select_fields: ['MIN(T)'], where: [[{ name: 'host', value: 'old' }]] });
    const keptFrom = kept?.['MIN(T)'];
    if (oldLeft > 0) assert.ok(keptFrom !== undefined && keptFrom > oldTimes[0]!, 'the oldest partition went first');
    assert.equal(oldLeft % PER_OLD_PARTITION, 0, 'whole partitions dropped, never part of one');

    await waitFor(
      async () => {
        const body = (await (await fetch(`${url}/analytics/alarms`)).json()) as { alarms: { rule: string }[] };
        return body.alarms.some((alarm) => alarm.rule === 'analytics-disk-full');
      },
      { timeoutMs: 30_000, what: 'the analytics-disk-full alarm' },
    );
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /store_partitions_dropped_total\{reason="disk-full"\} [1-9]/);
    assert.match(output, /the file system is full: dropped the oldest partitions/);
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'analytics lives on');
  } catch (error) {
    throw new Error(`${(error as Error).message}\nanalytics' log:\n${output.slice(-4_000)}`);
  } finally {
    await link.close();
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
    await nats.stop();
    execFileSync('umount', [mount]);
    dir.remove();
  }
});
