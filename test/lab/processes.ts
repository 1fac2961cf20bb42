// The lab's daemons: each started detached (it outlives `lab up`), its output in a log file,
// its pid recorded so that `lab down` — or a test's cleanup — stops it, and nothing is left.
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@weft/kit/testing';

export interface LabProcess {
  name: string;
  pid: number;
  log: string;
  /** Network namespace it runs in; empty for the machine's own. */
  netns: string;
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  { env, logDir, netns = '' }: { env: NodeJS.ProcessEnv; logDir: string; netns?: string },
): LabProcess {
  const log = join(logDir, `${name}.log`);
  const output = openSync(log, 'a');
  // nsenter --net keeps the mount namespace, so an agent in a host namespace still sees the
  // one bpffs where the datapath pins its maps.
  const [file, fullArgs] = netns ? ['nsenter', [`--net=/var/run/netns/${netns}`, command, ...args]] : [command, args];
  const child = spawn(file, fullArgs, { env, detached: true, stdio: ['ignore', output, output] });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  return { name, pid: child.pid, log, netns };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie has ended but waits for its parent to reap it; in a container whose first process
  // reaps nothing, that parent never comes.
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after the deadline; resolves once the process is gone. */
export async function stopProcess(process_: LabProcess, deadlineMs = 15_000): Promise<void> {
  if (!isAlive(process_.pid)) return;
  process.kill(process_.pid, 'SIGTERM');
  try {
    await waitFor(() => !isAlive(process_.pid), { timeoutMs: deadlineMs, what: `${process_.name} to stop` });
  } catch {
    if (isAlive(process_.pid)) process.kill(process_.pid, 'SIGKILL');
    await waitFor(() => !isAlive(process_.pid), { what: `${process_.name} to die` });
  }
}
