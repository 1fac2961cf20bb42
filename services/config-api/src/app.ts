// Builds the whole config-api from options, without listening: the store, the service, the
// REST app (routes, OpenAPI, docs page, metrics), the gRPC handlers and the change publisher.
// main.ts and startConfigApi (index.ts) bind it to ports.
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createHttpApp, type Logger, type Metrics, NatsLink, type Readiness, type TlsFiles } from '@weft/kit';
import { ajv } from '@weft/model';
import type { FastifyInstance } from 'fastify';
import { publishChanges } from './events/publisher.js';
import { type ConfigGrpc, configHandlers } from './grpc/server.js';
import { registerRequestMetrics } from './rest/metrics.js';
import { registerRoutes } from './rest/routes.js';
import { ConfigService } from './service/config-service.js';
import { SqliteStore } from './store/sqlite.js';

export interface ConfigApiOptions {
  /** Directory of the SQLite file (config.sqlite). */
  stateDir: string;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  /** NATS servers for change events; none: no events (Watch still works). */
  natsUrl?: string[];
  /** Change-log entries kept for Watch. */
  changeLogKeep?: number;
  /** SQLite synchronous mode: "full" (default, survives power loss) or "normal" (survives kill -9). */
  synchronous?: 'full' | 'normal';
  /** Largest REST body in bytes. */
  bodyLimit?: number;
  /** Base of hrefs in gRPC answers (REST answers use the request's Host). */
  hrefBase?: () => string;
  /** TLS for NATS; plaintext when not given. */
  tls?: TlsFiles;
}

export interface ConfigApi {
  http: FastifyInstance;
  service: ConfigService;
  grpc: ConfigGrpc;
  nats: NatsLink | undefined;
  /** Stops publishing, closes the REST app and the store (the caller stops gRPC first). */
  close(): Promise<void>;
}

export const DB_FILE = 'config.sqlite';

export async function buildConfigApi(options: ConfigApiOptions): Promise<ConfigApi> {
  const { logger, metrics, readiness } = options;
  const commitLatency = metrics.histogram('store_commit_duration_seconds', 'time to commit one write transaction');
  const store = new SqliteStore({
    path: join(options.stateDir, DB_FILE),
    changeLogKeep: options.changeLogKeep,
    synchronous: options.synchronous,
    observeCommit: (seconds) => commitLatency.observe(seconds),
  });
  const service = new ConfigService(store);
  await service.ensureDefaults();

  const objects = metrics.gauge('objects', 'stored objects by type', ['type']);
  for (const [type, count] of store.countsByType()) objects.set({ type }, count);
  const revision = metrics.gauge('store_revision', 'revision of the last committed change');
  revision.set(store.revision());
  store.onCommit((changes) => {
    for (const change of changes) {
      if (change.operation === 'CREATE') objects.inc({ type: change.type });
      if (change.operation === 'DELETE') objects.dec({ type: change.type });
    }
    revision.set(store.revision());
  });
  readiness.declare('store', () => (store.revision() >= 0 ? undefined : 'store not open'));

  let nats: NatsLink | undefined;
  let stopPublishing = () => {};
  if (options.natsUrl && options.natsUrl.length > 0) {
    nats = new NatsLink({
      servers: options.natsUrl,
      name: 'weft-config-api',
      tls: options.tls,
      logger,
      metrics,
      readiness,
    });
    stopPublishing = publishChanges(store, nats, logger, metrics);
  }

  const http = createHttpApp({ logger, readiness, metrics, bodyLimit: options.bodyLimit });
  http.setValidatorCompiler(({ schema }) => ajv.compile(schema));
  registerRequestMetrics(http, metrics);
  await http.register(swagger, {
    openapi: {
      info: {
        title: 'Weft config-api',
        description: 'The resource model of Weft, compatible with the Tungsten Fabric VNC API for the core types.',
        version: '1',
      },
    },
  });
  await http.register(swaggerUi, { routePrefix: '/docs' });
  http.get('/openapi.json', { schema: { hide: true } }, async () => http.swagger());
  registerRoutes(http, service);
  await http.ready();

  let hrefBase = options.hrefBase ?? (() => '');
  const grpc = configHandlers(service, () => hrefBase(), logger);
  return {
    http,
    service,
    grpc,
    nats,
    async close() {
      stopPublishing();
      hrefBase = () => '';
      await http.close();
      await nats?.close();
      // NatsLink.close drains; while disconnected, drain resolves without closing and the
      // client keeps reconnecting (and the process alive). Close it for sure.
      const connection = nats?.current;
      if (connection && !connection.isClosed()) await connection.close();
      await store.close();
    },
  };
}
