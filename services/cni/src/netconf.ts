// The network configuration the runtime passes on stdin, validated: a wrong field is error 7
// naming the field, an unsupported cniVersion error 1.
import { CniCode, CniError } from './errors.js';

export const SUPPORTED_VERSIONS = ['1.0.0', '1.1.0'] as const;

export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  /** The agent's CNI socket. */
  agentSocket: string;
  /** How long ADD waits for the pod's config to reach the agent. */
  configWaitMs: number;
  /** Deadline of one call to the agent. */
  agentTimeoutMs: number;
  /** Where DEL queues a deletion the agent cannot take now (the agent's WEFT_AGENT_CNI_DELETE_QUEUE). */
  deleteQueue: string;
  /** Where the plugin logs (JSON lines); nowhere when empty. */
  logFile: string;
  /** Delegate mode (Multus): set up only the interface on this virtual network. */
  network: string;
  /** The previous result (CHECK, DEL). */
  prevResult?: CniResult;
  /** GC: attachments the runtime still uses. */
  validAttachments: { containerID: string; ifname: string }[];
}

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
}

const DEFAULTS = {
  agentSocket: '/run/weft/agent.sock',
  deleteQueue: '/run/weft/delete-queue',
  configWaitMs: 30_000,
  agentTimeoutMs: 5_000,
};

function fail(field: string, reason: string): never {
  throw new CniError(CniCode.INVALID_CONFIG, `invalid network config: ${field} ${reason}`, `field "${field}"`);
}

function optionalString(config: Record<string, unknown>, field: string, fallback: string): string {
  const value = config[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'string') fail(field, 'must be a string');
  return value;
}

function optionalDuration(config: Record<string, unknown>, field: string, fallback: number): number {
  const value = config[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    fail(field, 'must be a positive integer (ms)');
  return value;
}

/** Parses stdin; `verb` decides which fields are required. */
export function parseNetConf(stdin: string, verb: string): NetConf {
  let config: unknown;
  try {
    config = JSON.parse(stdin);
  } catch (error) {
    throw new CniError(CniCode.DECODE_FAILURE, 'network config is not valid JSON', String(error));
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) fail('(root)', 'must be a JSON object');
  const raw = config as Record<string, unknown>;
  const cniVersion = raw.cniVersion;
  if (typeof cniVersion !== 'string' || cniVersion === '') fail('cniVersion', 'is required');
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(cniVersion)) {
    throw new CniError(
      CniCode.INCOMPATIBLE_VERSION,
      `incompatible CNI version ${cniVersion}`,
      `weft-cni supports ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  const needsNetwork = verb !== 'VERSION';
  const name = optionalString(raw, 'name', '');
  const type = optionalString(raw, 'type', '');
  if (needsNetwork && name === '') fail('name', 'is required');
  if (needsNetwork && type === '') fail('type', 'is required');
  const valid = raw['cni.dev/valid-attachments'] ?? [];
  if (
    !Array.isArray(valid) ||
    !valid.every((item) => typeof item?.containerID === 'string' && typeof item?.ifname === 'string')
  ) {
    fail('cni.dev/valid-attachments', 'must be a list of {containerID, ifname}');
  }
  const deleteQueue = optionalString(raw, 'deleteQueue', DEFAULTS.deleteQueue);
  if (deleteQueue === '') fail('deleteQueue', 'must name a directory');
  const prevResult = raw.prevResult;
  if (prevResult !== undefined && (typeof prevResult !== 'object' || prevResult === null))
    fail('prevResult', 'must be an object');
  return {
    cniVersion,
    name,
    type,
    agentSocket: optionalString(raw, 'agentSocket', DEFAULTS.agentSocket),
    configWaitMs: optionalDuration(raw, 'configWaitMs', DEFAULTS.configWaitMs),
    agentTimeoutMs: optionalDuration(raw, 'agentTimeoutMs', DEFAULTS.agentTimeoutMs),
    deleteQueue,
    logFile: optionalString(raw, 'logFile', ''),
    network: optionalString(raw, 'network', ''),
    prevResult: prevResult as CniResult | undefined,
    validAttachments: valid as NetConf['validAttachments'],
  };
}
