// Starts a real nats-server (JetStream on) on a free loopback port for a test, the way the
// local stack runs it, and stops it again. Tests never mock the bus.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { freePort, portAccepts } from './ports.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait.js';

export interface NatsServerProcess {
  url: string;
  port: number;
  /** Stops the server (SIGTERM) and waits for it to exit. The data dir is kept for a restart. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data dir, as after a crash or an upgrade. */
  start(): Promise<void>;
  /** Stops it and removes its data dir. */
  dispose(): Promise<void>;
}

/** Why nats-server cannot run here, or undefined when it can; a test skips with this reason. */
export function natsServerMissing(): string | undefined {
  const probe = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : 'nats-server is not installed (npm test installs it when run as root)';
}

export async function startNatsServer({
  jetstream = true,
  tls,
}: {
  jetstream?: boolean;
  tls?: { certFile: string; keyFile: string };
} = {}): Promise<NatsServerProcess> {
  const port = await freePort();
  const data = tempDir('weft-nats-');
  let child: ChildProcess | undefined;

  const start = async () => {
    const args = ['-a', '127.0.0.1', '-p', String(port)];
    if (jetstream) args.push('-js', '-sd', data.path);
    if (tls) args.push('--tls', '--tlscert', tls.certFile, '--tlskey', tls.keyFile);
    child = spawn('nats-server', args, { stdio: 'ignore' });
    const exited = new Promise<never>((_, reject) =>
      child?.once('exit', (code) => reject(new Error(`nats-server exited with ${code}`))),
    );
    exited.catch(() => {});
    await Promise.race([waitFor(() => portAccepts(port), { what: `nats-server on port ${port}` }), exited]);
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };

  await start();
  return {
    url: `${tls ? 'tls' : 'nats'}://127.0.0.1:${port}`,
    port,
    start,
    stop,
    dispose: async () => {
      await stop();
      data.remove();
    },
  };
}
