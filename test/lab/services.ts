// How the lab runs each daemon: command, options (WEFT_* environment) and readiness check. The
// controller listens on the underlay's controller address so that agents in host namespaces
// reach it, and the REST APIs on loopback too for the user. The internal links (gRPC, NATS) run
// mutual TLS with the lab's own authority (certificates.ts), and NATS knows each service by its
// certificate and lets it use only its own subjects (@weft/kit nats-permissions.ts); REST stays
// plain HTTP.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NATS_PERMISSIONS, type NatsService, natsServerConfig, natsUserOf } from '@weft/kit';
import { portAccepts } from '@weft/kit/testing';
import { repoRoot } from '../support/stack.js';
import { identity, identityPaths, tlsDirOf, tlsOptions } from './certificates.js';
import { LAB_WEFT_ASN, type LabHost, type Topology } from './topology.js';

export interface LabPorts {
  nats: number;
  configRest: number;
  configGrpc: number;
  control: number;
  controlHttp: number;
  analytics: number;
  agentHttp: number;
  /** weft-kube-manager's HTTP port, in a lab on Kubernetes (8108 when not given). */
  kubeManagerHttp?: number;
  /** gobgpd's gRPC API (loopback), when the lab has a gateway. */
  bgpApi: number;
}

/** A lab on Kubernetes: the API weft-kube-manager watches, and the pods' default network. */
export interface LabKube {
  url: string;
  /** Name of the virtual network (in default-project) that is every pod's eth0. */
  podNetwork: string;
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

/** The lab's cloud-admin token, which config-api writes at its first start. */
export const adminTokenFile = (dir: string) => join(dir, 'admin.token');

/**
 * A daemon's main.js in a built Weft tree: this checkout's by default, or another release's
 * (the lab's upgrade rollout runs an older tree's daemons, then this one's on the same state).
 */
export const serviceMain = (service: string, tree = repoRoot) => join(tree, 'services', service, 'dist', 'main.js');

/** Which built tree runs each daemon (config-api, control, analytics, agent-<host>); this checkout for those not named. */
export type DaemonTrees = Record<string, string>;

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).status === 200;
  } catch {
    return false;
  }
}

const natsConfigOf = (dir: string) => join(dir, 'nats-server', 'nats.conf');

/**
 * The lab's authority and the controller's identities (each answering on loopback and on the
 * controller address, and carrying its NATS user), and nats-server's configuration: made once
 * before the controller starts.
 */
export function prepareControllerTls(topology: Topology, dir: string): void {
  const host = topology.controllerAddress;
  for (const name of ['nats-server', 'config-api', 'control', 'analytics']) {
    identity(tlsDirOf(dir), name, [
      'localhost',
      '127.0.0.1',
      host,
      ...(name in NATS_PERMISSIONS ? [natsUserOf(name as NatsService)] : []),
    ]);
  }
  mkdirSync(join(dir, 'nats-server'), { recursive: true });
  writeFileSync(natsConfigOf(dir), natsServerConfig({ tls: identityPaths(tlsDirOf(dir), 'nats-server') }));
}

/** A host's identity, named by the host (the name control believes) and carrying the agents' NATS user. */
export function prepareAgentTls(host: LabHost, dir: string): void {
  identity(tlsDirOf(dir), host.name, [host.underlayAddress, natsUserOf('vrouter-agent')]);
}

