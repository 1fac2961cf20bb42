// Running the kernel's own tools (iproute2, nsenter) for the lab, with errors that say which
// command failed and what it printed.
import { execFileSync } from 'node:child_process';

export function sh(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim() ?? '';
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr || String(error)}`);
  }
}

/** Runs a command and ignores its failure: for removing what may already be gone. */
export function shQuiet(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

export const netnsPath = (name: string) => `/var/run/netns/${name}`;

/** Runs a command inside a named network namespace (keeping the mount namespace, so bpffs). */
export function inNs(netns: string, command: string, args: string[]): string {
  return sh('nsenter', [`--net=${netnsPath(netns)}`, command, ...args]);
}

export function netnsExists(name: string): boolean {
  return sh('ip', ['netns', 'list'])
    .split('\n')
    .some((line) => line.split(' ')[0] === name);
}
