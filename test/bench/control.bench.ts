// control benchmark: simulated agents (another process, the real Agent contract over gRPC, one
// connection each) against one control replica fed by an in-memory Config server (so that
// 150,000 objects load in a second; the feed and compile are control's own code). It runs at
// 1,000 agents, then at 5,000 (each scale in a process of its own, so that heap figures are its
// own); BENCH_CONTROL_AGENTS=N runs one scale.
//
// Topology: hosts in groups of HOSTS_PER_NETWORK; each group shares NETWORKS / groups networks;
// each host has an equal share of each of its group's networks' interfaces. So each route goes
// to HOSTS_PER_NETWORK agents, as pods of one tenant spread over some hosts.
//
//   1. cold convergence: control start → config listed and compiled; then agents connect →
//      every agent has its config, all its routes and EndOfRoutes;
//   2. heap: of the compiled config per 1,000 objects, and per connected agent;
//   3. p50/p99 from one port-up to its route at every interested agent (port flapped one at a time);
//   4. p50/p99 from a config change (a new pod: virtual-machine, interface, instance-ip) to its
//      host having the interface with its address, while pods are created and deleted
//      elsewhere at CHURN_PER_SECOND;
//   5. fan-out: a storm of port-ups; messages/s and routes/s received by the agents, against a
//      raw gRPC Agent stream (no control logic) that writes the same number of messages with the
//      same number of routes of the same shape to the same agents, in the same run.
import { fork, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { startControl } from '@weft/control';
import { MemoryConfigServer, SimulatedAgent } from '@weft/control/testing';
import { createLogger, startGrpcServer } from '@weft/kit';
import { freePort, waitFor } from '@weft/kit/testing';
import { HOST_BINDING_KEY } from '@weft/model';
import { loadAgentProto } from '@weft/proto';

const SCALES = process.env.BENCH_CONTROL_AGENTS ? [Number(process.env.BENCH_CONTROL_AGENTS)] : [1_000, 5_000];
const AGENTS = Number(process.argv[3] ?? SCALES[0]);
const NETWORKS = Number(process.env.BENCH_CONTROL_NETWORKS ?? 500);
const INTERFACES = Number(process.env.BENCH_CONTROL_INTERFACES ?? 50_000);
const HOSTS_PER_NETWORK = 10;
const PROBES = Number(process.env.BENCH_CONTROL_PROBES ?? 200);
const STORM_HOSTS = Number(process.env.BENCH_CONTROL_STORM_HOSTS ?? 100);
const CONFIG_PROBES = Number(process.env.BENCH_CONTROL_CONFIG_PROBES ?? 200);
/** Processes the simulated agents run in: smaller event loops and heaps than one for all. */
const AGENT_PROCESSES = Number(process.env.BENCH_CONTROL_AGENT_PROCESSES ?? Math.max(2, Math.ceil(AGENTS / 1_000)));
/** Pods created or deleted per second while config changes are measured. */
const CHURN_PER_SECOND = Number(process.env.BENCH_CONTROL_CHURN ?? 100);
const PROJECT = ['default-domain', 'bench'];
/**
 * A directory: the cold phase (control's start to every agent converged) is CPU-profiled in the
 * benchmark's process (control and the config server) and in each agents' process, one
 * .cpuprofile each, for `node --cpu-prof`'s viewers.
 */
const PROFILE_DIR = process.env.BENCH_CONTROL_PROFILE;
/** uuid kinds: probe pods' interfaces are 00000006-…, so the agents time only those. */
const PROBE_INTERFACE = '00000006-';

const now = () => performance.timeOrigin + performance.now();

/** Starts profiling this process when BENCH_CONTROL_PROFILE asks; the stop writes `<name>.cpuprofile`. */
async function profile(name: string): Promise<() => Promise<void>> {
  if (!PROFILE_DIR) return async () => {};
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  return async () => {
    const { profile: taken } = (await post('Profiler.stop')) as { profile: object };
    writeFileSync(`${PROFILE_DIR}/${name}.cpuprofile`, JSON.stringify(taken));
    session.disconnect();
  };
}

interface PortPlan {
  uuid: string;
  mac: string;
  address: string;
  network: number;
}
interface HostPlan {
  host: string;
  underlay: string;
  ports: PortPlan[];
  networks: number[];
}

function uuidOf(kind: number | string, n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `0000000${kind}-0000-4000-8000-${hex}`;
}

/** The cluster: which host has which interfaces of which network. */
function plan(): { hosts: HostPlan[]; routesPerHost: number } {
  const groups = AGENTS / HOSTS_PER_NETWORK;
  const perNetworkPerHost = INTERFACES / NETWORKS / HOSTS_PER_NETWORK;
  const hosts: HostPlan[] = Array.from({ length: AGENTS }, (_, h) => ({
    host: `host-${h}`,
    underlay: `172.16.${h >> 8}.${h & 255}`,
    ports: [],
    networks: [],
  }));
  let next = 0;
  for (let network = 0; network < NETWORKS; network += 1) {
    const group = network % groups;
    for (let k = 0; k < HOSTS_PER_NETWORK; k += 1) {
      const host = hosts[group * HOSTS_PER_NETWORK + k]!;
      host.networks.push(network);
      for (let i = 0; i < perNetworkPerHost; i += 1) {
        const index = k * perNetworkPerHost + i;
        host.ports.push({
          uuid: uuidOf(3, next),
          mac: `02:00:${((next >> 16) & 255).toString(16).padStart(2, '0')}:${((next >> 8) & 255).toString(16).padStart(2, '0')}:${(next & 255).toString(16).padStart(2, '0')}:01`,
          address: `10.${1 + (network >> 8)}.${network & 255}.${2 + index}`,
          network,
        });
        next += 1;
      }
    }
  }
  return { hosts, routesPerHost: (NETWORKS / groups) * (INTERFACES / NETWORKS) };
}

/** A pod with one interface on a network, bound to a host: what an orchestrator writes. */
function putPod(
  server: MemoryConfigServer,
  pod: { vm: string; vmi: string; ip: string; name: string },
  host: string,
  network: number,
  address: string,
  mac?: string,
): void {
  server.put('virtual-machine', { uuid: pod.vm, fq_name: [pod.name], display_name: `bench/${pod.name}` });
  server.put('virtual-machine-interface', {
    uuid: pod.vmi,
    fq_name: [...PROJECT, `${pod.name}-eth0`],
    virtual_network_refs: [{ uuid: uuidOf(1, network) }],
    virtual_machine_refs: [{ uuid: pod.vm }],
    ...(mac ? { virtual_machine_interface_mac_addresses: { mac_address: [mac] } } : {}),
    virtual_machine_interface_bindings: { key_value_pair: [{ key: HOST_BINDING_KEY, value: host }] },
  });
  server.put('instance-ip', {
    uuid: pod.ip,
    fq_name: [pod.ip],
    instance_ip_address: address,
    virtual_machine_interface_refs: [{ uuid: pod.vmi }],
    virtual_network_refs: [{ uuid: uuidOf(1, network) }],
  });
}

function removePod(server: MemoryConfigServer, pod: { vm: string; vmi: string; ip: string }): void {
  server.remove(pod.ip);
  server.remove(pod.vmi);
  server.remove(pod.vm);
}

function loadConfig(server: MemoryConfigServer, hosts: HostPlan[]): void {
  for (let network = 0; network < NETWORKS; network += 1) {
    server.put('virtual-network', {
      uuid: uuidOf(1, network),
      fq_name: [...PROJECT, `vn-${network}`],
      virtual_network_network_id: network + 1,
      virtual_network_properties: { vxlan_network_identifier: 1000 + network },
      network_ipam_refs: [
        {
          to: ['default-domain', 'default-project', 'default-network-ipam'],
          uuid: uuidOf(9, 0),
          attr: {
            ipam_subnets: [
              {
                subnet: { ip_prefix: `10.${1 + (network >> 8)}.${network & 255}.0`, ip_prefix_len: 24 },
                default_gateway: `10.${1 + (network >> 8)}.${network & 255}.1`,
              },
            ],
          },
        },
      ],
    });
  }
  let n = 0;
  for (const host of hosts) {
    for (const port of host.ports) {
      const pod = { vm: uuidOf(2, n), vmi: port.uuid, ip: uuidOf(4, n), name: `pod-${n}` };
      putPod(server, pod, host.host, port.network, port.address, port.mac);
      n += 1;
    }
  }
}

// ── the agents' process ─────────────────────────────────────────────────────────────────

type Command =
  | { cmd: 'connect'; control: string; hosts: HostPlan[]; routesPerHost: number }
  | { cmd: 'probe'; host: string; port: number }
  | { cmd: 'storm-prepare'; hosts: string[] }
  | { cmd: 'storm-go' }
  | { cmd: 'raw'; address: string; plan: Record<string, { messages: number; routes: number }> }
  | { cmd: 'await-interface'; host: string; uuid: string }
  | { cmd: 'forget-interface'; host: string; uuid: string }
  | { cmd: 'close' };

async function agentsProcess(): Promise<void> {
  let hosts: HostPlan[] = [];
  let routesPerHost = 0;
  const agents = new Map<string, SimulatedAgent>();
  /** prefix → hosts that hold a route to it. */
  /**
   * prefix → the hosts that hold a route to it, with the time each got it. Keyed by prefix, then
   * host, with no key made per route: 500,000 routes arrive in the cold phase, and a string built
   * per route was more of this process's time than the agents' own work.
   */
  const holders = new Map<string, Map<string, number>>();
  const counting = {
    on: false,
    messages: 0,
    routes: 0,
    perHost: new Map<string, { messages: number; routes: number }>(),
  };
  const hostsOfNetwork = new Map<number, string[]>();
  const send = (message: object) => process.send!(message);
  /** When each probed interface arrived at its host with an address, and who waits for it. */
  const interfaceArrivals = new Map<string, number>();
  const interfaceWaiters = new Map<string, () => void>();

  const makeAgent = (plan: HostPlan, control: string) =>
    new SimulatedAgent({
      host: plan.host,
      underlay: plan.underlay,
      controls: [control],
      // Route messages read without decoding each next hop (a sample is checked after
      // convergence): decoding and keeping 500,000 routes cost these processes more than control.
      lightRoutes: true,
      onInterface: (iface) => {
        if (!iface.uuid.startsWith(PROBE_INTERFACE) || iface.addresses.length === 0) return;
        const key = `${plan.host} ${iface.uuid}`;
        if (interfaceArrivals.has(key)) return;
        interfaceArrivals.set(key, now());
        interfaceWaiters.get(key)?.();
      },
      onRoute: (_instance, prefix, route) => {
        let held = holders.get(prefix);
        if (!held) {
          held = new Map();
          holders.set(prefix, held);
        }
        if (route) {
          held.set(plan.host, now());
          if (counting.on) {
            counting.routes += 1;
            counting.perHost.get(plan.host)!.routes += 1;
          }
        } else held.delete(plan.host);
      },
    });

  let storm: { port: PortPlan; host: HostPlan }[] = [];
  const raw = new Map<string, SimulatedAgent>();
  let rawLastAt = 0;

  const routeCount = (agent: SimulatedAgent) => {
    let total = 0;
    for (const table of agent.channels[0]!.routes.values()) total += table.size;
    return total;
  };

  /**
   * Every 20th route of every agent, decoded in full, against the plan: its instance is its
   * port's network's, and its next hop is the port itself on the port's own host, else a tunnel
   * to that host with the network's VNI and the port's MAC. Returns how many were checked.
   */
  const checkSample = () => {
    const owners = new Map<string, { host: HostPlan; port: PortPlan }>();
    for (const host of hosts) for (const port of host.ports) owners.set(`${port.address}/32`, { host, port });
    let checked = 0;
    for (const [name, agent] of agents) {
      let index = 0;
      for (const [instance, table] of agent.channels[0]!.routes) {
        for (const [prefix, route] of table) {
          index += 1;
          if (index % 20 !== 0) continue;
          const { host, port } = owners.get(prefix)!;
          const expected =
            host.host === name
              ? { interface_uuid: port.uuid, kind: 'interface_uuid' }
              : {
                  tunnel: { underlay_address: host.underlay, vni: 1000 + port.network, mac: port.mac },
                  kind: 'tunnel',
                };
          const got = JSON.parse(JSON.stringify(route.next_hop)) as object;
          if (instance !== `${PROJECT.join(':')}:vn-${port.network}:vn-${port.network}`)
            throw new Error(`${name}: ${prefix} in ${instance}`);
          if (!isDeepStrictEqual(got, expected))
            throw new Error(`${name}: ${prefix} has next hop ${JSON.stringify(got)}, not ${JSON.stringify(expected)}`);
          checked += 1;
        }
      }
    }
    return checked;
  };

  process.on('message', async (command: Command) => {
    if (command.cmd === 'connect') {
      hosts = command.hosts;
      routesPerHost = command.routesPerHost;
      for (const host of hosts) {
        for (const network of host.networks) {
          if (!hostsOfNetwork.has(network)) hostsOfNetwork.set(network, []);
          hostsOfNetwork.get(network)!.push(host.host);
        }
      }
      const stopProfile = await profile(`agents-${process.pid}`);
      const loopBefore = performance.eventLoopUtilization();
      const started = now();
      const cpuBefore = process.cpuUsage();
      for (const host of hosts) {
        const agent = makeAgent(host, command.control);
        agents.set(host.host, agent);
        for (const port of host.ports)
          agent.ports.set(port.uuid, { uuid: port.uuid, mac: port.mac, addresses: [`${port.address}/24`] });
        agent.start();
      }
      await waitFor(() => [...agents.values()].every((agent) => agent.synced && routeCount(agent) === routesPerHost), {
        timeoutMs: 600_000,
        intervalMs: 50,
        what: 'every agent converged',
      });
      let messages = 0;
      let reconnects = 0;
      for (const agent of agents.values()) {
        messages += agent.channels[0]!.messages;
        reconnects += agent.channels[0]!.sessions - 1;
      }
      const at = now();
      const cpu = process.cpuUsage(cpuBefore);
      const loopBusy = performance.eventLoopUtilization(loopBefore).utilization;
      await stopProfile();
      const sampled = checkSample();
      send({
        event: 'converged',
        started,
        at,
        messages,
        reconnects,
        cpuMs: (cpu.user + cpu.system) / 1000,
        loopBusy,
        sampled,
      });
    } else if (command.cmd === 'probe') {
      // One port down, then up: the time from its PortStatus to its route at every agent of
      // its network (all of them in this process: a network's hosts are one group).
      const host = hosts.find((entry) => entry.host === command.host)!;
      const port = host.ports[command.port % host.ports.length]!;
      const prefix = `${port.address}/32`;
      const interested = hostsOfNetwork.get(port.network)!;
      const agent = agents.get(host.host)!;
      agent.portDown(port.uuid);
      await waitFor(() => (holders.get(prefix)?.size ?? 0) === 0, { intervalMs: 1, what: 'withdrawn everywhere' });
      const sent = now();
      agent.portUp({ uuid: port.uuid, mac: port.mac, addresses: [`${port.address}/24`] });
      await waitFor(() => interested.every((name) => holders.get(prefix)?.has(name)), {
        intervalMs: 1,
        what: 'route everywhere',
      });
      send({
        event: 'probed',
        latency: Math.max(...interested.map((name) => holders.get(prefix)!.get(name)!)) - sent,
      });
    } else if (command.cmd === 'storm-prepare') {
      const named = new Set(command.hosts);
      storm = hosts
        .filter((host) => named.has(host.host))
        .flatMap((host) => host.ports.map((port) => ({ port, host })));
      for (const { host, port } of storm) agents.get(host.host)!.portDown(port.uuid);
      await waitFor(() => storm.every(({ port }) => (holders.get(`${port.address}/32`)?.size ?? 0) === 0), {
        timeoutMs: 300_000,
        what: 'storm ports withdrawn',
      });
      send({ event: 'storm-ready' });
    } else if (command.cmd === 'storm-go') {
      counting.on = true;
      counting.messages = 0;
      counting.routes = 0;
      counting.perHost = new Map(hosts.map((host) => [host.host, { messages: 0, routes: 0 }]));
      const before = new Map([...agents].map(([name, agent]) => [name, agent.channels[0]!.messages]));
      const started = now();
      for (const { host, port } of storm) {
        agents.get(host.host)!.portUp({ uuid: port.uuid, mac: port.mac, addresses: [`${port.address}/24`] });
      }
      await waitFor(
        () =>
          storm.every(({ port }) => {
            const held = holders.get(`${port.address}/32`);
            return hostsOfNetwork.get(port.network)!.every((name) => held?.has(name));
          }),
        { timeoutMs: 300_000, intervalMs: 5, what: 'storm routes everywhere' },
      );
      // The last route's arrival, not the moment the poll noticed it.
      let last = started;
      for (const { port } of storm) {
        for (const name of hostsOfNetwork.get(port.network)!)
          last = Math.max(last, holders.get(`${port.address}/32`)!.get(name)!);
      }
      counting.on = false;
      for (const [name, agent] of agents) {
        const messages = agent.channels[0]!.messages - before.get(name)!;
        counting.perHost.get(name)!.messages = messages;
        counting.messages += messages;
      }
      send({
        event: 'stormed',
        started,
        last,
        messages: counting.messages,
        routes: counting.routes,
        perHost: Object.fromEntries(counting.perHost),
      });
    } else if (command.cmd === 'raw') {
      for (const agent of agents.values()) agent.close();
      const expected = command.plan;
      for (const host of hosts) {
        const agent = new SimulatedAgent({
          host: host.host,
          underlay: host.underlay,
          controls: [command.address],
          lightRoutes: true,
          onRoute: () => {
            rawLastAt = now();
          },
        });
        raw.set(host.host, agent.start());
      }
      // The raw server answers each hello with EndOfConfig: every stream is then open.
      await waitFor(() => [...raw.values()].every((agent) => agent.channels[0]!.endOfConfig), {
        timeoutMs: 300_000,
        what: 'raw streams open',
      });
      send({ event: 'raw-connected' });
      await waitFor(
        () => [...raw].every(([name, agent]) => agent.channels[0]!.messages >= 1 + (expected[name]?.messages ?? 0)),
        { timeoutMs: 300_000, intervalMs: 5, what: 'raw messages everywhere' },
      );
      let messages = 0;
      for (const agent of raw.values()) messages += agent.channels[0]!.messages;
      for (const agent of raw.values()) agent.close();
      send({ event: 'raw-done', at: rawLastAt, messages });
    } else if (command.cmd === 'await-interface') {
      const key = `${command.host} ${command.uuid}`;
      const reply = () => {
        interfaceWaiters.delete(key);
        send({ event: 'interface', uuid: command.uuid, at: interfaceArrivals.get(key) });
      };
      if (interfaceArrivals.has(key)) reply();
      else interfaceWaiters.set(key, reply);
    } else if (command.cmd === 'forget-interface') {
      interfaceArrivals.delete(`${command.host} ${command.uuid}`);
    } else if (command.cmd === 'close') {
      for (const agent of agents.values()) agent.close();
      process.exit(0);
    }
  });
  // Never outlive the benchmark that started this process.
  process.on('disconnect', () => process.exit(0));
  send({ event: 'ready' });
}

// ── the benchmark process (control and the config server) ───────────────────────────────

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function heapNow(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/**
 * Pods created and deleted on random hosts at `perSecond` until stopped: the load under which
 * config changes are measured. Returns how many were applied.
 */
function churn(config: MemoryConfigServer, hosts: HostPlan[], perSecond: number) {
  const live: { vm: string; vmi: string; ip: string; network: number; octet: number }[] = [];
  const free = new Map<number, number[]>();
  let n = 0;
  let applied = 0;
  let random = 12345;
  const next = () => {
    random = (random * 1103515245 + 12345) & 0x7fffffff;
    return random;
  };
  const started = now();
  const tick = () => {
    // Catch up with the clock, so that a late timer does not lower the rate.
    const due = Math.floor(((now() - started) / 1000) * perSecond);
    while (applied < due) {
      if (live.length >= 200 || (live.length > 0 && next() % 2 === 0)) {
        const pod = live.splice(next() % live.length, 1)[0]!;
        removePod(config, pod);
        free.get(pod.network)!.push(pod.octet);
      } else {
        const host = hosts[next() % hosts.length]!;
        const network = host.networks[next() % host.networks.length]!;
        if (!free.has(network))
          free.set(
            network,
            Array.from({ length: 20 }, (_, i) => 200 + i),
          );
        const octet = free.get(network)!.pop();
        if (octet === undefined) continue;
        const pod = { vm: uuidOf('a', n), vmi: uuidOf('b', n), ip: uuidOf('c', n), name: `churn-${n}`, network, octet };
        n += 1;
        putPod(config, pod, host.host, network, `10.${1 + (network >> 8)}.${network & 255}.${octet}`);
        live.push(pod);
      }
      applied += 1;
    }
  };
  const timer = setInterval(tick, 5);
  return {
    stop(): { applied: number; seconds: number } {
      clearInterval(timer);
      for (const pod of live.splice(0)) removePod(config, pod);
      return { applied, seconds: (now() - started) / 1000 };
    },
  };
}

interface ScaleResult {
  agents: number;
  routesPerHost: number;
  objects: number;
  listMs: number;
  convergeMs: number;
  heapBefore: number;
  heapCompiled: number;
  heapConverged: number;
  routeLatencies: number[];
  configLatencies: number[];
  churn: { applied: number; seconds: number };
  storm: { ms: number; rawMs: number; messages: number; routes: number };
  controlCpuMs: number;
  agentsCpuMs: number;
  /** Share of the convergence the event loop was busy: control's, and each agents' process's. */
  controlLoopBusy: number;
  agentsLoopBusy: number[];
  reconnects: number;
  /** Routes decoded in full after convergence and checked against the plan. */
  sampled: number;
  /** Messages the agents received from control during the cold convergence. */
  convergeMessages: number;
  sentMessages: number;
}

type Reply = Record<string, unknown> & { event: string };

/**
 * The agents, in AGENT_PROCESSES processes: each takes whole groups of hosts, so that every
 * agent a route goes to is in the process of the port it comes from.
 */
class AgentProcesses {
  readonly #children: ReturnType<typeof fork>[] = [];
  readonly #inboxes: Reply[][] = [];

  constructor(count: number) {
    for (let index = 0; index < count; index += 1) {
      const child = fork(fileURLToPath(import.meta.url), ['agents'], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        // A young generation larger than the default 16 MiB: these processes keep every session's
        // state, and scavenges of it were a sixth of their time (the rig's, not control's).
        execArgv: ['--max-old-space-size=8192', '--max-semi-space-size=64'],
      });
      const inbox: Reply[] = [];
      child.on('message', (message: Reply) => inbox.push(message));
      this.#children.push(child);
      this.#inboxes.push(inbox);
    }
    process.on('exit', () => {
      for (const child of this.#children) child.kill();
    });
  }

  get count(): number {
    return this.#children.length;
  }

  /** The process that runs host number `index`. */
  of(index: number): number {
    return Math.floor(index / HOSTS_PER_NETWORK) % this.#children.length;
  }

  send(process: number, command: Command): void {
    this.#children[process]!.send(command);
  }

  async next(process: number, event: string, timeoutMs = 900_000): Promise<Reply> {
    const inbox = this.#inboxes[process]!;
    const found = await waitFor(() => inbox.find((message) => message.event === event), {
      timeoutMs,
      intervalMs: 1,
      what: event,
    });
    inbox.splice(inbox.indexOf(found), 1);
    return found;
  }

  /** Sends each process its command and waits for every one's reply. */
  all(command: (process: number) => Command | undefined, event: string): Promise<Reply[]> {
    const asked: number[] = [];
    for (let index = 0; index < this.count; index += 1) {
      const message = command(index);
      if (!message) continue;
      this.send(index, message);
      asked.push(index);
    }
    return Promise.all(asked.map((index) => this.next(index, event)));
  }
}

/** One scale: control and the config server here, the agents in child processes. */
async function runScale(): Promise<ScaleResult> {
  const agentProcesses = new AgentProcesses(AGENT_PROCESSES);
  for (let index = 0; index < agentProcesses.count; index += 1) await agentProcesses.next(index, 'ready');

  const { hosts, routesPerHost } = plan();
  const hostsOf = (process: number) => hosts.filter((_, index) => agentProcesses.of(index) === process);
  const processOf = new Map(hosts.map((host, index) => [host.host, agentProcesses.of(index)]));
  const config = new MemoryConfigServer();
  loadConfig(config, hosts);
  const objects = config.revision;
  const configAddress = await config.listen();

  const heapBefore = heapNow();
  const stopProfile = await profile(`control-${AGENTS}`);
  const started = now();
  const agentPort = await freePort();
  const control = await startControl({
    configApiGrpc: configAddress,
    agentPort,
    agentHoldTimeMs: 900_000,
    logLevel: 'warn',
  });
  await waitFor(
    async () => {
      const body = (await (await fetch(`${control.httpUrl}/routing-instances`)).json()) as {
        routing_instances: unknown[];
      };
      return body.routing_instances.length === NETWORKS;
    },
    { timeoutMs: 300_000, intervalMs: 20, what: 'config compiled' },
  );
  const compiled = now();
  const heapCompiled = heapNow();

  const controlCpu = process.cpuUsage();
  const controlLoopBefore = performance.eventLoopUtilization();
  const converged = await agentProcesses.all(
    (index) => ({ cmd: 'connect', control: control.agentAddress, hosts: hostsOf(index), routesPerHost }),
    'converged',
  );
  const controlCpuUsed = process.cpuUsage(controlCpu);
  const controlLoopBusy = performance.eventLoopUtilization(controlLoopBefore).utilization;
  await stopProfile();
  const heapConverged = heapNow();

  const routeLatencies: number[] = [];
  for (let i = 0; i < PROBES; i += 1) {
    const host = hosts[(i * 7919) % hosts.length]!;
    const owner = processOf.get(host.host)!;
    agentProcesses.send(owner, { cmd: 'probe', host: host.host, port: i * 31 });
    routeLatencies.push((await agentProcesses.next(owner, 'probed')).latency as number);
  }

  // Config changes under load: a new pod on a random host until that host has its interface
  // with its address, while other pods come and go at CHURN_PER_SECOND.
  const load = churn(config, hosts, CHURN_PER_SECOND);
  const configLatencies: number[] = [];
  for (let i = 0; i < CONFIG_PROBES; i += 1) {
    const host = hosts[(i * 7919 + 13) % hosts.length]!;
    const network = host.networks[i % host.networks.length]!;
    const pod = { vm: uuidOf(5, i), vmi: uuidOf(6, i), ip: uuidOf(7, i), name: `probe-${i}` };
    const owner = processOf.get(host.host)!;
    agentProcesses.send(owner, { cmd: 'await-interface', host: host.host, uuid: pod.vmi });
    const sent = now();
    putPod(config, pod, host.host, network, `10.${1 + (network >> 8)}.${network & 255}.${250 - (i % 5)}`);
    configLatencies.push(((await agentProcesses.next(owner, 'interface')).at as number) - sent);
    removePod(config, pod);
    agentProcesses.send(owner, { cmd: 'forget-interface', host: host.host, uuid: pod.vmi });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const churned = load.stop();

  const stormHosts = hosts.slice(0, Math.min(STORM_HOSTS, AGENTS)).map((host) => host.host);
  await agentProcesses.all(() => ({ cmd: 'storm-prepare', hosts: stormHosts }), 'storm-ready');
  const stormed = await agentProcesses.all(() => ({ cmd: 'storm-go' }), 'stormed');
  const storm = {
    ms:
      Math.max(...stormed.map((reply) => reply.last as number)) -
      Math.min(...stormed.map((reply) => reply.started as number)),
    messages: sum(stormed.map((reply) => reply.messages as number)),
    routes: sum(stormed.map((reply) => reply.routes as number)),
  };
  const perHost = Object.assign({}, ...stormed.map((reply) => reply.perHost)) as Record<
    string,
    { messages: number; routes: number }
  >;
  const metrics = await (await fetch(`${control.httpUrl}/metrics`)).text();
  await control.close();
  const rawMs = await rawBaseline(agentProcesses, hosts, perHost);
  for (let index = 0; index < agentProcesses.count; index += 1) agentProcesses.send(index, { cmd: 'close' });
  config.close();

  return {
    agents: AGENTS,
    routesPerHost,
    objects,
    listMs: compiled - started,
    convergeMs:
      Math.max(...converged.map((reply) => reply.at as number)) -
      Math.min(...converged.map((reply) => reply.started as number)),
    heapBefore,
    heapCompiled,
    heapConverged,
    routeLatencies,
    configLatencies,
    churn: churned,
    storm: { ...storm, rawMs },
    controlCpuMs: (controlCpuUsed.user + controlCpuUsed.system) / 1000,
    agentsCpuMs: sum(converged.map((reply) => reply.cpuMs as number)),
    controlLoopBusy,
    agentsLoopBusy: converged.map((reply) => reply.loopBusy as number),
    reconnects: sum(converged.map((reply) => reply.reconnects as number)),
    sampled: sum(converged.map((reply) => reply.sampled as number)),
    convergeMessages: sum(converged.map((reply) => reply.messages as number)),
    sentMessages: [...metrics.matchAll(/weft_control_agent_messages_out_total\{body="[a-z_]+"\} (\d+)/g)].reduce(
      (sum, match) => sum + Number(match[1]),
      0,
    ),
  };
}

/** A bare Agent service writing the storm's messages, shaped like control's; returns its time. */
async function rawBaseline(
  agentProcesses: AgentProcesses,
  hosts: HostPlan[],
  rawPlan: Record<string, { messages: number; routes: number }>,
): Promise<number> {
  const proto = loadAgentProto();
  const byName = new Map(hosts.map((host) => [host.host, host]));
  // One writer per host: a host whose first connection failed (5,000 connecting at once can
  // overflow the listen backlog) connects again, and its newest session is the one written to.
  const waiting = new Map<string, () => void>();
  const rawServer = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ service: 'bench', level: 'silent' }),
    register: (server) =>
      server.addService(proto.weft.control.v1.Agent.service, {
        // biome-ignore lint/suspicious/noExplicitAny: the raw baseline handles the stream by hand
        Session(call: any) {
          call.once('data', (hello: { hello: { host_name: string } }) => {
            const host = hello.hello.host_name;
            const want = rawPlan[host] ?? { messages: 0, routes: 0 };
            const hostPlan = byName.get(host)!;
            call.write({ seq: 1, end_of_config: {} });
            waiting.set(host, () => {
              let seq = 1;
              let routesLeft = want.routes;
              const write = () => {
                while (seq < want.messages + 1) {
                  const count = Math.ceil(routesLeft / (want.messages + 1 - seq));
                  routesLeft -= count;
                  seq += 1;
                  const add = Array.from({ length: count }, (_, i) => {
                    const port = hostPlan.ports[i % hostPlan.ports.length]!;
                    return {
                      prefix: `${port.address}/32`,
                      next_hop: {
                        tunnel: { underlay_address: hostPlan.underlay, vni: 1000 + port.network, mac: port.mac },
                      },
                    };
                  });
                  const more = call.write({
                    seq,
                    routes: {
                      routing_instance: `default-domain:bench:vn-${hostPlan.networks[0]}:vn-${hostPlan.networks[0]}`,
                      add,
                      withdraw: [],
                    },
                  });
                  if (!more) {
                    call.once('drain', write);
                    return;
                  }
                }
              };
              write();
            });
          });
          call.on('data', () => {});
          call.on('error', () => {});
        },
      }),
  });
  const address = `127.0.0.1:${rawServer.port}`;
  await agentProcesses.all(() => ({ cmd: 'raw', address, plan: rawPlan }), 'raw-connected');
  if (waiting.size !== AGENTS) throw new Error(`raw baseline: ${waiting.size} sessions of ${AGENTS}`);
  const started = now();
  for (const start of waiting.values()) start();
  const done = await Promise.all(
    Array.from({ length: agentProcesses.count }, (_, index) => agentProcesses.next(index, 'raw-done')),
  );
  await rawServer.stop(1_000);
  return Math.max(...done.map((reply) => reply.at as number)) - started;
}