export function controllerServices(
  topology: Topology,
  ports: LabPorts,
  dir: string,
  kube?: LabKube,
  authDir = dir,
  trees: DaemonTrees = {},
): ControllerService[] {
  const host = topology.controllerAddress;
  const natsUrl = `nats://${host}:${ports.nats}`;
  const stateDir = (name: string) => join(dir, name);
  const common = (name: string) => ({
    WEFT_NATS_URL: natsUrl,
    WEFT_STATE_DIR: stateDir(name),
    WEFT_LOG_LEVEL: 'info',
    ...tlsOptions(identityPaths(tlsDirOf(dir), name)),
  });
  const natsConfig = natsConfigOf(dir);
  const gateway = topology.gateway;
  // With a gateway, control drives a gobgpd beside it that peers with the gateway's FRR.
  const bgp: ControllerService[] = gateway
    ? [
        {
          name: 'gobgpd',
          command: 'gobgpd',
          // -r: a restarted gobgpd says so (graceful restart), so that the gateway keeps its routes.
          args: ['--api-hosts', `127.0.0.1:${ports.bgpApi}`, '--pprof-disable', '-p', '-r'],
          env: {},
          stateDir: stateDir('gobgpd'),
          ready: () => portAccepts(ports.bgpApi),
        },
      ]
    : [];
  const bgpOptions: Record<string, string> = gateway
    ? {
        WEFT_CONTROL_BGP_SPEAKER: `127.0.0.1:${ports.bgpApi}`,
        WEFT_CONTROL_BGP_ASN: String(LAB_WEFT_ASN),
        WEFT_CONTROL_BGP_ROUTER_ID: host,
        WEFT_CONTROL_BGP_PEERS: `${gateway.underlayAddress}:${gateway.asn}`,
      }
    : {};
  // One tokens file for the lab: config-api makes it with an admin token (admin.token beside it).
  const tokensFile = join(authDir, 'tokens.json');
  return [
    ...bgp,
    {
      name: 'nats-server',
      command: 'nats-server',
      args: ['-c', natsConfig, '-js', '-sd', stateDir('nats-server'), '-a', host, '-p', String(ports.nats)],
      env: {},
      stateDir: stateDir('nats-server'),
      ready: () => portAccepts(ports.nats, host),
    },
    {
      name: 'config-api',
      command: process.execPath,
      args: [serviceMain('config-api', trees['config-api'])],
      env: {
        ...common('config-api'),
        WEFT_CONFIG_API_HOST: '0.0.0.0',
        WEFT_CONFIG_API_REST_PORT: String(ports.configRest),
        WEFT_CONFIG_API_GRPC_PORT: String(ports.configGrpc),
        WEFT_AUTH_TOKENS_FILE: tokensFile,
      },
      stateDir: stateDir('config-api'),
      ready: () => answers(`http://127.0.0.1:${ports.configRest}/readyz`),
    },
    {
      name: 'control',
      command: process.execPath,
      args: [serviceMain('control', trees.control)],
      env: {
        ...common('control'),
        WEFT_CONFIG_API_GRPC: `127.0.0.1:${ports.configGrpc}`,
        WEFT_CONFIG_API_TOKEN_FILE: adminTokenFile(authDir),
        WEFT_CONTROL_HOST: '0.0.0.0',
        WEFT_CONTROL_AGENT_PORT: String(ports.control),
        WEFT_CONTROL_HTTP_PORT: String(ports.controlHttp),
        ...bgpOptions,
      },
      stateDir: stateDir('control'),
      ready: () => answers(`http://127.0.0.1:${ports.controlHttp}/readyz`),
    },
    {
      name: 'analytics',
      command: process.execPath,
      args: [serviceMain('analytics', trees.analytics)],
      env: {
        ...common('analytics'),
        WEFT_REST_HOST: '0.0.0.0',
        WEFT_REST_PORT: String(ports.analytics),
        WEFT_AUTH_TOKENS_FILE: tokensFile,
      },
      stateDir: stateDir('analytics'),
      ready: () => answers(`http://127.0.0.1:${ports.analytics}/readyz`),
    },
    // kube-manager talks to config-api's REST and the Kubernetes API only: no NATS, no identity.
    ...(kube
      ? [
          kubeManagerService(kube, ports, {
            WEFT_STATE_DIR: stateDir('kube-manager'),
            WEFT_LOG_LEVEL: 'info',
            WEFT_CONFIG_API_TOKEN_FILE: adminTokenFile(authDir),
          }),
        ]
      : []),
  ];
}

function kubeManagerService(kube: LabKube, ports: LabPorts, common: Record<string, string>): ControllerService {
  const httpPort = ports.kubeManagerHttp ?? 8108;
  return {
    name: 'kube-manager',
    command: process.execPath,
    args: [serviceMain('kube-manager')],
    env: {
      ...common,
      WEFT_KUBE_API_URL: kube.url,
      WEFT_CONFIG_API_URL: `http://127.0.0.1:${ports.configRest}`,
      WEFT_KUBE_POD_NETWORK: `default-domain:default-project:${kube.podNetwork}`,
      WEFT_KUBE_MANAGER_HTTP_HOST: '127.0.0.1',
      WEFT_KUBE_MANAGER_HTTP_PORT: String(httpPort),
      // One name across restarts: a restarted manager takes its own Lease back at once.
      WEFT_KUBE_MANAGER_IDENTITY: 'lab',
    },
    stateDir: common.WEFT_STATE_DIR!,
    ready: () => answers(`http://127.0.0.1:${httpPort}/readyz`),
  };
}

export function agentCommand(tree?: string): { command: string; args: string[] } {
  return { command: process.execPath, args: [serviceMain('vrouter-agent', tree)] };
}

export function agentEnv(
  host: LabHost,
  topology: Topology,
  ports: LabPorts,
  hostDir: string,
  authDir: string,
): Record<string, string> {
  // Named by its host: the name control believes is the one in this certificate.
  const tls = identity(tlsDirOf(join(hostDir, '..')), host.name, [host.underlayAddress, natsUserOf('vrouter-agent')]);
  return {
    ...tlsOptions(tls),
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
    // The lab's one tokens file (config-api's): its admin token may use the introspection.
    WEFT_AUTH_TOKENS_FILE: join(authDir, 'tokens.json'),
    ...(host.underlayStage ? { WEFT_AGENT_UNDERLAY_STAGE: host.underlayStage } : {}),
  };
}
