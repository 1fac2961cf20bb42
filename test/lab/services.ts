// How the lab runs each daemon: command, options (WEFT_* environment) and readiness check. The
// controller listens on the underlay's controller address so that agents in host namespaces
// reach it, and the REST APIs on loopback too for the user.
import { join } from 'node:path';
import { portAccepts } from '@weft/kit/testing';
import { repoRoot } from '../support/stack.js';
import type { LabHost, Topology } from './topology.js';

export interface LabPorts {
  nats: number;
  configRest: number;
  configGrpc: number;
  control: number;
  controlHttp: number;
  analytics: number;
  agentHttp: number;
}

export interface ControllerService {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  stateDir: string;
  ready: () => Promise<boolean>;
}

/**
 * A daemon's whole environment: this process's, without any WEFT_* variable (each daemon refuses
 * one it does not declare, and the lab's own are not the daemon's), plus the daemon's options.
 */
export function daemonEnv(options: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('WEFT_'));
  return { ...Object.fromEntries(inherited), ...options };
}

const serviceMain = (service: string) => join(repoRoot, 'services', service, 'dist', 'main.js');

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).status === 200;
  } catch {
    return false;
  }
}

export function controllerServices(topology: Topology, ports: LabPorts, dir: string): ControllerService[] {
  const host = topology.controllerAddress;
  const natsUrl = `nats://${host}:${ports.nats}`;
  const stateDir = (name: string) => join(dir, name);
  const common = (name: string) => ({ WEFT_NATS_URL: natsUrl, WEFT_STATE_DIR: stateDir(name), WEFT_LOG_LEVEL: 'info' });
  return [
    {
      name: 'nats-server',
      command: 'nats-server',
      args: ['-js', '-sd', stateDir('nats-server'), '-a', host, '-p', String(ports.nats)],
      env: {},
      stateDir: stateDir('nats-server'),
      ready: () => portAccepts(ports.nats, host),
    },
    {
      name: 'config-api',
      command: process.execPath,
      args: [serviceMain('config-api')],
      env: {
        ...common('config-api'),
        WEFT_CONFIG_API_HOST: '0.0.0.0',
        WEFT_CONFIG_API_REST_PORT: String(ports.configRest),
        WEFT_CONFIG_API_GRPC_PORT: String(ports.configGrpc),
      },
      stateDir: stateDir('config-api'),
      ready: () => answers(`http://127.0.0.1:${ports.configRest}/readyz`),
    },
    {
      name: 'control',
      command: process.execPath,
      args: [serviceMain('control')],
      env: {
        ...common('control'),
        WEFT_CONFIG_API_GRPC: `127.0.0.1:${ports.configGrpc}`,
        WEFT_CONTROL_HOST: '0.0.0.0',
        WEFT_CONTROL_AGENT_PORT: String(ports.control),
        WEFT_CONTROL_HTTP_PORT: String(ports.controlHttp),
      },
      stateDir: stateDir('control'),
      ready: () => answers(`http://127.0.0.1:${ports.controlHttp}/readyz`),
    },
    {
      name: 'analytics',
      command: process.execPath,
      args: [serviceMain('analytics')],
      env: { ...common('analytics'), WEFT_REST_HOST: '0.0.0.0', WEFT_REST_PORT: String(ports.analytics) },
      stateDir: stateDir('analytics'),
      ready: () => answers(`http://127.0.0.1:${ports.analytics}/readyz`),
    },
  ];
}

export function agentCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: [serviceMain('vrouter-agent')] };
}

export function agentEnv(host: LabHost, topology: Topology, ports: LabPorts, hostDir: string): Record<string, string> {
  return {
    WEFT_STATE_DIR: hostDir,
    WEFT_NATS_URL: `nats://${topology.controllerAddress}:${ports.nats}`,
    WEFT_AGENT_HOST_NAME: host.name,
    WEFT_AGENT_UNDERLAY_ADDRESS: host.underlayAddress,
    WEFT_AGENT_UNDERLAY_DEVICE: host.underlayDevice,
    WEFT_AGENT_CONTROL: `${topology.controllerAddress}:${ports.control}`,
    WEFT_AGENT_HTTP_HOST: '0.0.0.0',
    WEFT_AGENT_HTTP_PORT: String(ports.agentHttp),
    WEFT_AGENT_CNI_SOCKET: join(hostDir, 'agent.sock'),
    WEFT_AGENT_CNI_DELETE_QUEUE: join(hostDir, 'delete-queue'),
    WEFT_AGENT_BPFFS_DIR: `/sys/fs/bpf/weft/${host.name}`,
    WEFT_AGENT_DATAPATH_MODE: host.datapathMode ?? 'tc',
    ...(host.underlayStage ? { WEFT_AGENT_UNDERLAY_STAGE: host.underlayStage } : {}),
  };
}
