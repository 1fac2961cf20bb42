// The multi-host lab: N hosts as network namespaces on one underlay, a vrouter-agent in each,
// and the controller (nats-server, config-api, control, analytics) in the machine's own
// namespace. `npm run lab` drives it by hand; the end-to-end tests drive the same class, so what
// users try is what is tested. Its state (pids, pods) is a JSON file, so `down` works from
// another process and after a crash.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CniOutcome, callPlugin, weftCniPath } from '@weft/cni/testing';
import { freePort, waitFor } from '@weft/kit/testing';
import { tlsDirOf } from './certificates.js';
import { ConfigClient, type Ref } from './config-client.js';
import { frrMissing, startGateway } from './gateway.js';
import { KubeClient } from './kube-client.js';
import { isAlive, type LabProcess, startProcess, stopProcess } from './processes.js';
import {
  adminTokenFile,
  agentCommand,
  agentEnv,
  controllerServices,
  type DaemonTrees,
  daemonEnv,
  type LabKube,
  type LabPorts,
  prepareAgentTls,
  prepareControllerTls,
  serviceMain,
} from './services.js';
import { inNs, netnsExists, netnsPath, sh, shQuiet } from './shell.js';
import {
  createTopology,
  destroyTopology,
  type LabDatapathMode,
  type LabHost,
  type LabUnderlayStage,
  planTopology,
  type Topology,
  topologyExists,
} from './topology.js';
import { optionsFor } from './trees.js';

/** A CNI ADD that weft-cni itself failed (not the config the lab writes before it), with the CNI error code. */
export class CniAddFailed extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
  }
}

export interface LabOptions {
  /** Prefix of every namespace and link the lab makes. */
  name?: string;
  hosts?: number;
  /** Third octet of the underlay 10.255.<subnet>.0/24, so that labs can run side by side. */
  subnet?: number;
  /** Where the lab keeps its state and logs. */
  dir: string;
  ports?: Partial<LabPorts>;
  /** Datapath mode of each host in order (h1, h2, …); tc for those not given. */
  modes?: LabDatapathMode[];
  /** Where each host (in order) runs the underlay's first stage in TC mode; the agent's default when not given. */
  underlayStage?: (LabUnderlayStage | undefined)[];
  /**
   * A lab on Kubernetes: weft-kube-manager runs with the controller, and addPod creates the Pod
   * through this API (its first network must be kube.podNetwork) before it calls weft-cni.
   */
  kube?: LabKube;
  /** A gateway router (FRR) between the underlay and an outside namespace, BGP with control. */
  gateway?: boolean;
  /**
   * Where the tokens file and admin.token are (config-api makes them at its first start); the
   * lab's dir when not given. The CLI gives .weft, as `npm start` does, so weftctl finds it.
   */
  authDir?: string;
  /** Daemons run from another built tree (an older release): by name (config-api, agent-<host>, …). */
  trees?: DaemonTrees;
}

export interface LabPod {
  name: string;
  host: string;
  netns: string;
  containerId: string;
  networks: string[];
  /** The config the lab made by REST; none for a pod made through Kubernetes (the manager's). */
  config?: { vm: Ref; interfaces: Ref[]; ips: Ref[] };
  /** The pod's uid, when it was made through Kubernetes. */
  kubeUid?: string;
  result: Record<string, unknown>;
}

interface LabState {
  topology: Topology;
  ports: LabPorts;
  processes: LabProcess[];
  pods: Record<string, LabPod>;
  kube?: LabKube;
  authDir?: string;
  /** Which built tree runs each daemon; this checkout for those not named. */
  trees?: DaemonTrees;
  /** Options the lab left out for a daemon of another tree, which does not declare them. */
  dropped?: Record<string, string[]>;
}

const DEFAULT_PORTS: LabPorts = {
  nats: 4222,
  configRest: 8082,
  configGrpc: 8090,
  control: 5269,
  controlHttp: 8083,
  analytics: 8081,
  agentHttp: 8085,
  bgpApi: 50051,
};

