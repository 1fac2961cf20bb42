// Plays the container runtime: runs a CNI plugin executable exactly as a runtime does (the
// CNI_* environment, the network config on stdin, the result on stdout, the exit code), and
// makes and removes pod network namespaces. The lab and the plugin's tests share it, and it
// runs Debian's reference plugins too, which shows that it speaks the spec.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The weft-cni executable of this checkout: the build makes it one (mode 755, a shebang). */
export const weftCniPath = join(fileURLToPath(new URL('..', import.meta.url)), 'main.js');

export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';
  config: Record<string, unknown>;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: Record<string, string>;
  /** Folders the runtime searches for plugins (CNI_PATH). */
  path?: string[];
  /** Network namespace the runtime itself runs in (a lab host's); the caller's when not given. */
  runtimeNetns?: string;
}

export interface CniOutcome {
  exitCode: number;
  stdout: string;
  /** stdout parsed, when it is JSON. */
  json?: Record<string, unknown> & { code?: number; msg?: string };
}

/** Runs `plugin` for one verb. `plugin` is the path of an executable, exec'd as a runtime does. */
export function callPlugin(plugin: string, call: CniCall): Promise<CniOutcome> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    CNI_COMMAND: call.command,
    CNI_PATH: (call.path ?? ['/usr/lib/cni', '/opt/cni/bin']).join(':'),
  };
  if (call.containerId) env.CNI_CONTAINERID = call.containerId;
  if (call.netns !== undefined) env.CNI_NETNS = call.netns;
  if (call.ifname) env.CNI_IFNAME = call.ifname;
  if (call.args)
    env.CNI_ARGS = Object.entries(call.args)
      .map(([key, value]) => `${key}=${value}`)
      .join(';');
  // nsenter --net enters only the network namespace: the plugin still sees the host's files.
  const [command, args] = call.runtimeNetns ? ['nsenter', [`--net=${call.runtimeNetns}`, plugin]] : [plugin, []];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      let json: CniOutcome['json'];
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ exitCode: code ?? -1, stdout, json });
    });
    child.stdin.end(JSON.stringify(call.config));
  });
}

/** A named network namespace for a pod; `path` is what CNI_NETNS takes. */
export function createNetns(name: string): { name: string; path: string; remove: () => void } {
  execFileSync('ip', ['netns', 'add', name]);
  const path = `/var/run/netns/${name}`;
  return {
    name,
    path,
    remove: () => {
      if (existsSync(path)) execFileSync('ip', ['netns', 'del', name]);
    },
  };
}

/** Runs a command inside a namespace and returns its stdout. */
export function inNetns(netnsPath: string, command: string, args: string[]): string {
  return execFileSync('nsenter', [`--net=${netnsPath}`, command, ...args], { encoding: 'utf8' });
}

/** Why namespaces cannot be made here, or undefined when they can; tests skip with it. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    execFileSync('ip', ['netns', 'list']);
    return undefined;
  } catch {
    return 'iproute2 (ip netns) is not available';
  }
}
