// The vrouter-agent wired together: one control session per replica feeding HostState, a
// reconcile loop applying it to the datapath, the CNI socket attaching pods' ports, the ports'
// status reported to control, and the host's UVE published for analytics.
//
//   control replicas ──Session──► HostState ──changed──► ReconcileLoop ──► Datapath (BPF)
//          ▲                          │                                        ▲
//          └──── PortStatus ◄──── CniServer ◄── weft-cni ── PortStore ─────────┘
import { hostname } from 'node:os';
import type { Logger, Metrics, NatsLink, Readiness, TlsFiles, UvePublisher } from '@weft/kit';
import { CniServer, portStatus } from '../cni-server/cni-server.js';
import { ControlSession, type PortStatus } from '../control-session/control-session.js';
import { HostState } from '../host-state/host-state.js';
import { PortStore } from '../ports/port-store.js';
import type { Datapath } from './datapath.js';
import { FlowExport } from './flow-export.js';
import { ReconcileLoop } from './reconcile-loop.js';

export interface AgentOptions {
  hostName: string;
  underlayAddress: string;
  /** host:port of every control replica. */
  controlAddresses: string[];
  cniSocket: string;
  /** Where weft-cni queues deletions while this agent cannot answer. */
  cniDeleteQueue: string;
  stateDir: string;
  underlayMtu: number;
  version: string;
  flowSampleRate: number;
  flowExportIntervalMs: number;
  /** TLS for the control sessions; plaintext when not given. */
  tls?: TlsFiles;
  /** Where this agent's HTTP introspection answers, told in its UVE so that tools find it. */
  introspectUrl?: string;
}

export interface AgentDeps {
  options: AgentOptions;
  datapath: Datapath;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  uve?: UvePublisher;
  nats?: NatsLink;
}

export class Agent {
  readonly state = new HostState();
  readonly ports: PortStore;
  readonly sessions: ControlSession[];
  readonly cni: CniServer;
  readonly loop: ReconcileLoop;
  #uveTimer: NodeJS.Timeout | undefined;
  #flows: FlowExport | undefined;
  #publishUveNow: (() => void) | undefined;
  /** The state-directory write error the last UVE carried. */
  #reportedWriteError: string | undefined;

  constructor(private readonly deps: AgentDeps) {
    const { options, datapath, logger } = deps;
    this.ports = new PortStore(options.stateDir);
    this.loop = new ReconcileLoop(this.state, this.ports, datapath, logger.child({ component: 'reconcile' }));
    this.sessions = options.controlAddresses.map(
      (address) =>
        new ControlSession({
          address,
          hostName: options.hostName,
          underlayAddress: options.underlayAddress,
          version: options.version,
          state: this.state,
          portsUp: () => this.#portsUp(),
          applied: () => this.loop.applied(),
          tls: options.tls,
          logger,
          // Analytics alarms on a vrouter without control: it hears of a change at once.
          onConnectionChange: () => this.#publishUveNow?.(),
        }),
    );
    this.cni = new CniServer({
      socketPath: options.cniSocket,
      deleteQueue: options.cniDeleteQueue,
      state: this.state,
      ports: this.ports,
      // A port's interface-map entry is written by a reconcile: the attach answers once it is in.
      datapath: {
        attachPort: async (port, iface) => {
          await datapath.attachPort(port, iface);
          this.loop.kick();
          await this.loop.applied();
        },
        detachPort: async (port) => {
          await datapath.detachPort(port);
          this.loop.kick();
        },
        unavailable: () => datapath.unavailable(),
      },
      reportPort: (port) => this.#reportPort(port),
      onStateWriteError: () => {
        if (this.ports.writeError !== this.#reportedWriteError) this.#publishUveNow?.();
      },
      underlayMtu: options.underlayMtu,
      logger,
    });
    deps.readiness.declare('control', () =>
      this.sessions.some((session) => session.connected)
        ? undefined
        : `no session with control at ${options.controlAddresses.join(', ')}`,
    );
    deps.readiness.declare('synced', () => (this.state.synced ? undefined : 'not yet synced with control'));
    deps.readiness.declare('datapath', () => datapath.unavailable());
    this.#declareMetrics();
  }

  /** Ports attached now, re-reported after each reconnect, from the records (config may not be here yet). */
  #portsUp(): PortStatus[] {
    return this.ports.all().map((record) => portStatus(record, 'PORT_STATE_UP'));
  }

