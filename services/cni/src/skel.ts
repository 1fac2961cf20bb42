// The plugin's dispatcher (the shape of the CNI library's pkg/skel): the environment and stdin
// come in, one verb runs, and the outcome is what goes to stdout and the exit code. Nothing here
// touches process.*, so tests drive it directly and main.ts stays a few lines.
import { type Logger, pino } from 'pino';
import { AgentClient } from './agent-client.js';
import { parseCniArgs } from './cni-args.js';
import { CniCode, CniError } from './errors.js';
import { type NetConf, parseNetConf, SUPPORTED_VERSIONS } from './netconf.js';
import { add } from './verbs/add.js';
import { check } from './verbs/check.js';
import type { VerbContext } from './verbs/context.js';
import { del } from './verbs/del.js';
import { gc } from './verbs/gc.js';
import { status } from './verbs/status.js';

export interface PluginOutcome {
  stdout: string;
  exitCode: number;
}

const LATEST_VERSION = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]!;
const VERBS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'] as const;
type Verb = (typeof VERBS)[number];

function requireEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new CniError(CniCode.INVALID_ENVIRONMENT, `${name} is required`);
  return value;
}

function versionOutcome(stdin: string): PluginOutcome {
  let requested: string = LATEST_VERSION;
  try {
    const parsed = JSON.parse(stdin) as { cniVersion?: unknown };
    if (typeof parsed.cniVersion === 'string' && parsed.cniVersion !== '') requested = parsed.cniVersion;
  } catch {
    // VERSION may be called with an empty stdin; answer with the latest version.
  }
  return { stdout: JSON.stringify({ cniVersion: requested, supportedVersions: SUPPORTED_VERSIONS }), exitCode: 0 };
}

function createLog(netconf: NetConf): Logger {
  if (!netconf.logFile) return pino({ level: 'silent' });
  return pino(
    { base: { plugin: 'weft-cni', pid: process.pid } },
    pino.destination({ dest: netconf.logFile, sync: true, mkdir: true }),
  );
}

export async function runPlugin(env: NodeJS.ProcessEnv, stdin: string): Promise<PluginOutcome> {
  let cniVersion: string = LATEST_VERSION;
  try {
    const verb = requireEnv(env, 'CNI_COMMAND') as Verb;
    if (!VERBS.includes(verb))
      throw new CniError(CniCode.INVALID_ENVIRONMENT, `CNI_COMMAND ${verb} is not one of ${VERBS.join(', ')}`);
    if (verb === 'VERSION') return versionOutcome(stdin);
    const netconf = parseNetConf(stdin, verb);
    cniVersion = netconf.cniVersion;
    const log = createLog(netconf).child({ verb, containerId: env.CNI_CONTAINERID });
    const agent = new AgentClient(netconf.agentSocket, netconf.agentTimeoutMs);
    try {
      if (verb === 'STATUS') {
        await status({ agent });
        return { stdout: '', exitCode: 0 };
      }
      if (verb === 'GC') {
        await gc({ netconf, agent, log });
        return { stdout: '', exitCode: 0 };
      }
      const context: VerbContext = {
        containerId: requireEnv(env, 'CNI_CONTAINERID'),
        ifname: requireEnv(env, 'CNI_IFNAME'),
        netns: verb === 'DEL' ? (env.CNI_NETNS ?? '') : requireEnv(env, 'CNI_NETNS'),
        pod: parseCniArgs(env.CNI_ARGS),
        netconf,
        agent,
        log,
      };
      try {
        if (verb === 'ADD') return { stdout: JSON.stringify(await add(context)), exitCode: 0 };
        if (verb === 'DEL') await del(context);
        else await check(context);
        return { stdout: '', exitCode: 0 };
      } catch (error) {
        log.error({ err: error }, `${verb} failed`);
        throw error;
      }
    } finally {
      agent.close();
    }
  } catch (error) {
    const cniError =
      error instanceof CniError
        ? error
        : new CniError(CniCode.IO_FAILURE, 'weft-cni failed', error instanceof Error ? error.message : String(error));
    return { stdout: JSON.stringify(cniError.toJSON(cniVersion)), exitCode: 1 };
  }
}
