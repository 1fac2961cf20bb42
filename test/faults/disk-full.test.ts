// config-api on a full disk: its state directory is a small tmpfs, filled up under a stream of
// writes. Every write it refuses is a clear 507 (STORE_FULL) and changes nothing; once there is
// room again writes succeed; after a kill -9 and a restart every acknowledged write is there,
// and nothing else.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, tempDir, waitFor } from '@weft/kit/testing';
import { PROJECT } from '../lab/config-client.js';
import { repoRoot } from '../support/stack.js';
import { fillUp } from './fill-up.js';

const skip = process.getuid?.() === 0 ? undefined : 'mounting a tmpfs needs root';
const mainJs = join(repoRoot, 'services', 'config-api', 'dist', 'main.js');

async function startConfigApi(stateDir: string): Promise<{ child: ChildProcess; url: string }> {
  const restPort = await freePort();
  const child = spawn(process.execPath, [mainJs], {
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WEFT_'))),
      WEFT_STATE_DIR: stateDir,
      WEFT_CONFIG_API_REST_PORT: String(restPort),
      WEFT_CONFIG_API_GRPC_PORT: '0',
      WEFT_CONFIG_API_HOST: '127.0.0.1',
      // On loopback, without tokens: this case is about the disk, not about authentication.
      WEFT_AUTH_MODE: 'no-auth',
      WEFT_NATS_URL: `nats://127.0.0.1:${await freePort()}`,
      WEFT_LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${restPort}`;
  try {
    await waitFor(async () => (await fetch(`${url}/healthz`)).ok, { timeoutMs: 30_000, what: 'config-api to listen' });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, url };
}

interface Answer {
  'network-policy'?: { uuid: string };
  error?: { code?: string; message?: string };
}

async function createPolicy(url: string, name: string): Promise<{ status: number; body: Answer }> {
  const response = await fetch(`${url}/network-policys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ 'network-policy': { fq_name: [...PROJECT, name], parent_type: 'project' } }),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

test('a full disk: config-api refuses writes with 507, keeps every acknowledged one, and writes again once there is room', {
  skip,
}, async () => {
  const dir = tempDir('weft-faults-disk-');
  const mount = join(dir.path, 'state');
  mkdirSync(mount);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount]);
  let child: ChildProcess | undefined;
  try {
    const first = await startConfigApi(mount);
    child = first.child;
    const acknowledged: string[] = [];
    for (let index = 0; index < 20; index += 1) {
      const created = await createPolicy(first.url, `before-${index}`);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      acknowledged.push(created.body['network-policy']!.uuid);
    }
    fillUp(join(mount, 'filler'));
    // Writes until the store refuses one: the WAL may still have room for a few.
    const refusals: { status: number; body: Answer }[] = [];
    for (let index = 0; refusals.length < 5 && index < 5_000; index += 1) {
      const created = await createPolicy(first.url, `full-${index}`);
      if (created.status === 200) acknowledged.push(created.body['network-policy']!.uuid);
      else refusals.push(created);
    }
    assert.ok(refusals.length > 0, 'the store refused writes on a full disk');
    for (const refused of refusals) {
      assert.equal(refused.status, 507, JSON.stringify(refused.body));
      assert.equal(refused.body.error?.code, 'STORE_FULL');
      assert.match(refused.body.error?.message ?? '', /out of disk space/);
    }
    assert.equal((await fetch(`${first.url}/healthz`)).status, 200, 'config-api lives on');

    rmSync(join(mount, 'filler'));
    const after = await createPolicy(first.url, 'after-room');
    assert.equal(after.status, 200, JSON.stringify(after.body));
    acknowledged.push(after.body['network-policy']!.uuid);

    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    const second = await startConfigApi(mount);
    child = second.child;
    const listed = (await (await fetch(`${second.url}/network-policys`)).json()) as {
      'network-policys': { uuid: string }[];
    };
    assert.deepEqual(
      listed['network-policys'].map((item) => item.uuid).sort(),
      [...acknowledged].sort(),
      'every acknowledged write, and no refused one',
    );
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
    execFileSync('umount', [mount]);
    dir.remove();
  }
});