/** Free ports for every listener of a lab, so that labs side by side do not meet. */
export async function freeLabPorts(): Promise<LabPorts> {
  const names: (keyof LabPorts)[] = [
    'nats',
    'configRest',
    'configGrpc',
    'control',
    'controlHttp',
    'analytics',
    'agentHttp',
    'bgpApi',
  ];
  const ports = {} as LabPorts;
  for (const name of names) ports[name] = await freePort();
  return ports;
}

/**
 * A third octet for a lab's underlay (10.255.<n>.0/24) that no address of this machine uses yet,
 * looking from `start` and round within [first, last] (20-219 for lab tests, 220-249 for the
 * fault cases): lab tests run side by side, each with a lab of its own, and a lab's controller
 * address is in the root namespace, so a live lab (or one a killed run left) shows there.
 */
export function freeUnderlaySubnet(start: number, first = 20, last = 219): number {
  const used = execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' });
  for (let tried = 0, n = start; tried <= last - first; tried++, n = n >= last ? first : n + 1) {
    if (!used.includes(`10.255.${n}.`)) return n;
  }
  throw new Error(`every lab underlay 10.255.${first}-${last}.0/24 is in use: \`ip -4 -o addr\` shows which`);
}

export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the lab makes network namespaces and loads BPF programs: it needs root';
  return undefined;
}

export class Lab {
  private constructor(
    readonly dir: string,
    private state: LabState,
  ) {}

  static statePath(dir: string): string {
    return join(dir, 'lab.json');
  }

  static load(dir: string): Lab | undefined {
    const path = Lab.statePath(dir);
    return existsSync(path) ? new Lab(dir, JSON.parse(readFileSync(path, 'utf8'))) : undefined;
  }

  get topology(): Topology {
    return this.state.topology;
  }

  get config(): ConfigClient {
    return new ConfigClient(`http://127.0.0.1:${this.state.ports.configRest}`, this.adminToken);
  }

  /**
   * The lab's cloud-admin token (config-api and analytics want one), read each time: none while
   * a config-api of a release before authentication runs (it makes none and wants none), the
   * one this checkout's config-api made once it has been upgraded.
   */
  get adminToken(): string | undefined {
    const file = adminTokenFile(this.authDir);
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  }

  /** Where the lab's tokens file and admin token are. */
  get authDir(): string {
    return this.state.authDir ?? this.dir;
  }

  /** Headers that carry the admin token, for requests of the lab's REST APIs. */
  get authHeaders(): Record<string, string> {
    const token = this.adminToken;
    return token ? { 'x-auth-token': token } : {};
  }

  get controlUrl(): string {
    return `http://127.0.0.1:${this.state.ports.controlHttp}`;
  }

  /** host:port where agents reach control's Agent service. */
  get controlAgentAddress(): string {
    return `${this.topology.controllerAddress}:${this.state.ports.control}`;
  }

  /** Where the lab's NATS listens (mutual TLS: a client needs a certificate of the lab's authority). */
  get natsUrl(): string {
    return `nats://${this.topology.controllerAddress}:${this.state.ports.nats}`;
  }

  /** The lab's certificate authority and every identity it issued (mutual TLS on gRPC and NATS). */
  get tlsDir(): string {
    return tlsDirOf(this.dir);
  }

  get ports(): LabPorts {
    return this.state.ports;
  }

  get analyticsUrl(): string {
    return `http://127.0.0.1:${this.state.ports.analytics}`;
  }

  get pods(): LabPod[] {
    return Object.values(this.state.pods);
  }

  host(name: string): LabHost {
    const host = this.topology.hosts.find((item) => item.name === name || item.name.endsWith(`-${name}`));
    if (!host)
      throw new Error(`no host ${name} in the lab (hosts: ${this.topology.hosts.map((item) => item.name).join(', ')})`);
    return host;
  }

