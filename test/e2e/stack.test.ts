// `npm start`'s stack as a user runs it: it comes up, says where everything listens, a daemon
// killed with SIGKILL comes back while the others keep serving, and Ctrl-C stops it with no
// process left behind.
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

/** The child of the stack that runs `entry` (a daemon's dist/main.js). */
function daemonPid(stackPid: number, entry: string): number | undefined {
  return childPids(stackPid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(entry);
    } catch {
      return false;
    }
  });
}

async function isReady(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('the local stack starts NATS and every built service, restarts one that is killed, and Ctrl-C leaves nothing running', {
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
    WEFT_AGENT_CNI_DELETE_QUEUE: join(state.path, 'delete-queue'),
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
    // A process group of its own, as a terminal gives a command, so that Ctrl-C can reach all of it.
    detached: true,
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
    await waitFor(() => output.includes('weft: ready') || stack.exitCode !== null, {
      timeoutMs: 180_000,
      what: 'the stack to be ready',
    });
    assert.match(output, /weft: ready/, output);
    assert.match(output, new RegExp(`nats-server\\s+nats://127\\.0\\.0\\.1:${natsPort}`));
    // config-api made the stack's admin token, readable by its owner only, and the banner says where.
    const adminToken = join(state.path, 'admin.token');
    assert.ok(output.includes(`admin token in ${adminToken}`), output);
    assert.equal(statSync(adminToken).mode & 0o777, 0o600);
    const token = readFileSync(adminToken, 'utf8').trim();
    const rest = `http://127.0.0.1:${ports.WEFT_CONFIG_API_REST_PORT}`;
    assert.equal((await fetch(`${rest}/projects`)).status, 401, 'config-api wants a token');
    assert.equal((await fetch(`${rest}/projects`, { headers: { 'x-auth-token': token } })).status, 200);
    assert.ok(childPids(stack.pid!).length >= 1, 'the stack runs its parts as child processes');
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      assert.match(output, /vrouter-agent\s+CNI socket/, 'as root, the datapath runs too');
      assert.ok(existsSync(`/sys/fs/bpf/weft/${hostName}`), 'the agent pinned its maps');
    } else {
      assert.match(output, /vrouter-agent\s+not started: the datapath loads BPF programs/);
    }

    // config-api dies hard: the stack starts it again, and meanwhile control (which keeps the
    // config it listed), analytics and the agent stay ready.
    const others = [
      `http://127.0.0.1:${ports.WEFT_CONTROL_HTTP_PORT}/readyz`,
      `http://127.0.0.1:${ports.WEFT_REST_PORT}/readyz`,
      ...(asRoot ? [`http://127.0.0.1:${ports.WEFT_AGENT_HTTP_PORT}/readyz`] : []),
    ];
    for (const url of others) assert.ok(await isReady(url), `${url} is ready before the fault`);
    const victim = daemonPid(stack.pid!, 'config-api/dist/main.js');
    assert.ok(victim, 'config-api runs as a child of the stack');
    const notReady: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const url of others) if (!(await isReady(url))) notReady.push(url);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    process.kill(victim, 'SIGKILL');
    await waitFor(() => /config-api restarted and ready/.test(output), {
      timeoutMs: 90_000,
      what: `config-api to be restarted:\n${output}`,
    });
    watching = false;
    await watcher;
    assert.match(output, /config-api killed by SIGKILL; restarting in/);
    assert.match(
      readFileSync(join(state.path, 'logs', 'config-api.log'), 'utf8'),
      /config-api killed by SIGKILL/,
      "the daemon's log keeps the reason",
    );
    const restarted = daemonPid(stack.pid!, 'config-api/dist/main.js');
    assert.ok(restarted !== undefined && restarted !== victim, 'a new config-api process runs');
    assert.ok(await isReady(`http://127.0.0.1:${ports.WEFT_CONFIG_API_REST_PORT}/readyz`));
    assert.deepEqual(notReady, [], 'the other daemons stayed ready');
    assert.doesNotMatch(output, /Stopping the stack|weft: stopping/);

    const children = childPids(stack.pid!);

    // Ctrl-C in a terminal: SIGINT to the whole process group, daemons included.
    const beforeCtrlC = output.length;
    process.kill(-stack.pid!, 'SIGINT');
    assert.equal(await exited, 0, output);
    const onStop = output.slice(beforeCtrlC);
    assert.match(onStop, /weft: stopped/);
    assert.doesNotMatch(onStop, /restarting|restarted/, 'a daemon that exits while the stack stops is not restarted');
    for (const pid of children) assert.equal(alive(pid), false, `process ${pid} is left behind`);
    assert.equal(existsSync(`/sys/fs/bpf/weft/${hostName}`), false, 'the agent removed its pins on stop');
    assert.equal(spawnSync('ip', ['link', 'show', hostName]).status === 0, false, 'the tunnel device is gone');
  } finally {
    // A failed run still stops the stack the way a user does, so that no daemon outlives it (a
    // SIGKILL would leave the stack's children running with the agent's datapath in place).
    if (stack.exitCode === null) {
      stack.kill('SIGINT');
      const stopped = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 45_000)),
      ]);
      if (!stopped) stack.kill('SIGKILL');
    }
    state.remove();
  }
});
