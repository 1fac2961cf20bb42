// For control's integration tests: a real nats-server, a real config-api (objects created over
// its REST API), control replicas, and simulated agents that speak the real Agent contract.
import { type NatsServerProcess, startNatsServer, tempDir, waitFor } from '@weft/kit/testing';
import { type ConfigObjectOf, HOST_BINDING_KEY, type ResourceTypeName } from '@weft/model';
import { type RunningControl, startControl } from '../index.js';
import { SimulatedAgent } from './simulated-agent.js';

/** A create or update body's object: config-api validates it, references may be by uuid alone. */
export type Fields = Record<string, unknown>;
type Network = ConfigObjectOf<'virtual-network'>;

export interface Lab {
  restUrl: string;
  configApiGrpc: string;
  natsUrl: string;
  controls: (RunningControl | undefined)[];
  agentAddresses: string[];
  create<T extends ResourceTypeName>(type: T, object: Fields): Promise<ConfigObjectOf<T>>;
  update<T extends ResourceTypeName>(type: T, uuid: string, fields: Fields): Promise<ConfigObjectOf<T>>;
  remove(type: ResourceTypeName, uuid: string): Promise<void>;
  network(name: string, cidr: string, extra?: Fields): Promise<Network>;
  policy(name: string, rules: Fields[]): Promise<ConfigObjectOf<'network-policy'>>;
  /** A pod interface on `network` bound to `host`, with an address; returns the vmi, address and MAC. */
  pod(
    name: string,
    network: Network,
    host: string,
  ): Promise<{ vmi: ConfigObjectOf<'virtual-machine-interface'>; address: string; mac: string; cidr: string }>;
  agent(host: string, underlay: string, replicas?: number[]): SimulatedAgent;
  stopControl(index: number): Promise<void>;
  /** Stops config-api and starts it again on the same ports and store, as after an upgrade. */
  restartConfigApi(): Promise<void>;
  startControl(index: number): Promise<void>;
  close(): Promise<void>;
}

export const PROJECT = ['default-domain', 'default-project'];

interface ConfigApiModule {
  startConfigApi(options: {
    stateDir: string;
    natsUrl?: string[];
    logLevel?: string;
    restPort?: number;
    grpcPort?: number;
  }): Promise<{ restUrl: string; grpcAddress: string; close(): Promise<void> }>;
}

// Loaded at run time, not compiled against: control's build must not wait on config-api's
// sources, only its tests need the built package.
const CONFIG_API_PACKAGE = '@weft/config-api';

/** The built config-api package, for tests that start it themselves. */
export async function loadConfigApi(): Promise<ConfigApiModule> {
  return (await import(CONFIG_API_PACKAGE)) as ConfigApiModule;
}

/** Why config-api cannot run here, or undefined when it can; tests skip with this reason. */
export async function configApiMissing(): Promise<string | undefined> {
  try {
    const module = (await import(CONFIG_API_PACKAGE)) as Partial<ConfigApiModule>;
    return typeof module.startConfigApi === 'function'
      ? undefined
      : 'startConfigApi is not exported by @weft/config-api';
  } catch (error) {
    return `@weft/config-api is not built (${(error as Error).message}); run npx tsc -b services/config-api`;
  }
}