  #save(): void {
    writeFileSync(Lab.statePath(this.dir), JSON.stringify(this.state, null, 2));
  }

  static async up({
    name = 'wfl',
    hosts = 2,
    subnet = 0,
    dir,
    ports = {},
    modes = [],
    underlayStage = [],
    kube,
    gateway = false,
    authDir,
    trees = {},
  }: LabOptions): Promise<Lab> {
    const reason = labUnavailable();
    if (reason) throw new Error(reason);
    if (Lab.load(dir) || topologyExists(name))
      throw new Error(`lab ${name} is already up: run \`npm run lab -- down\` first`);
    mkdirSync(join(dir, 'logs'), { recursive: true });
    mountBpffs();
    if (gateway) {
      const missing = frrMissing();
      if (missing) throw new Error(missing);
    }
    const topology = planTopology(name, hosts, subnet, modes, underlayStage, gateway);
    const lab = new Lab(dir, {
      topology,
      ports: { ...DEFAULT_PORTS, ...ports },
      processes: [],
      pods: {},
      ...(kube ? { kube } : {}),
      ...(authDir ? { authDir } : {}),
      trees,
    });
    lab.#save();
    try {
      createTopology(topology);
      await lab.#startController();
      for (const host of topology.hosts) await lab.config.ensureVirtualRouter(host.name, host.underlayAddress);
      for (const host of topology.hosts) await lab.startAgent(host);
      if (topology.gateway) {
        lab.state.processes.push(...(await startGateway(topology, topology.gateway, dir)));
        lab.#save();
      }
      return lab;
    } catch (error) {
      // The logs stay, to say why.
      await lab.down({ keepLogs: true });
      throw error;
    }
  }

  async #startController(): Promise<void> {
    prepareControllerTls(this.topology, this.dir);
    for (const service of this.#controllerServices()) {
      mkdirSync(service.stateDir, { recursive: true });
      const started = startProcess(service.name, service.command, service.args, {
        env: daemonEnv(this.#optionsFor(service.name, service.name, service.env)),
        logDir: join(this.dir, 'logs'),
      });
      this.state.processes.push(started);
      this.#save();
      await waitFor(service.ready, { timeoutMs: 30_000, what: `${service.name} to be ready (log ${started.log})` });
    }
  }

  #controllerServices() {
    return controllerServices(
      this.topology,
      this.state.ports,
      this.dir,
      this.state.kube,
      this.authDir,
      this.state.trees,
    );
  }

  /** A daemon's options, fitted to the tree it runs from (what that tree does not declare is left out, and noted). */
  #optionsFor(name: string, service: string, options: Record<string, string>): Record<string, string> {
    const fitted = optionsFor(service, this.state.trees?.[name], options);
    // Kept after the daemon moves to this checkout: the rollout's report says what its older
    // tree ran without.
    if (fitted.dropped.length > 0) this.state.dropped = { ...this.state.dropped, [name]: fitted.dropped };
    return fitted.options;
  }

  /** Options left out, by daemon, because the tree it runs from does not declare them. */
  get droppedOptions(): Record<string, string[]> {
    return this.state.dropped ?? {};
  }

  /** The built tree a daemon runs from (this checkout when none was named). */
  treeOf(name: string): string | undefined {
    return this.state.trees?.[name];
  }

  /**
   * Stops a daemon (config-api, control, analytics or agent-<host>) and starts it again from
   * `tree` (undefined: this checkout) on the same state directory, as an upgrade does.
   */
  async upgrade(name: string, tree: string | undefined): Promise<void> {
    const trees = { ...this.state.trees };
    if (tree) trees[name] = tree;
    else delete trees[name];
    this.state.trees = trees;
    this.#save();
    const host = name.startsWith('agent-') ? this.host(name.slice('agent-'.length)) : undefined;
    if (host) await this.restartAgent(host);
    else await this.restartController(name);
  }

  async startAgent(host: LabHost): Promise<void> {
    const hostDir = join(this.dir, host.name);
    mkdirSync(hostDir, { recursive: true });
    prepareAgentTls(host, this.dir);
    const name = `agent-${host.name}`;
    const { command, args } = agentCommand(this.treeOf(name));
    const started = startProcess(name, command, args, {
      env: daemonEnv(
        this.#optionsFor(name, 'vrouter-agent', agentEnv(host, this.topology, this.state.ports, hostDir, this.authDir)),
      ),
      logDir: join(this.dir, 'logs'),
      netns: host.netns,
    });
    this.state.processes = this.state.processes.filter((item) => item.name !== started.name).concat(started);
    this.#save();
    await waitFor(() => this.agentReady(host), {
      timeoutMs: 30_000,
      what: `the agent of ${host.name} to be ready (log ${started.log})`,
    });
  }

  async stopAgent(host: LabHost): Promise<void> {
    const agent = this.state.processes.find((item) => item.name === `agent-${host.name}`);
    if (agent) await stopProcess(agent);
  }

  /** Restarts the agent of a host, as an upgrade would; the datapath keeps forwarding meanwhile. */
  async restartAgent(host: LabHost): Promise<void> {
    await this.stopAgent(host);
    await this.startAgent(host);
  }

  /** Restarts one controller service (by name, e.g. "control"). */
  async restartController(name: string): Promise<void> {
    const running = this.state.processes.find((item) => item.name === name);
    if (running) await stopProcess(running);
    const service = this.#controllerServices().find((item) => item.name === name);
    if (!service) throw new Error(`no controller service ${name}`);
    const started = startProcess(service.name, service.command, service.args, {
      env: daemonEnv(this.#optionsFor(service.name, service.name, service.env)),
      logDir: join(this.dir, 'logs'),
    });
    this.state.processes = this.state.processes.filter((item) => item.name !== name).concat(started);
    this.#save();
    await waitFor(service.ready, { timeoutMs: 30_000, what: `${name} to be ready again` });
  }

  /** Where a host's agent answers HTTP (health, metrics; /host-state with `authHeaders`). */
  agentUrl(host: LabHost): string {
    return `http://${host.underlayAddress}:${this.state.ports.agentHttp}`;
  }

  /** The running process of a daemon (`control`, `agent-<host>`…), for fault tests to signal. */
  process(name: string): LabProcess | undefined {
    return this.state.processes.find((item) => item.name === name);
  }

  /** Every process the lab started. */
  processIds(): number[] {
    return this.state.processes.map((item) => item.pid);
  }

  async agentReady(host: LabHost): Promise<boolean> {
    try {
      const response = await fetch(`${this.agentUrl(host)}/readyz`);
      return response.status === 200;
    } catch {
      return false;
    }
  }

  /** The Kubernetes API of a lab on Kubernetes. */
  get kube(): KubeClient | undefined {
    return this.state.kube ? new KubeClient(this.state.kube.url) : undefined;
  }

  /**
   * Plays the orchestrator and the runtime: config through REST, then one CNI ADD. In a lab on
   * Kubernetes, plays the user and the kubelet instead: the Pod through the Kubernetes API (its
   * extra networks in its annotation), then one CNI ADD, which waits for the manager's config.
   */
  async addPod(
    name: string,
    hostName: string,
    networks: string[],
    /** The Pod's labels, in a lab on Kubernetes (what NetworkPolicies select). */
    { labels = {} }: { labels?: Record<string, string> } = {},
  ): Promise<LabPod> {
    if (this.state.pods[name]) throw new Error(`pod ${name} already exists`);
    const host = this.host(hostName);
    if (this.state.kube) return this.#addKubePod(name, host, networks, this.state.kube, labels);
    const config = await this.config.createPod(`default/${name}`, host.name, networks);
    const netns = `${this.topology.lab}-pod-${name}`;
    sh('ip', ['netns', 'add', netns]);
    const containerId = `lab-${name}`;
    const outcome = await this.cni('ADD', host, containerId, netns, name);
    if (outcome.exitCode !== 0) {
      shQuiet('ip', ['netns', 'del', netns]);
      await this.config.deletePod(config).catch(() => undefined);
      throw new CniAddFailed(`CNI ADD of pod ${name} failed: ${outcome.stdout}`, outcome.json?.code);
    }
    const pod: LabPod = { name, host: host.name, netns, containerId, networks, config, result: outcome.json ?? {} };
    this.state.pods[name] = pod;
    this.#save();
    return pod;
  }

  async #addKubePod(
    name: string,
    host: LabHost,
    networks: string[],
    kube: LabKube,
    labels: Record<string, string>,
  ): Promise<LabPod> {
    const [first, ...extra] = networks;
    if (first !== kube.podNetwork) {
      throw new Error(
        `in a lab on Kubernetes a pod's first network is the pod network ${kube.podNetwork}, not ${first}`,
      );
    }
    const client = new KubeClient(kube.url);
    for (const network of extra) await client.ensureAttachment('default', network);
    const created = await client.createPod('default', name, host.name, extra, labels);
    const netns = `${this.topology.lab}-pod-${name}`;
    sh('ip', ['netns', 'add', netns]);
    const containerId = `lab-${name}`;
    const outcome = await this.cni('ADD', host, containerId, netns, name, undefined, created.metadata.uid);
    if (outcome.exitCode !== 0) {
      shQuiet('ip', ['netns', 'del', netns]);
      await client.deletePod('default', name).catch(() => undefined);
      throw new CniAddFailed(`CNI ADD of pod ${name} failed: ${outcome.stdout}`, outcome.json?.code);
    }
    const pod: LabPod = {
      name,
      host: host.name,
      netns,
      containerId,
      networks,
      kubeUid: created.metadata.uid,
      result: outcome.json ?? {},
    };
    this.state.pods[name] = pod;
    this.#save();
    return pod;
  }

  cni(
    command: 'ADD' | 'DEL' | 'CHECK',
    host: LabHost,
    containerId: string,
    netns: string,
    podName: string,
    prevResult?: unknown,
    /** K8S_POD_UID, as the kubelet passes it. */
    podUid?: string,
    /** Fields of the network config to set besides the lab's (configWaitMs, say). */
    netconf: Record<string, unknown> = {},
  ): Promise<CniOutcome> {
    // weft-cni is installed on a host with its agent: an older agent's host runs that tree's plugin.
    const tree = this.treeOf(`agent-${host.name}`);
    return callPlugin(tree ? serviceMain('cni', tree) : weftCniPath, {
      command,
      containerId,
      netns: netnsPath(netns),
      ifname: 'eth0',
      args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: podName, ...(podUid ? { K8S_POD_UID: podUid } : {}) },
      runtimeNetns: netnsPath(host.netns),
      config: {
        cniVersion: '1.1.0',
        name: 'weft',
        type: 'weft-cni',
        agentSocket: join(this.dir, host.name, 'agent.sock'),
        deleteQueue: join(this.dir, host.name, 'delete-queue'),
        logFile: join(this.dir, 'logs', 'weft-cni.log'),
        ...(prevResult ? { prevResult } : {}),
        ...netconf,
      },
    });
  }

  async deletePod(name: string): Promise<void> {
    const pod = this.state.pods[name];
    if (!pod) throw new Error(`no pod ${name}`);
    const outcome = await this.cni(
      'DEL',
      this.host(pod.host),
      pod.containerId,
      pod.netns,
      name,
      pod.result,
      pod.kubeUid,
    );
    if (outcome.exitCode !== 0) throw new Error(`CNI DEL of pod ${name} failed: ${outcome.stdout}`);
    shQuiet('ip', ['netns', 'del', pod.netns]);
    if (pod.config) await this.config.deletePod(pod.config);
    else await this.kube?.deletePod('default', name);
    delete this.state.pods[name];
    this.#save();
  }

  /** Runs a command inside a pod. */
  exec(podName: string, command: string, args: string[]): string {
    const pod = this.state.pods[podName];
    if (!pod) throw new Error(`no pod ${podName}`);
    return inNs(pod.netns, command, args);
  }

  /** Runs a command in the outside namespace, beyond the gateway (a lab with --gateway). */
  execOutside(command: string, args: string[]): string {
    const gateway = this.topology.gateway;
    if (!gateway) throw new Error('this lab has no gateway: `npm run lab -- up --gateway`');
    return inNs(gateway.outsideNetns, command, args);
  }

  /** Runs a command in a host's namespace. */
  execHost(hostName: string, command: string, args: string[]): string {
    return inNs(this.host(hostName).netns, command, args);
  }

  /** The pod's address on a network, from its CNI result. */
  podAddress(podName: string, network: string): string {
    const pod = this.state.pods[podName];
    if (!pod) throw new Error(`no pod ${podName}`);
    const index = pod.networks.indexOf(network);
    const ips = (pod.result.ips ?? []) as { address: string }[];
    const address = ips[index]?.address;
    if (!address) throw new Error(`pod ${podName} has no address on ${network}`);
    return address.split('/')[0]!;
  }

  async status(): Promise<{
    hosts: { name: string; underlay: string; agent: string; ready: boolean }[];
    pods: LabPod[];
  }> {
    const hosts = [];
    for (const host of this.topology.hosts) {
      const agent = this.state.processes.find((item) => item.name === `agent-${host.name}`);
      hosts.push({
        name: host.name,
        underlay: host.underlayAddress,
        agent: agent && isAlive(agent.pid) ? `running (pid ${agent.pid})` : 'stopped',
        ready: await this.agentReady(host),
      });
    }
    return { hosts, pods: this.pods };
  }

  /** Stops everything and removes every namespace, link, pinned object and file the lab made. */
  async down({ keepLogs = false } = {}): Promise<void> {
    for (const pod of this.pods) shQuiet('ip', ['netns', 'del', pod.netns]);
    const agents = this.state.processes.filter((item) => item.name.startsWith('agent-'));
    const controller = this.state.processes.filter((item) => !item.name.startsWith('agent-'));
    for (const agent of agents) await stopProcess(agent);
    for (const host of this.topology.hosts) {
      if (!netnsExists(host.netns)) continue;
      const name = `agent-${host.name}`;
      const { command, args } = agentCommand(this.treeOf(name));
      try {
        inNs(host.netns, 'env', [
          '-i',
          ...envArgs(
            daemonEnv(
              optionsFor(
                'vrouter-agent',
                this.treeOf(name),
                agentEnv(host, this.topology, this.state.ports, join(this.dir, host.name), this.authDir),
              ).options,
            ),
          ),
          command,
          ...args,
          'cleanup',
        ]);
      } catch (error) {
        process.stderr.write(`lab: agent cleanup on ${host.name} failed: ${(error as Error).message}\n`);
      }
    }
    for (const process_ of controller.reverse()) await stopProcess(process_);
    if (this.topology.gateway) rmSync(`/var/run/frr/${this.topology.gateway.netns}`, { recursive: true, force: true });
    destroyTopology(this.topology.lab);
    if (!keepLogs) rmSync(this.dir, { recursive: true, force: true });
    else
      for (const entry of readdirSync(this.dir))
        if (entry !== 'logs') rmSync(join(this.dir, entry), { recursive: true, force: true });
  }
}

function envArgs(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}

function mountBpffs(): void {
  const mounts = readFileSync('/proc/mounts', 'utf8');
  if (!mounts.split('\n').some((line) => line.split(' ')[1] === '/sys/fs/bpf')) {
    sh('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
  }
}
