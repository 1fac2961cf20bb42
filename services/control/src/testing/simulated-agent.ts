// A simulated vrouter-agent that speaks the real weft.control.v1.Agent contract over gRPC, for
// tests and benchmarks: it says hello, reports ports, acknowledges every message, and keeps
// what control sent the way a real agent must: state survives a lost session, and a new
// session marks everything, then sweeps at EndOfConfig (config) and EndOfRoutes (routes) what
// was not sent again. It never sends a port it has before hello, and always reports all its
// ports right after hello, before acknowledging EndOfConfig, as the contract asks.
import { readFileSync } from 'node:fs';
import {
  type ClientDuplexStream,
  credentials,
  makeClientConstructor,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadAgentProto } from '@weft/proto';
import type { AccessControlList } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { AgentMessage } from '@weft/proto/gen/weft/control/v1/AgentMessage.js';
import type { ControlMessage__Output } from '@weft/proto/gen/weft/control/v1/ControlMessage.js';
import type { Interface, Interface__Output } from '@weft/proto/gen/weft/control/v1/Interface.js';
import type { Route__Output } from '@weft/proto/gen/weft/control/v1/Route.js';
import type { RoutingInstance } from '@weft/proto/gen/weft/control/v1/RoutingInstance.js';
import { lightControlMessages } from './light-routes.js';

export interface SimulatedAgentOptions {
  host: string;
  underlay: string;
  /** Control replicas to keep a session with, "host:port". */
  controls: string[];
  /** Reconnect after a lost session (as a real agent does); on by default. */
  reconnect?: boolean;
  /** Called for every route add or withdraw applied, with the time it arrived. */
  onRoute?: (routingInstance: string, prefix: string, route: Route__Output | undefined) => void;
  /** Called for every interface control sends, as it arrives. */
  onInterface?: (iface: Interface__Output) => void;
  /** Mutual TLS to control, as a real agent's WEFT_TLS_* files; plaintext when not given. */
  tls?: { caFile: string; certFile: string; keyFile: string };
  /**
   * Read route messages without decoding each route's next hop until it is read
   * (light-routes.ts): for benchmarks, whose agents would otherwise cost more than control.
   */
  lightRoutes?: boolean;
}

export interface PortReport {
  uuid: string;
  mac: string;
  addresses: string[];
}

/** What one control replica has told this agent. */
export class ChannelState {
  readonly routingInstances = new Map<string, RoutingInstance>();
  readonly interfaces = new Map<string, Interface>();
  readonly acls = new Map<string, AccessControlList>();
  readonly routes = new Map<string, Map<string, Route__Output>>();
  connected = false;
  endOfConfig = false;
  endOfRoutes = false;
  sessions = 0;
  messages = 0;
  /** How the last session ended with an error, as the gRPC status says it: "<code> <details>". */
  lastError: string | undefined;
  /** Routes withdrawn by an explicit message or swept, in order, with the time. */
  readonly withdrawn: { routingInstance: string; prefix: string; at: number; swept: boolean }[] = [];
  #staleConfig = new Set<string>();
  #staleRoutes = new Set<string>();

  get hasState(): boolean {
    return this.routingInstances.size + this.interfaces.size + this.routes.size > 0;
  }

