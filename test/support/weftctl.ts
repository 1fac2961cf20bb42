// weftctl as users run it, for the cross-service tests: the built executable (its shebang, its
// exit code, its stdout and stderr), and `npm start`'s stack (deploy/stack.mjs) on free ports
// to run it against.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir, waitFor } from '@weft/kit/testing';
import { repoRoot, stackPortEnv } from './stack.js';

export const weftctlPath = join(repoRoot, 'services', 'weftctl', 'dist', 'main.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs weftctl to its end; the environment is the caller's plus `env` (no WEFT_CTL_* leaks in). */
export function weftctl(args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('WEFT_')));
  const child = spawn(weftctlPath, args, { env: { ...inherited, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.end(input ?? '');
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** A long-running weftctl (watch, flows --follow): its output so far, and Ctrl-C. */
export function weftctlStarted(args: string[], env: Record<string, string>) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('WEFT_')));
  const child = spawn(weftctlPath, args, { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return {
    output: () => stdout,
    interrupt: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

export interface LocalStack {
  /** WEFT_CTL_* settings that point weftctl at this stack. */
  env: Record<string, string>;
  ports: Record<string, string>;
  hostName: string;
  output(): string;
  /** The last lines of a daemon's log (<state>/logs/<name>.log), for a failure to show. */
  logTail(name: string, lines?: number): string;
  stop(): Promise<number | null>;
}

/** `npm start`'s stack on free ports, with an agent of this run's own name when root. */
export async function startLocalStack(prefix: string): Promise<LocalStack> {
  const state = tempDir(`${prefix}-`);
  const ports = await stackPortEnv();
  const natsPort = await freePort();
  const hostName = `${prefix}${process.pid % 100_000}`;
  const stack: ChildProcess = spawn(process.execPath, [join(repoRoot, 'deploy', 'stack.mjs')], {
    env: {
      ...process.env,
      ...ports,
      WEFT_STATE_DIR: state.path,
      WEFT_NATS_PORT: String(natsPort),
      WEFT_AGENT_HOST_NAME: hostName,
      WEFT_AGENT_TUNNEL_DEVICE: hostName,
      WEFT_AGENT_CNI_SOCKET: join(state.path, 'agent.sock'),
      WEFT_AGENT_CNI_DELETE_QUEUE: join(state.path, 'delete-queue'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  stack.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  stack.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => stack.once('exit', resolve));
  const stop = async () => {
    if (stack.exitCode === null && stack.signalCode === null) stack.kill('SIGINT');
    const code = await exited;
    state.remove();
    return code;
  };
  try {
    // Its output is read when the wait ends, not when it begins (it is empty then).
    await waitFor(() => output.includes('weft: ready') || stack.exitCode !== null, {
      timeoutMs: 90_000,
      what: 'the stack to be ready',
    }).catch((error: Error) => {
      throw new Error(`${error.message}; it said:\n${output}`);
    });
    if (!output.includes('weft: ready')) throw new Error(`the stack did not start:\n${output}`);
  } catch (error) {
    await stop();
    throw error;
  }
  const env = {
    WEFT_CTL_CONFIG: join(state.path, 'weftctl.yaml'),
    WEFT_CTL_CONFIG_API: `http://127.0.0.1:${ports.WEFT_CONFIG_API_REST_PORT}`,
    WEFT_CTL_CONFIG_API_GRPC: `127.0.0.1:${ports.WEFT_CONFIG_API_GRPC_PORT}`,
    WEFT_CTL_CONTROL: `http://127.0.0.1:${ports.WEFT_CONTROL_HTTP_PORT}`,
    WEFT_CTL_ANALYTICS: `http://127.0.0.1:${ports.WEFT_REST_PORT}`,
    // config-api's gRPC takes clients with a certificate of the stack's authority.
    WEFT_CTL_TLS_CA: join(state.path, 'tls', 'ca.pem'),
    WEFT_CTL_TLS_CERT: join(state.path, 'tls', 'weftctl.pem'),
    WEFT_CTL_TLS_KEY: join(state.path, 'tls', 'weftctl.key'),
    // The admin token the stack's config-api wrote, as the README's tour has weftctl send it.
    WEFT_CTL_TOKEN_FILE: join(state.path, 'admin.token'),
  };
  const logTail = (name: string, lines = 40) => {
    const path = join(state.path, 'logs', `${name}.log`);
    return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n') : `(no ${path})`;
  };
  return { env, ports, hostName, output: () => output, logTail, stop };
}
