// One agent's session with one control replica (weft.control.v1.Agent/Session): say hello,
// take the host's config and routes into HostState, acknowledge what the datapath has applied,
// report the host's ports, and reconnect with jittered backoff (backoff.ts) whenever the stream
// ends. An agent runs one session per replica; a replica that goes away changes nothing the
// datapath forwards.
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { GRPC_KEEPALIVE, grpcChannelCredentials, type Logger, type TlsFiles } from '@weft/kit';
import { loadAgentProto } from '@weft/proto';
import type { AgentMessage } from '@weft/proto/gen/weft/control/v1/AgentMessage.js';
import type { ControlMessage__Output } from '@weft/proto/gen/weft/control/v1/ControlMessage.js';
import type { PortStatus } from '@weft/proto/gen/weft/control/v1/PortStatus.js';
import type { HostState } from '../host-state/host-state.js';
import { type RandomSource, ReconnectBackoff } from './backoff.js';

export type { PortStatus };

export interface ControlSessionOptions {
  /** host:port of the control replica. */
  address: string;
  hostName: string;
  underlayAddress: string;
  version: string;
  state: HostState;
  /** Every port up on this host now, re-reported after each (re)connect. */
  portsUp: () => PortStatus[];
  /** Resolves once the datapath has applied the state as it is now; acks wait for it. */
  applied: () => Promise<void>;
  logger: Logger;
  tls?: TlsFiles;
  /** Longest wait between reconnect attempts. */
  maxBackoffMs?: number;
  /** Where the reconnect waits are drawn from (backoff.ts); Math.random when not given. */
  random?: RandomSource;
  /** Told when the session comes up or goes down. */
  onConnectionChange?: (connected: boolean) => void;
}

type Stream = ClientDuplexStream<AgentMessage, ControlMessage__Output>;

export class ControlSession {
  readonly #client;
  readonly #log: Logger;
  #stream: Stream | undefined;
  #sentSeq = 0;
  #highestReceived = 0;
  #ackScheduled = false;
  #stopped = false;
  readonly #backoff: ReconnectBackoff;
  #connected = false;
  /** Messages received over the session's lifetime, for metrics and introspection. */
  received = 0;

  constructor(private readonly options: ControlSessionOptions) {
    const { Agent } = loadAgentProto().weft.control.v1;
    this.#client = new Agent(options.address, grpcChannelCredentials(options.tls), {
      ...GRPC_KEEPALIVE,
      // The channel's own reconnect backoff (grpc-js: up to 120 s) runs under the session's: left
      // as it is, an agent cut off from control for a minute came back 30 s after the cut ended.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': options.maxBackoffMs ?? 5_000,
    });
    this.#log = options.logger.child({ component: 'control-session', replica: options.address });
    this.#backoff = new ReconnectBackoff(100, options.maxBackoffMs ?? 5_000, options.random);
  }

  get connected(): boolean {
    return this.#connected;
  }

  get replica(): string {
    return this.options.address;
  }

  start(): void {
    this.#open();
  }

  #open(): void {
    if (this.#stopped) return;
    const stream = this.#client.Session() as Stream;
    this.#stream = stream;
    this.#sentSeq = 0;
    this.#highestReceived = 0;
    const snapshot = this.options.state.beginSync(this.options.address);
    this.#send({
      hello: {
        host_name: this.options.hostName,
        underlay_address: this.options.underlayAddress,
        version: this.options.version,
        has_state: this.options.state.synced,
      },
    });
    for (const port of this.options.portsUp()) this.#send({ port });
    stream.on('data', (message: ControlMessage__Output) => {
      if (!this.#connected) {
        this.#connected = true;
        this.#backoff.reset();
        this.#log.info('session with control established');
        this.options.onConnectionChange?.(true);
      }
      this.received += 1;
      const target = this.options.state.target(this.options.address) ?? snapshot;
      if (message.config) target.applyConfig(message.config);
      if (message.routes) target.applyRoutes(message.routes);
      if (message.end_of_config) target.configComplete = true;
      if (message.end_of_routes) target.routesComplete = true;
      this.options.state.settle(this.options.address);
      this.#highestReceived = Math.max(this.#highestReceived, message.seq);
      this.#scheduleAck(stream);
    });
    stream.on('error', (error: ServiceError) => {
      if (!this.#stopped) this.#log.warn({ code: error.code, details: error.details }, 'session with control ended');
    });
    stream.on('close', () => this.#closed(stream));
    stream.on('end', () => this.#closed(stream));
  }

  #closed(stream: Stream): void {
    if (this.#stream !== stream) return;
    this.#stream = undefined;
    const wasConnected = this.#connected;
    this.#connected = false;
    this.options.state.endSession(this.options.address);
    if (wasConnected) this.options.onConnectionChange?.(false);
    if (this.#stopped) return;
    // Jittered: agents cut off together by a control restart do not come back in lockstep.
    setTimeout(() => this.#open(), this.#backoff.next()).unref();
  }

  /** Acknowledges the highest sequence number once the datapath has applied it. */
  #scheduleAck(stream: Stream): void {
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    setImmediate(async () => {
      this.#ackScheduled = false;
      const seq = this.#highestReceived;
      try {
        await this.options.applied();
      } catch (error) {
        this.#log.error({ err: error }, 'datapath failed to apply; not acknowledging');
        return;
      }
      if (this.#stream === stream) this.#send({ ack: { seq } });
    });
  }

  #send(body: Omit<AgentMessage, 'seq'>): void {
    this.#sentSeq += 1;
    this.#stream?.write({ seq: this.#sentSeq, ...body });
  }

  /** Reports a port going up or down to this replica. */
  reportPort(port: PortStatus): void {
    if (this.#connected || this.#stream) this.#send({ port });
  }

  stop(): void {
    this.#stopped = true;
    this.#stream?.cancel();
    this.#stream = undefined;
    this.#client.close();
  }
}
