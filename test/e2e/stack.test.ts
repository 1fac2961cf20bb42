// `npm start`'s stack as a user runs it: it comes up, says where everything listens, and Ctrl-C
// stops it with no process left behind.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, natsServerMissing, tempDir, waitFor } from '@weft/kit/testing';
import { repoRoot, stackPortEnv } from '../support/stack.js';

function childPids(pid: number): number[] {
  const result = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('the local stack starts NATS and every built service, and Ctrl-C leaves nothing running', {
  skip: natsServerMissing(),
}, async () => {
  const state = tempDir('weft-stack-');
  const natsPort = await freePort();
  // The agent's host name, tunnel device and socket are this run's own: other tests make
  // datapaths on this machine at the same time.
  const hostName = `wfs${process.pid % 100_000}`;
  const agentEnv = {
    WEFT_AGENT_HOST_NAME: hostName,
    WEFT_AGENT_TUNNEL_DEVICE: hostName,
    WEFT_AGENT_CNI_SOCKET: join(state.path, 'agent.sock'),
  };
  const ports = await stackPortEnv();
  const stack = spawn(process.execPath, [join(repoRoot, 'deploy', 'stack.mjs')], {
    env: {
      ...process.env,
      WEFT_STATE_DIR: state.path,
      WEFT_NATS_PORT: String(natsPort),
      ...agentEnv,
      ...ports,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  stack.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  stack.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => stack.once('exit', resolve));
  try {
    await waitFor(() => output.includes('weft: ready'), {
      timeoutMs: 60_000,
      what: `the stack to be ready:\n${output}`,
    });
    assert.match(output, new RegExp(`nats-server\\s+nats://127\\.0\\.0\\.1:${natsPort}`));
    // config-api made the stack's admin token, readable by its owner only, and the banner says where.
    const adminToken = join(state.path, 'admin.token');
    assert.ok(output.includes(`admin token in ${adminToken}`), output);
    assert.equal(statSync(adminToken).mode & 0o777, 0o600);
    const token = readFileSync(adminToken, 'utf8').trim();
    const rest = `http://127.0.0.1:${ports.WEFT_CONFIG_API_REST_PORT}`;
    assert.equal((await fetch(`${rest}/projects`)).status, 401, 'config-api wants a token');
    assert.equal((await fetch(`${rest}/projects`, { headers: { 'x-auth-token': token } })).status, 200);
    const children = childPids(stack.pid!);
    assert.ok(children.length >= 1, 'the stack runs its parts as child processes');
    if (process.getuid?.() === 0) {
      assert.match(output, /vrouter-agent\s+CNI socket/, 'as root, the datapath runs too');
      assert.ok(existsSync(`/sys/fs/bpf/weft/${hostName}`), 'the agent pinned its maps');
    } else {
      assert.match(output, /vrouter-agent\s+not started: the datapath loads BPF programs/);
    }

    stack.kill('SIGINT');
    assert.equal(await exited, 0, output);
    assert.match(output, /weft: stopped/);
    for (const pid of children) assert.equal(alive(pid), false, `process ${pid} is left behind`);
    assert.equal(existsSync(`/sys/fs/bpf/weft/${hostName}`), false, 'the agent removed its pins on stop');
    assert.equal(spawnSync('ip', ['link', 'show', hostName]).status === 0, false, 'the tunnel device is gone');
  } finally {
    if (stack.exitCode === null) stack.kill('SIGKILL');
    state.remove();
  }
});
