// A real gobgpd (Debian's) for control's BGP tests: its gRPC API on a free loopback port, no
// configuration file (control configures it through the API), stopped and started again at
// will, as a restart of the speaker would be.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { freePort, portAccepts, waitFor } from '@weft/kit/testing';

export function gobgpdMissing(): string | undefined {
  const probe = spawnSync('gobgpd', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : 'gobgpd is not installed (deploy/setup.mjs test installs it as root)';
}

export interface GobgpdProcess {
  /** host:port of its gRPC API. */
  address: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startGobgpd(): Promise<GobgpdProcess> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('gobgpd', ['--api-hosts', `127.0.0.1:${port}`, '--pprof-disable', '-p'], { stdio: 'ignore' });
    await waitFor(() => portAccepts(port), { what: `gobgpd on port ${port}` });
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
  return { address: `127.0.0.1:${port}`, start, stop };
}
