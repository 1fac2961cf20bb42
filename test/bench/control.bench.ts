// control benchmark: simulated agents (another process, the real Agent contract over gRPC, one
// connection each) against one control replica fed by an in-memory Config server (so that
// 150,000 objects load in a second; the feed and compile are control's own code).
//
// Topology: hosts in groups of HOSTS_PER_NETWORK; each group shares NETWORKS / groups networks;
// each host has an equal share of each of its group's networks' interfaces. So each route goes
// to HOSTS_PER_NETWORK agents, as pods of one tenant spread over some hosts.
//
//   1. cold convergence: control start → config listed and compiled; then agents connect →
//      every agent has its config, all its routes and EndOfRoutes;
//   2. memory per connected agent (control's heap after convergence minus before agents);
//   3. p50/p99 from one port-up to its route at every interested agent (port flapped one at a time);
//   4. fan-out: a storm of port-ups; messages/s and routes/s received by the agents, against a
//      raw gRPC Agent stream (no control logic) that writes the same number of messages with the
//      same number of routes of the same shape to the same agents, in the same run.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startControl } from '@weft/control';
import { MemoryConfigServer, SimulatedAgent } from '@weft/control/testing';
import { createLogger, startGrpcServer } from '@weft/kit';
import { freePort, waitFor } from '@weft/kit/testing';
import { loadAgentProto } from '@weft/proto';

const AGENTS = Number(process.env.BENCH_CONTROL_AGENTS ?? 1_000);
const NETWORKS = Number(process.env.BENCH_CONTROL_NETWORKS ?? 500);
const INTERFACES = Number(process.env.BENCH_CONTROL_INTERFACES ?? 50_000);
const HOSTS_PER_NETWORK = 10;
const PROBES = Number(process.env.BENCH_CONTROL_PROBES ?? 200);
const STORM_HOSTS = Number(process.env.BENCH_CONTROL_STORM_HOSTS ?? 100);
const CONFIG_CHANGES = 10;

const now = () => performance.timeOrigin + performance.now();

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