export async function startLab({
  replicas = 1,
  holdTimeMs = 5_000,
  staleTimeMs,
}: {
  replicas?: number;
  holdTimeMs?: number;
  staleTimeMs?: number;
} = {}): Promise<Lab> {
  const nats: NatsServerProcess = await startNatsServer({ jetstream: false });
  const state = tempDir('weft-control-lab-');
  const { startConfigApi } = (await import(CONFIG_API_PACKAGE)) as ConfigApiModule;
  let api = await startConfigApi({ stateDir: state.path, natsUrl: [nats.url], logLevel: 'silent' });
  const apiPorts = {
    restPort: Number(new URL(api.restUrl).port),
    grpcPort: Number(api.grpcAddress.split(':').at(-1)),
  };
  const controls: (RunningControl | undefined)[] = [];
  const agentAddresses: string[] = [];
  const ports: number[] = [];
  const agents: SimulatedAgent[] = [];
  const launch = async (index: number) => {
    const control = await startControl({
      configApiGrpc: api.grpcAddress,
      natsUrl: [nats.url],
      agentPort: ports[index] ?? 0,
      agentHoldTimeMs: holdTimeMs,
      agentStaleTimeMs: staleTimeMs,
      logLevel: 'silent',
      name: `lab-${index}`,
    });
    controls[index] = control;
    agentAddresses[index] = control.agentAddress;
    ports[index] = Number(control.agentAddress.split(':').at(-1));
  };
  for (let index = 0; index < replicas; index += 1) await launch(index);

  async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${api.restUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  }

  const lab: Lab = {
    restUrl: api.restUrl,
    configApiGrpc: api.grpcAddress,
    natsUrl: nats.url,
    controls,
    agentAddresses,
    async create<T extends ResourceTypeName>(type: T, object: Fields) {
      return (await call('POST', `/${type}s`, { [type]: object }))[type] as ConfigObjectOf<T>;
    },
    async update<T extends ResourceTypeName>(type: T, uuid: string, fields: Fields) {
      return (await call('PUT', `/${type}/${uuid}`, { [type]: fields }))[type] as ConfigObjectOf<T>;
    },
    async remove(type, uuid) {
      await call('DELETE', `/${type}/${uuid}`);
    },
    network(name, cidr, extra = {}) {
      const [prefix, length] = cidr.split('/');
      return lab.create('virtual-network', {
        fq_name: [...PROJECT, name],
        network_ipam_refs: [
          {
            to: [...PROJECT, 'default-network-ipam'],
            attr: { ipam_subnets: [{ subnet: { ip_prefix: prefix, ip_prefix_len: Number(length) } }] },
          },
        ],
        ...extra,
      });
    },
    policy(name, rules) {
      return lab.create('network-policy', {
        fq_name: [...PROJECT, name],
        network_policy_entries: { policy_rule: rules },
      });
    },
    async pod(name, network, host) {
      const vm = await lab.create('virtual-machine', { fq_name: [name], server_type: 'container' });
      const vmi = await lab.create('virtual-machine-interface', {
        fq_name: [...PROJECT, `${name}-eth0`],
        virtual_network_refs: [{ uuid: network.uuid }],
        virtual_machine_refs: [{ uuid: vm.uuid }],
        virtual_machine_interface_bindings: { key_value_pair: [{ key: HOST_BINDING_KEY, value: host }] },
      });
      const ip = await lab.create('instance-ip', {
        virtual_network_refs: [{ uuid: network.uuid }],
        virtual_machine_interface_refs: [{ uuid: vmi.uuid }],
      });
      const length = network.network_ipam_refs?.[0]?.attr?.ipam_subnets?.[0]?.subnet?.ip_prefix_len;
      const mac = vmi.virtual_machine_interface_mac_addresses?.mac_address?.[0] ?? '02:00:00:00:00:01';
      const address = ip.instance_ip_address!;
      return { vmi, address, mac, cidr: `${address}/${length}` };
    },
    agent(host, underlay, replicaIndexes) {
      const indexes = replicaIndexes ?? controls.map((_, index) => index);
      const agent = new SimulatedAgent({ host, underlay, controls: indexes.map((index) => agentAddresses[index]!) });
      agents.push(agent);
      return agent.start();
    },
    async stopControl(index) {
      await controls[index]?.close();
      controls[index] = undefined;
    },
    startControl: launch,
    async restartConfigApi() {
      await api.close();
      api = await startConfigApi({ stateDir: state.path, natsUrl: [nats.url], logLevel: 'silent', ...apiPorts });
    },
    async close() {
      for (const agent of agents) agent.close();
      for (const control of controls) await control?.close();
      await api.close();
      await nats.dispose();
      state.remove();
    },
  };
  return lab;
}

/** Waits until every agent got EndOfRoutes from every replica it talks to. */
export function allSynced(agents: SimulatedAgent[], timeoutMs = 10_000): Promise<boolean> {
  return waitFor(() => agents.every((agent) => agent.synced), { timeoutMs, what: 'agents to get EndOfRoutes' });
}

/** GET a JSON document from an introspection URL. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
export async function getJson(url: string): Promise<any> {
  return (await fetch(url)).json();
}
