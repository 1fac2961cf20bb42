// Builds control from options, without listening: the config feed, the compilation graph, the
// agent hub, the Agent gRPC service, introspection HTTP and UVEs. main.ts and startControl()
// (index.ts) start it.
import { hostname } from 'node:os';
import {
  createHttpApp,
  type GrpcServerHandle,
  type Logger,
  type Metrics,
  NatsLink,
  type Readiness,
  startGrpcServer,
  type TlsFiles,
  UvePublisher,
} from '@weft/kit';
import { AgentHub } from './agents/hub.js';
import { agentService } from './agents/service.js';
import { agentServiceDefinition } from './agents/wire.js';
import { BgpAdvertiser, type BgpOptions, wantedPaths } from './bgp/advertiser.js';
import { Gobgp } from './bgp/gobgp.js';
import { CompilationGraph } from './compile/graph.js';
import { ConfigClient } from './config-feed/config-client.js';
import { ConfigFeed } from './config-feed/feed.js';
import { ConfigStore } from './config-feed/store.js';
import { registerIntrospection } from './introspection/http.js';
import { ControlUves } from './introspection/uve.js';

export interface ControlAppOptions {
  /** host:port of config-api's gRPC Config service. */
  configApiGrpc: string;
  /** File holding the token sent to config-api; empty or none: no token. */
  configApiTokenFile?: string;
  /** The token itself, when no file is given. */
  configApiToken?: string;
  /** NATS servers; without them control follows config by Watch alone and publishes no UVEs. */
  natsUrl?: string[];
  agentPort: number;
  httpPort: number;
  host: string;
  /**
   * "certificate" (default): with a CA, the hello's host must be a name of the client
   * certificate; "hello": believed, for agents that share one certificate.
   */
  agentIdentity?: 'certificate' | 'hello';
  /** How long a disconnected agent's routes stay as they are. */
  agentHoldTimeMs: number;
  /** How long they stay past the hold time, as stale; 0: withdrawn at its end. */
  agentStaleTimeMs: number;
  /** This replica's name in UVEs ("control:<name>"). */
  name?: string;
  /** BGP with the gateways through gobgpd (host:port of its gRPC API); none when not given. */
  bgp?: BgpOptions & { speaker: string };
  /**
   * TLS for the agents' gRPC, the config-api client and NATS; plaintext when not given. With a
   * CA, an agent must prove the host name of its hello with a client certificate it signed.
   */
  tls?: TlsFiles;
  /** HTTPS for introspection, health and metrics (WEFT_HTTP_TLS); plain HTTP when not given. */
  httpTls?: TlsFiles;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
}

export function buildControl(options: ControlAppOptions) {
  const { logger, metrics, readiness } = options;
  const store = new ConfigStore();
  const graph = new CompilationGraph(store);
  const link = options.natsUrl?.length
    ? new NatsLink({ servers: options.natsUrl, name: 'weft-control', tls: options.tls, logger, metrics, readiness })
    : undefined;
  const publisher = link
    ? new UvePublisher({ link, source: `control:${options.name ?? hostname()}`, logger })
    : undefined;
  let uves: ControlUves | undefined;
  const hub = new AgentHub({
    holdTimeMs: options.agentHoldTimeMs,
    staleTimeMs: options.agentStaleTimeMs,
    logger,
    metrics,
    onAgentChange: (host) => uves?.agentChanged(host),
  });
  const bgp = options.bgp
    ? new BgpAdvertiser(
        new Gobgp(options.bgp.speaker),
        () => wantedPaths(hub),
        options.bgp,
        logger.child({ component: 'bgp' }),
        metrics,
        (learnt) => hub.gatewayRoutesLearnt(learnt),
      )
    : undefined;
  if (publisher) uves = new ControlUves(publisher, hub, bgp);

  const compileSeconds = metrics.histogram(
    'compile_seconds',
    'time to compile one batch of config changes and queue what each agent must be sent',
  );
  let compileScheduled = false;
  // Changes that arrive together (a listing, a replayed watch) compile together, once per turn
  // of the event loop; each compiles only what depends on it, so a change never waits long.
  const compileNow = () => {
    compileScheduled = false;
    const started = performance.now();
    const delta = graph.flush();
    hub.apply(graph.state, delta);
    compileSeconds.observe((performance.now() - started) / 1000);
    uves?.routingInstancesChanged(delta.first ? undefined : delta.instances);
    // A floating IP associated, moved or gone reaches the gateways with the agents' config.
    if (feed.synced) void bgp?.sync();
  };
  const scheduleCompile = () => {
    if (compileScheduled) return;
    compileScheduled = true;
    setImmediate(() => {
      if (compileScheduled && !stopping) compileNow();
    });
  };

  const client = new ConfigClient(options.configApiGrpc, options.tls, {
    file: options.configApiTokenFile,
    token: options.configApiToken,
  });
  const feed = new ConfigFeed({ client, store, onChange: scheduleCompile, logger, metrics });
  readiness.declare('config', () =>
    feed.synced ? undefined : `config not listed yet from config-api at ${options.configApiGrpc}`,
  );
  link?.connection().then(
    (connection) => feed.subscribe(connection),
    () => {},
  );

  const http = createHttpApp({ logger, readiness, metrics, tls: options.httpTls });
  registerIntrospection(http, hub, feed, bgp);

  let grpc: GrpcServerHandle | undefined;
  let stopping = false;

  return {
    store,
    feed,
    hub,
    http,
    bgp,
    async listen(): Promise<{ agentPort: number; httpPort: number }> {
      feed.start();
      const proven = Boolean(options.tls?.caFile) && options.agentIdentity !== 'hello';
      if (!proven) {
        logger.warn(
          { tlsCa: Boolean(options.tls?.caFile), agentIdentity: options.agentIdentity ?? 'certificate' },
          "agents' host names are not proven by certificates: control believes the host name of every hello",
        );
      }
      grpc = await startGrpcServer({
        host: options.host,
        port: options.agentPort,
        tls: options.tls,
        logger,
        register: (server) =>
          server.addService(
            agentServiceDefinition(),
            agentService(hub, logger, {
              requireCertificate: proven,
              checkCertificate: options.agentIdentity !== 'hello',
              isStopping: () => stopping,
            }),
          ),
      });
      await http.listen({ host: options.host, port: options.httpPort });
      const address = http.server.address();
      const httpPort = typeof address === 'object' && address ? address.port : options.httpPort;
      return { agentPort: grpc.port, httpPort };
    },
    async close(): Promise<void> {
      stopping = true;
      // Agents keep forwarding on what they have and reconnect to the other replica (or to us).
      hub.close();
      // gobgpd keeps advertising what it has: the gateways lose nothing while control is away.
      bgp?.close();
      await grpc?.stop(2_000);
      await http.close();
      await feed.close();
      uves?.close();
      await publisher?.close();
      await link?.close();
      client.close();
    },
  };
}

export type Control = ReturnType<typeof buildControl>;