function uuidOf(kind: number, n: number): string {
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

function loadConfig(server: MemoryConfigServer, hosts: HostPlan[]): void {
  const project = ['default-domain', 'bench'];
  for (let network = 0; network < NETWORKS; network += 1) {
    server.put('virtual-network', {
      uuid: uuidOf(1, network),
      fq_name: [...project, `vn-${network}`],
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
      const vm = uuidOf(2, n);
      server.put('virtual-machine', { uuid: vm, fq_name: [`pod-${n}`], display_name: `bench/pod-${n}` });
      server.put('virtual-machine-interface', {
        uuid: port.uuid,
        fq_name: [...project, `pod-${n}-eth0`],
        virtual_network_refs: [{ uuid: uuidOf(1, port.network) }],
        virtual_machine_refs: [{ uuid: vm }],
        virtual_machine_interface_mac_addresses: { mac_address: [port.mac] },
        virtual_machine_interface_bindings: { key_value_pair: [{ key: 'host_id', value: host.host }] },
      });
      server.put('instance-ip', {
        uuid: uuidOf(4, n),
        fq_name: [uuidOf(4, n)],
        instance_ip_address: port.address,
        virtual_machine_interface_refs: [{ uuid: port.uuid }],
        virtual_network_refs: [{ uuid: uuidOf(1, port.network) }],
      });
      n += 1;
    }
  }
}

// ── the agents' process ─────────────────────────────────────────────────────────────────

type Command =
  | { cmd: 'connect'; control: string; hosts: HostPlan[]; routesPerHost: number }
  | { cmd: 'probe'; count: number }
  | { cmd: 'storm'; hosts: number }
  | { cmd: 'raw'; address: string; plan: Record<string, { messages: number; routes: number }> }
  | { cmd: 'await-interface'; host: string; uuid: string }
  | { cmd: 'close' };

async function agentsProcess(): Promise<void> {
  let hosts: HostPlan[] = [];
  let routesPerHost = 0;
  const agents = new Map<string, SimulatedAgent>();
  /** prefix → hosts that hold a route to it. */
  const holders = new Map<string, Set<string>>();
  const arrivals = new Map<string, number>();
  const counting = {
    on: false,
    messages: 0,
    routes: 0,
    perHost: new Map<string, { messages: number; routes: number }>(),
  };
  const hostsOfNetwork = new Map<number, string[]>();
  const send = (message: object) => process.send!(message);

  const makeAgent = (plan: HostPlan, control: string) =>
    new SimulatedAgent({
      host: plan.host,
      underlay: plan.underlay,
      controls: [control],
      onRoute: (_instance, prefix, route) => {
        let set = holders.get(prefix);
        if (!set) {
          set = new Set();
          holders.set(prefix, set);
        }
        if (route) {
          set.add(plan.host);
          arrivals.set(`${plan.host} ${prefix}`, now());
          if (counting.on) {
            counting.routes += 1;
            counting.perHost.get(plan.host)!.routes += 1;
          }
        } else set.delete(plan.host);
      },
    });

  const routeCount = (agent: SimulatedAgent) => {
    let total = 0;
    for (const table of agent.channels[0]!.routes.values()) total += table.size;
    return total;
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
      const cpu = process.cpuUsage(cpuBefore);
      send({ event: 'converged', started, at: now(), messages, reconnects, cpuMs: (cpu.user + cpu.system) / 1000 });
    } else if (command.cmd === 'probe') {
      const latencies: number[] = [];
      for (let i = 0; i < command.count; i += 1) {
        const host = hosts[(i * 7919) % hosts.length]!;
        const port = host.ports[(i * 31) % host.ports.length]!;
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
        latencies.push(Math.max(...interested.map((name) => arrivals.get(`${name} ${prefix}`)!)) - sent);
      }
      send({ event: 'probed', latencies });
    } else if (command.cmd === 'storm') {
      const stormHosts = hosts.slice(0, command.hosts);
      const prefixes = stormHosts.flatMap((host) => host.ports.map((port) => ({ port, host })));
      for (const { host, port } of prefixes) agents.get(host.host)!.portDown(port.uuid);
      await waitFor(() => prefixes.every(({ port }) => (holders.get(`${port.address}/32`)?.size ?? 0) === 0), {
        timeoutMs: 120_000,
        what: 'storm ports withdrawn',
      });
      counting.on = true;
      counting.messages = 0;
      counting.routes = 0;
      counting.perHost = new Map(hosts.map((host) => [host.host, { messages: 0, routes: 0 }]));
      const before = new Map([...agents].map(([name, agent]) => [name, agent.channels[0]!.messages]));
      const started = now();
      for (const { host, port } of prefixes) {
        agents.get(host.host)!.portUp({ uuid: port.uuid, mac: port.mac, addresses: [`${port.address}/24`] });
      }
      await waitFor(
        () =>
          prefixes.every(({ port }) => {
            const held = holders.get(`${port.address}/32`);
            return hostsOfNetwork.get(port.network)!.every((name) => held?.has(name));
          }),
        { timeoutMs: 120_000, intervalMs: 5, what: 'storm routes everywhere' },
      );
      // The last route's arrival, not the moment the poll noticed it.
      let last = started;
      for (const { port } of prefixes) {
        for (const name of hostsOfNetwork.get(port.network)!)
          last = Math.max(last, arrivals.get(`${name} ${port.address}/32`)!);
      }
      const ms = last - started;
      counting.on = false;
      for (const [name, agent] of agents) {
        const messages = agent.channels[0]!.messages - before.get(name)!;
        counting.perHost.get(name)!.messages = messages;
        counting.messages += messages;
      }
      send({
        event: 'stormed',
        ms,
        messages: counting.messages,
        routes: counting.routes,
        perHost: Object.fromEntries(counting.perHost),
      });
    } else if (command.cmd === 'raw') {
      for (const agent of agents.values()) agent.close();
      const raw = new Map<string, SimulatedAgent>();
      const expected = command.plan;
      let lastAt = 0;
      for (const host of hosts) {
        const agent = new SimulatedAgent({
          host: host.host,
          underlay: host.underlay,
          controls: [command.address],
          reconnect: false,
          onRoute: () => {
            lastAt = now();
          },
        });
        raw.set(host.host, agent.start());
      }
      // The raw server answers each hello with EndOfConfig: every stream is then open.
      await waitFor(() => [...raw.values()].every((agent) => agent.channels[0]!.endOfConfig), {
        timeoutMs: 120_000,
        what: 'raw streams open',
      });
      send({ event: 'raw-connected' });
      await waitFor(
        () => [...raw].every(([name, agent]) => agent.channels[0]!.messages >= 1 + (expected[name]?.messages ?? 0)),
        { timeoutMs: 120_000, intervalMs: 5, what: 'raw messages everywhere' },
      );
      const at = lastAt;
      let messages = 0;
      for (const agent of raw.values()) messages += agent.channels[0]!.messages;
      for (const agent of raw.values()) agent.close();
      send({ event: 'raw-done', at, messages });
    } else if (command.cmd === 'await-interface') {
      const agent = agents.get(command.host)!;
      await waitFor(() => agent.channels[0]!.interfaces.has(command.uuid), {
        intervalMs: 1,
        what: 'the new interface',
      });
      send({ event: 'interface', at: now() });
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

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function heapNow(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['agents'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  process.on('exit', () => child.kill());
  const inbox: { event: string; [key: string]: unknown }[] = [];
  child.on('message', (message: { event: string }) => inbox.push(message));
  const next = async (event: string, timeoutMs = 600_000) => {
    const found = await waitFor(() => inbox.find((message) => message.event === event), {
      timeoutMs,
      intervalMs: 10,
      what: event,
    });
    inbox.splice(inbox.indexOf(found), 1);
    return found as Record<string, unknown>;
  };
  await next('ready');

  const { hosts, routesPerHost } = plan();
  const config = new MemoryConfigServer();
  loadConfig(config, hosts);
  const configAddress = await config.listen();

  const heapBefore = heapNow();
  const started = now();
  const agentPort = await freePort();
  const control = await startControl({
    configApiGrpc: configAddress,
    agentPort,
    agentHoldTimeMs: 600_000,
    logLevel: 'warn',
  });
  await waitFor(
    async () => {
      const body = (await (await fetch(`${control.httpUrl}/routing-instances`)).json()) as {
        routing_instances: unknown[];
      };
      return body.routing_instances.length === NETWORKS;
    },
    { timeoutMs: 120_000, intervalMs: 20, what: 'config compiled' },
  );
  const compiled = now();
  const heapCompiled = heapNow();

  const controlCpu = process.cpuUsage();
  child.send({ cmd: 'connect', control: control.agentAddress, hosts, routesPerHost });
  const converged = await next('converged');
  const controlCpuUsed = process.cpuUsage(controlCpu);
  const controlCpuMs = (controlCpuUsed.user + controlCpuUsed.system) / 1000;
  const convergeMs = (converged.at as number) - (converged.started as number);
  const heapConverged = heapNow();
  const memoryPerAgent = (heapConverged - heapCompiled) / AGENTS;

  child.send({ cmd: 'probe', count: PROBES });
  const latencies = (await next('probed')).latencies as number[];

  // A config change at full scale: one new interface (virtual-machine, interface, instance-ip)
  // until its host has it; each change recompiles everything and diffs every agent.
  const configLatencies: number[] = [];
  for (let i = 0; i < CONFIG_CHANGES; i += 1) {
    const host = hosts[(i * 37) % hosts.length]!;
    const network = host.networks[0]!;
    const vmi = uuidOf(5, i);
    child.send({ cmd: 'await-interface', host: host.host, uuid: vmi });
    const sent = now();
    const vm = uuidOf(6, i);
    config.put('virtual-machine', { uuid: vm, fq_name: [`extra-${i}`] });
    config.put('virtual-machine-interface', {
      uuid: vmi,
      fq_name: ['default-domain', 'bench', `extra-${i}-eth0`],
      virtual_network_refs: [{ uuid: uuidOf(1, network) }],
      virtual_machine_refs: [{ uuid: vm }],
      virtual_machine_interface_bindings: { key_value_pair: [{ key: 'host_id', value: host.host }] },
    });
    config.put('instance-ip', {
      uuid: uuidOf(7, i),
      fq_name: [uuidOf(7, i)],
      instance_ip_address: `10.${1 + (network >> 8)}.${network & 255}.${200 + i}`,
      virtual_machine_interface_refs: [{ uuid: vmi }],
    });
    configLatencies.push(((await next('interface')).at as number) - sent);
  }

  child.send({ cmd: 'storm', hosts: STORM_HOSTS });
  const storm = await next('stormed');
  const stormMs = storm.ms as number;
  const perHost = storm.perHost as Record<string, { messages: number; routes: number }>;
  const metrics = await (await fetch(`${control.httpUrl}/metrics`)).text();
  await control.close();

  // Baseline: a bare Agent service writing the storm's messages, shaped like control's.
  const proto = loadAgentProto();
  let sessions = 0;
  const waiting: (() => void)[] = [];
  const rawStarted = { at: 0 };
  const rawPlan = perHost;
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
            const hostPlan = hosts.find((entry) => entry.host === host)!;
            sessions += 1;
            call.write({ seq: 1, end_of_config: {} });
            waiting.push(() => {
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
  child.send({ cmd: 'raw', address: `127.0.0.1:${rawServer.port}`, plan: rawPlan });
  await next('raw-connected');
  if (sessions !== AGENTS) throw new Error(`raw baseline: ${sessions} sessions of ${AGENTS}`);
  rawStarted.at = now();
  for (const start of waiting) start();
  const rawDone = await next('raw-done');
  const rawMs = (rawDone.at as number) - rawStarted.at;
  await rawServer.stop(1_000);
  child.send({ cmd: 'close' });
  config.close();

  const stormMessages = storm.messages as number;
  const stormRoutes = storm.routes as number;
  const controlRate = stormMessages / (stormMs / 1000);
  const rawRate = stormMessages / (rawMs / 1000);
  const routesRate = stormRoutes / (stormMs / 1000);
  const rawRoutesRate = stormRoutes / (rawMs / 1000);
  const sentMessages = [...metrics.matchAll(/weft_control_agent_messages_out_total\{body="[a-z_]+"\} (\d+)/g)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
  const fmt = (value: number, digits = 0) =>
    value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const listMs = compiled - started;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);

  console.log(
    `${AGENTS} simulated agents (one process, one gRPC connection each), ${INTERFACES} interfaces in ${NETWORKS} networks, each network on ${HOSTS_PER_NETWORK} hosts: ${routesPerHost} routes per agent, ${fmt(AGENTS * routesPerHost)} in all.\n`,
  );
  console.log('| measure | control | baseline | ratio |');
  console.log('| --- | ---: | ---: | ---: |');
  console.log(`| cold start: list ${fmt(config.revision)} objects and compile | ${fmt(listMs)} ms | — | — |`);
  console.log(`| cold convergence: agents connect → all config, routes, EndOfRoutes | ${fmt(convergeMs)} ms | — | — |`);
  console.log(
    `| cold convergence, total (target < 10 s) | ${fmt(listMs + convergeMs)} ms | 10,000 ms | ${fmt((listMs + convergeMs) / 10_000, 2)}× of target |`,
  );
  console.log(
    `| port-up → route at every interested agent, p50 (${PROBES} ports, ${HOSTS_PER_NETWORK} agents each) | ${fmt(p50, 1)} ms | — | — |`,
  );
  console.log(
    `| port-up → route at every interested agent, p99 (target < 100 ms) | ${fmt(p99, 1)} ms | 100 ms | ${fmt(p99 / 100, 2)}× of target |`,
  );
  console.log(
    `| config change → its host has the new interface, median of ${CONFIG_CHANGES} (whole-config recompile) | ${fmt(percentile(configLatencies, 50))} ms | — | — |`,
  );
  console.log(
    `| fan-out: ${fmt(STORM_HOSTS * (INTERFACES / AGENTS))} port-ups at once, messages/s at the agents | ${fmt(controlRate)} | ${fmt(rawRate)} (raw gRPC stream) | ${fmt(controlRate / rawRate, 2)} |`,
  );
  console.log(
    `| fan-out: routes/s at the agents (${fmt(stormRoutes)} routes in ${fmt(stormMessages)} messages) | ${fmt(routesRate)} | ${fmt(rawRoutesRate)} (raw gRPC stream) | ${fmt(routesRate / rawRoutesRate, 2)} |`,
  );
  console.log(
    `| control heap per connected agent (after convergence) | ${fmt(memoryPerAgent / 1024, 1)} KiB | — | — |`,
  );
  console.log(
    `\nCPU time during convergence: control (with the config server, idle then) ${fmt(controlCpuMs)} ms, the agents' process ${fmt(converged.cpuMs as number)} ms.`,
  );
  console.log(`Sessions that had to reconnect during convergence: ${converged.reconnects}.`);
  console.log(
    `Messages control sent in all: ${fmt(sentMessages)}; heap before config ${fmt(heapBefore / 2 ** 20)} MiB, compiled ${fmt(heapCompiled / 2 ** 20)} MiB, converged ${fmt(heapConverged / 2 ** 20)} MiB.`,
  );
  process.exit(0);
}

if (process.argv[2] === 'agents') await agentsProcess();
else await main();