  #reportPort(port: PortStatus): void {
    for (const session of this.sessions) session.reportPort(port);
  }

  #declareMetrics(): void {
    const { metrics } = this.deps;
    metrics.gauge('control_sessions', 'sessions with control replicas that are up', [], (gauge) =>
      gauge.set(this.sessions.filter((session) => session.connected).length),
    );
    metrics.gauge('ports', 'pod ports attached to the datapath', [], (gauge) => gauge.set(this.ports.all().length));
    metrics.gauge('routes', 'routes in the datapath, all routing instances', [], (gauge) =>
      gauge.set(this.#routeCount()),
    );
    metrics.gauge('reconciles', 'datapath reconciles done since start', [], (gauge) => gauge.set(this.loop.reconciles));
    metrics.gauge('flow_records_buffered', 'flow records waiting for NATS', [], (gauge) =>
      gauge.set(this.#flows?.buffered ?? 0),
    );
    metrics.gauge(
      'flow_records_dropped',
      'flow records dropped since start because NATS was away longer than the buffer lasts',
      [],
      (gauge) => gauge.set(this.#flows?.dropped ?? 0),
    );
  }

  #routeCount(): number {
    return [...this.state.view().routes.values()].reduce((sum, table) => sum + table.size, 0);
  }

  async start(): Promise<void> {
    const { datapath, logger } = this.deps;
    await datapath.start();
    // Ports attached before a restart are adopted: the datapath re-attaches their devices once
    // the first sync says what they are; until then they keep forwarding on pinned state.
    logger.info({ ports: this.ports.all().length }, 'adopted ports from the last run');
    // Pods deleted while this agent was away: their ports go before control hears of this
    // agent's ports, so control withdraws their routes and config can give out their addresses.
    const deleted = await this.cni.drainDeleteQueue();
    if (deleted > 0) logger.info({ deleted }, 'carried out deletions queued while the agent was away');
    await this.cni.listen();
    this.cni.startUpkeep();
    for (const session of this.sessions) session.start();
    this.#publishUve();
    const reader = datapath.flowSamples?.();
    if (reader && this.deps.nats) {
      this.#flows = new FlowExport(reader, {
        hostName: this.deps.options.hostName,
        sampleRate: this.deps.options.flowSampleRate,
        intervalMs: this.deps.options.flowExportIntervalMs,
        nats: this.deps.nats,
        view: () => this.state.view(),
        logger: logger.child({ component: 'flows' }),
      });
      this.#flows.start();
    }
  }

  /** What this agent holds now, for GET /host-state. */
  introspect() {
    const view = this.state.view();
    return {
      synced: this.state.synced,
      sessions: this.sessions.map((session) => ({
        replica: session.replica,
        connected: session.connected,
        received: session.received,
      })),
      routingInstances: [...view.routingInstances.values()],
      interfaces: [...view.interfaces.values()],
      acls: [...view.acls.keys()],
      routes: Object.fromEntries([...view.routes].map(([instance, table]) => [instance, Object.fromEntries(table)])),
      ports: this.ports.all(),
      reconciles: this.loop.reconciles,
    };
  }

  /** Removes what the agent made: port attachments and records, then the datapath's pins. */
  async cleanup(): Promise<void> {
    for (const port of this.ports.all()) {
      await this.deps.datapath.detachPort(port).catch(() => undefined);
      this.ports.remove(port);
    }
    await this.deps.datapath.cleanup();
  }

  #publishUve(): void {
    const { uve, options, datapath } = this.deps;
    if (!uve) return;
    const publish = async () => {
      this.#reportedWriteError = this.ports.writeError;
      const counters = await datapath.counters().catch(() => undefined);
      uve.set('vrouter', options.hostName, {
        process_state: 'running',
        control_connected: this.sessions.some((session) => session.connected),
        control_sessions: this.sessions.map((session) => ({ replica: session.replica, connected: session.connected })),
        underlay_address: options.underlayAddress,
        ...(options.introspectUrl ? { introspect_url: options.introspectUrl } : {}),
        synced: this.state.synced,
        interfaces: this.ports.all().length,
        routes: this.#routeCount(),
        drops: counters?.drops ?? {},
        flow_records_dropped: this.#flows?.dropped ?? 0,
        flow_export_dropping: this.#flows?.dropping ?? false,
        // What the agent cannot write to its state directory (a full disk), empty when fine.
        state_write_error: this.ports.writeError ?? '',
        host: hostname(),
      });
    };
    this.#publishUveNow = () => void publish();
    // Tools read readiness from this UVE (weftctl status): the first full sync is told at once,
    // not at the next periodic report.
    let synced = this.state.synced;
    this.state.on('changed', () => {
      if (this.state.synced === synced) return;
      synced = this.state.synced;
      void publish();
    });
    void publish();
    this.#uveTimer = setInterval(() => void publish(), 5_000);
    this.#uveTimer.unref();
  }

  /** Stops managing the datapath but leaves it forwarding: the next agent adopts it. */
  async stop(): Promise<void> {
    clearInterval(this.#uveTimer);
    this.#flows?.flush();
    this.#flows?.stop();
    for (const session of this.sessions) session.stop();
    await this.cni.close();
    await this.deps.datapath.stop();
  }
}