const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function report(result: ScaleResult): void {
  const { agents, routesPerHost, storm } = result;
  const mib = (bytes: number) => fmt(bytes / 2 ** 20);
  const compiledKiB = (result.heapCompiled - result.heapBefore) / 1024 / (result.objects / 1000);
  const perAgentKiB = (result.heapConverged - result.heapCompiled) / 1024 / agents;
  const totalMs = result.listMs + result.convergeMs;
  const routeP50 = percentile(result.routeLatencies, 50);
  const routeP99 = percentile(result.routeLatencies, 99);
  const configP50 = percentile(result.configLatencies, 50);
  const configP99 = percentile(result.configLatencies, 99);
  const churnRate = result.churn.applied / result.churn.seconds;
  const rate = (count: number, ms: number) => count / (ms / 1000);
  const row = (measure: string, value: string, baseline = '—', ratio = '—') =>
    console.log(`| ${measure} | ${value} | ${baseline} | ${ratio} |`);

  console.log(
    `\n### ${fmt(agents)} agents\n\n${fmt(agents)} simulated agents (in ${AGENT_PROCESSES} processes, one gRPC connection each), ${fmt(INTERFACES)} interfaces in ${NETWORKS} networks, each network on ${HOSTS_PER_NETWORK} hosts: ${routesPerHost} routes per agent, ${fmt(agents * routesPerHost)} in all.\n`,
  );
  console.log('| measure | control | baseline | ratio |');
  console.log('| --- | ---: | ---: | ---: |');
  row(`cold start: list ${fmt(result.objects)} objects and compile`, `${fmt(result.listMs)} ms`);
  row('cold convergence: agents connect → all config, routes, EndOfRoutes', `${fmt(result.convergeMs)} ms`);
  row(
    'cold convergence, total (target < 3 s)',
    `${fmt(totalMs)} ms`,
    '3,000 ms (target)',
    `${fmt(totalMs / 3_000, 2)}×`,
  );
  row(
    `config change → its host has the interface with its address, p50 (${result.configLatencies.length} new pods, under ${fmt(churnRate)} pod changes/s)`,
    `${fmt(configP50, 1)} ms`,
  );
  row(
    'config change → its host has the interface with its address, p99 (target < 20 ms)',
    `${fmt(configP99, 1)} ms`,
    '20 ms (target)',
    `${fmt(configP99 / 20, 2)}×`,
  );
  row(
    `port-up → route at every interested agent, p50 (${result.routeLatencies.length} ports, ${HOSTS_PER_NETWORK} agents each)`,
    `${fmt(routeP50, 1)} ms`,
  );
  row(
    'port-up → route at every interested agent, p99 (target < 100 ms)',
    `${fmt(routeP99, 1)} ms`,
    '100 ms (target)',
    `${fmt(routeP99 / 100, 2)}×`,
  );
  row(
    `fan-out: ${fmt(Math.min(STORM_HOSTS, agents) * (INTERFACES / agents))} port-ups at once, messages/s at the agents`,
    fmt(rate(storm.messages, storm.ms)),
    `${fmt(rate(storm.messages, storm.rawMs))} (raw gRPC stream)`,
    fmt(storm.rawMs / storm.ms, 2),
  );
  row(
    `fan-out: routes/s at the agents (${fmt(storm.routes)} routes in ${fmt(storm.messages)} messages)`,
    fmt(rate(storm.routes, storm.ms)),
    `${fmt(rate(storm.routes, storm.rawMs))} (raw gRPC stream)`,
    fmt(storm.rawMs / storm.ms, 2),
  );
  row(
    'heap of the compiled config per 1,000 objects (store and compiled state)',
    `${fmt(compiledKiB)} KiB`,
    `${fmt(TODAY_KIB_PER_1000)} KiB (before issue 17)`,
    `${fmt(compiledKiB / TODAY_KIB_PER_1000, 2)}×`,
  );
  row(
    'heap per connected agent, after convergence (goal ≤ 64 KiB)',
    `${fmt(perAgentKiB, 1)} KiB`,
    '64 KiB (goal)',
    `${fmt(perAgentKiB / 64, 2)}×`,
  );
  console.log(
    `\nCPU time during convergence: control (with the config server, idle then) ${fmt(result.controlCpuMs)} ms, the agents' process ${fmt(result.agentsCpuMs)} ms.`,
  );
  const percent = (share: number) => `${fmt(share * 100)} %`;
  console.log(
    `Event loop busy during convergence (the rest it waited): control's process ${percent(result.controlLoopBusy)}, the agents' processes ${result.agentsLoopBusy.map(percent).join(', ')}.`,
  );
  console.log(
    `Messages the agents received during convergence: ${fmt(result.convergeMessages)} (${fmt(result.convergeMessages / agents, 1)} per agent). Routes decoded in full after convergence and found as planned (every 20th of every agent): ${fmt(result.sampled)}.`,
  );
  console.log(
    `Sessions that had to reconnect during convergence: ${result.reconnects}. Pods created or deleted during the config probes: ${fmt(result.churn.applied)} in ${fmt(result.churn.seconds, 1)} s (three objects each).`,
  );
  console.log(
    `Messages control sent in all: ${fmt(result.sentMessages)}; heap before config ${mib(result.heapBefore)} MiB, compiled ${mib(result.heapCompiled)} MiB, converged ${mib(result.heapConverged)} MiB.`,
  );
}

/**
 * Heap of the compiled config per 1,000 objects before issue 17 (whole-config recompile, untyped
 * objects and their JSON text kept): 296 MiB over 150,530 objects, measured by this benchmark's
 * earlier version on main at 8d3c3f3, with the same memory server, on the same machine and day.
 */
const TODAY_KIB_PER_1000 = (296 * 1024) / 150.53;

async function main(): Promise<void> {
  const load = () =>
    `load average ${loadavg()
      .map((value) => value.toFixed(1))
      .join(', ')} on ${availableParallelism()} cores`;
  console.log(`Machine: ${load()} at the start.`);
  for (const agents of SCALES) {
    // Each scale in a process of its own: its heap figures are its own.
    const result = spawnSync(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), 'scale', String(agents)],
      {
        stdio: 'inherit',
      },
    );
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
  console.log(`\nMachine: ${load()} at the end.`);
}

if (process.argv[2] === 'agents') await agentsProcess();
else if (process.argv[2] === 'scale') {
  report(await runScale());
  process.exit(0);
} else await main();