  markAll(): void {
    this.#staleConfig = new Set([
      ...[...this.routingInstances.keys()].map((key) => `ri ${key}`),
      ...[...this.interfaces.keys()].map((key) => `if ${key}`),
      ...[...this.acls.keys()].map((key) => `acl ${key}`),
    ]);
    this.#staleRoutes = new Set();
    for (const [ri, table] of this.routes) for (const prefix of table.keys()) this.#staleRoutes.add(`${ri} ${prefix}`);
  }

  // Nothing is marked outside a resync: no key is made then (a benchmark's agents receive
  // hundreds of thousands of routes, and the key was much of their cost).
  touchConfig(key: string): void {
    if (this.#staleConfig.size > 0) this.#staleConfig.delete(key);
  }

  touchRoute(ri: string, prefix: string): void {
    if (this.#staleRoutes.size > 0) this.#staleRoutes.delete(`${ri} ${prefix}`);
  }

  sweepConfig(): void {
    for (const key of this.#staleConfig) {
      const [kind, name] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
      if (kind === 'ri') {
        this.routingInstances.delete(name);
        this.routes.delete(name);
      } else if (kind === 'if') this.interfaces.delete(name);
      else this.acls.delete(name);
    }
    this.#staleConfig.clear();
  }

  sweepRoutes(onRoute: SimulatedAgentOptions['onRoute']): void {
    for (const key of this.#staleRoutes) {
      const split = key.lastIndexOf(' ');
      const [ri, prefix] = [key.slice(0, split), key.slice(split + 1)];
      if (this.routes.get(ri)?.delete(prefix)) {
        this.withdrawn.push({ routingInstance: ri, prefix, at: Date.now(), swept: true });
        onRoute?.(ri, prefix, undefined);
      }
    }
    this.#staleRoutes.clear();
  }
}

type Stream = ClientDuplexStream<AgentMessage, ControlMessage__Output>;

function channelCredentials(tls: SimulatedAgentOptions['tls']) {
  if (!tls) return credentials.createInsecure();
  return credentials.createSsl(readFileSync(tls.caFile), readFileSync(tls.keyFile), readFileSync(tls.certFile));
}

/** The real agent's reconnect backoff (vrouter-agent's control session). */
const RECONNECT_BACKOFF_MS = { first: 100, max: 5_000 };

// Loading the .proto generates code; once per process is enough for any number of agents.
let agentProto: ReturnType<typeof loadAgentProto> | undefined;
let lightAgent: ServiceClientConstructor | undefined;

/** The Agent client whose route messages are read lightly. */
function lightAgentClient(): ServiceClientConstructor {
  if (!lightAgent) {
    const service = agentProto!.weft.control.v1.Agent.service;
    const session = service.Session;
    lightAgent = makeClientConstructor(
      {
        ...service,
        Session: {
          ...session,
          responseDeserialize: lightControlMessages(session.responseDeserialize as (bytes: Buffer) => never),
        },
      },
      'Agent',
    );
  }
  return lightAgent;
}

export class SimulatedAgent {
  readonly channels: ChannelState[];
  readonly ports = new Map<string, PortReport>();
  readonly #clients: InstanceType<ReturnType<typeof loadAgentProto>['weft']['control']['v1']['Agent']>[];
  readonly #streams: (Stream | undefined)[];
  readonly #seq: number[];
  #closed = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  #acksPaused = false;
  #partitioned = false;
  readonly #unacked: number[];
  readonly #backoffMs: number[];

  constructor(readonly options: SimulatedAgentOptions) {
    agentProto ??= loadAgentProto();
    const Agent = (options.lightRoutes ? lightAgentClient() : agentProto.weft.control.v1.Agent) as ReturnType<
      typeof loadAgentProto
    >['weft']['control']['v1']['Agent'];
    this.#clients = options.controls.map(
      (address) =>
        new Agent(address, channelCredentials(options.tls), {
          // One connection per agent, as real agents on separate hosts have; grpc-js would
          // otherwise share one HTTP/2 connection among clients of the same address.
          'grpc.use_local_subchannel_pool': 1,
          'grpc.initial_reconnect_backoff_ms': 100,
          'grpc.max_reconnect_backoff_ms': RECONNECT_BACKOFF_MS.max,
        }),
    );
    this.channels = options.controls.map(() => new ChannelState());
    this.#streams = options.controls.map(() => undefined);
    this.#seq = options.controls.map(() => 0);
    this.#unacked = options.controls.map(() => 0);
    this.#backoffMs = options.controls.map(() => RECONNECT_BACKOFF_MS.first);
  }

  /** Stops acknowledging (a stuck agent): control must then hold back and coalesce, not queue. */
  pauseAcks(): void {
    this.#acksPaused = true;
  }

  resumeAcks(): void {
    this.#acksPaused = false;
    this.#unacked.forEach((seq, index) => {
      if (seq > 0) this.#send(index, { body: 'ack', ack: { seq } });
    });
  }

  /**
   * Cut off from control (a partition): every session ends and none is tried again until
   * heal(); the agent keeps what it has, as a real one keeps forwarding on it, headless.
   */
  partition(): void {
    this.#partitioned = true;
    this.#streams.forEach((stream, index) => {
      this.#streams[index] = undefined;
      stream?.cancel();
    });
  }

  /** The partition is over: sessions open again, with the state kept (has_state). */
  heal(): void {
    this.#partitioned = false;
    this.#streams.forEach((stream, index) => {
      if (!stream) this.#connect(index);
    });
  }

  /** Opens a session with every control replica. */
  start(): this {
    for (let index = 0; index < this.options.controls.length; index += 1) this.#connect(index);
    return this;
  }

  #send(index: number, message: Omit<AgentMessage, 'seq'>): void {
    const stream = this.#streams[index];
    if (!stream) return;
    this.#seq[index]! += 1;
    stream.write({ seq: this.#seq[index], ...message });
  }

  #connect(index: number): void {
    if (this.#closed || this.#partitioned) return;
    const channel = this.channels[index]!;
    const stream = this.#clients[index]!.Session();
    this.#streams[index] = stream;
    this.#seq[index] = 0;
    this.#unacked[index] = 0;
    const hasState = channel.hasState;
    if (hasState) channel.markAll();
    channel.endOfConfig = false;
    channel.endOfRoutes = false;
    channel.sessions += 1;
    this.#send(index, {
      body: 'hello',
      hello: {
        host_name: this.options.host,
        underlay_address: this.options.underlay,
        version: 'simulated',
        has_state: hasState,
      },
    });
    for (const port of this.ports.values()) this.#sendPort(index, port, true);
    stream.on('data', (message: ControlMessage__Output) => {
      this.#backoffMs[index] = RECONNECT_BACKOFF_MS.first;
      channel.connected = true;
      channel.messages += 1;
      this.#apply(channel, message);
      if (this.#acksPaused) this.#unacked[index] = message.seq;
      else this.#send(index, { body: 'ack', ack: { seq: message.seq } });
    });
    let ended = false;
    const lost = () => {
      if (ended) return;
      ended = true;
      channel.connected = false;
      if (this.#streams[index] === stream) this.#streams[index] = undefined;
      if (this.#closed || this.#partitioned || this.options.reconnect === false) return;
      // As the real agent does: from 100 ms, doubling up to 5 s, until a message arrives. A
      // fixed short wait made 5,000 agents reconnecting at once a storm of their own.
      const delay = this.#backoffMs[index]!;
      this.#backoffMs[index] = Math.min(delay * 2, RECONNECT_BACKOFF_MS.max);
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#connect(index);
      }, delay);
      this.#timers.add(timer);
    };
    stream.on('error', (error: Error & { code?: number; details?: string }) => {
      channel.lastError = `${error.code ?? ''} ${error.details ?? error.message}`;
      lost();
    });
    stream.on('end', lost);
    stream.on('close', lost);
  }

  #apply(channel: ChannelState, message: ControlMessage__Output): void {
    const onRoute = this.options.onRoute;
    switch (message.body) {
      case 'config': {
        const update = message.config!;
        for (const instance of update.routing_instances) {
          channel.routingInstances.set(instance.name, instance as RoutingInstance);
          channel.touchConfig(`ri ${instance.name}`);
        }
        for (const acl of update.acls) {
          channel.acls.set(acl.name, acl as AccessControlList);
          channel.touchConfig(`acl ${acl.name}`);
        }
        for (const iface of update.interfaces) {
          channel.interfaces.set(iface.uuid, iface as Interface);
          channel.touchConfig(`if ${iface.uuid}`);
          this.options.onInterface?.(iface);
        }
        for (const name of update.deleted_routing_instances) {
          channel.routingInstances.delete(name);
          channel.routes.delete(name);
        }
        for (const uuid of update.deleted_interfaces) channel.interfaces.delete(uuid);
        for (const name of update.deleted_acls) channel.acls.delete(name);
        break;
      }
      case 'end_of_config':
        channel.sweepConfig();
        channel.endOfConfig = true;
        break;
      case 'routes': {
        const update = message.routes!;
        let table = channel.routes.get(update.routing_instance);
        if (!table) {
          table = new Map();
          channel.routes.set(update.routing_instance, table);
        }
        for (const route of update.add) {
          table.set(route.prefix, route);
          channel.touchRoute(update.routing_instance, route.prefix);
          onRoute?.(update.routing_instance, route.prefix, route);
        }
        for (const prefix of update.withdraw) {
          if (table.delete(prefix)) {
            channel.withdrawn.push({ routingInstance: update.routing_instance, prefix, at: Date.now(), swept: false });
            onRoute?.(update.routing_instance, prefix, undefined);
          }
        }
        break;
      }
      case 'end_of_routes':
        channel.sweepRoutes(onRoute);
        channel.endOfRoutes = true;
        break;
    }
  }

  #sendPort(index: number, port: PortReport, up: boolean): void {
    this.#send(index, {
      body: 'port',
      port: {
        interface_uuid: port.uuid,
        state: up ? 'PORT_STATE_UP' : 'PORT_STATE_DOWN',
        mac: port.mac,
        addresses: port.addresses,
        host_ifname: `tap${port.uuid.slice(0, 8)}`,
      },
    });
  }

  portUp(port: PortReport): void {
    this.ports.set(port.uuid, port);
    for (let index = 0; index < this.options.controls.length; index += 1) this.#sendPort(index, port, true);
  }

  portDown(uuid: string): void {
    const port = this.ports.get(uuid);
    if (!port) return;
    this.ports.delete(uuid);
    for (let index = 0; index < this.options.controls.length; index += 1) this.#sendPort(index, port, false);
  }

  /** True when every replica's session delivered EndOfRoutes. */
  get synced(): boolean {
    return this.channels.every((channel) => channel.endOfRoutes);
  }

  /** Routes as the datapath would hold them: the first replica's that has one wins. */
  routes(): Map<string, Map<string, Route__Output>> {
    const merged = new Map<string, Map<string, Route__Output>>();
    for (const channel of this.channels) {
      for (const [ri, table] of channel.routes) {
        if (!merged.has(ri)) merged.set(ri, new Map());
        const target = merged.get(ri)!;
        for (const [prefix, route] of table) if (!target.has(prefix)) target.set(prefix, route);
      }
    }
    return merged;
  }

  /** A stable text of the agent's whole state, for comparisons in tests. */
  snapshot(channel?: number): string {
    const sources = channel === undefined ? this.channels : [this.channels[channel]!];
    const sorted = <T>(map: Map<string, T>) => [...map.entries()].sort(([a], [b]) => a.localeCompare(b));
    const config = new Map<string, unknown>();
    for (const source of sources) {
      for (const [key, value] of source.routingInstances) if (!config.has(`ri ${key}`)) config.set(`ri ${key}`, value);
      for (const [key, value] of source.interfaces) if (!config.has(`if ${key}`)) config.set(`if ${key}`, value);
      for (const [key, value] of source.acls) if (!config.has(`acl ${key}`)) config.set(`acl ${key}`, value);
    }
    const routes = channel === undefined ? this.routes() : this.channels[channel]!.routes;
    return JSON.stringify({
      config: sorted(config),
      routes: sorted(routes).map(([ri, table]) => [ri, sorted(table)]),
    });
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    for (const stream of this.#streams) stream?.cancel();
    for (const client of this.#clients) client.close();
  }
}
