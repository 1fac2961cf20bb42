// Builds the whole config-api from options, without listening: the store, the service, the
// REST app (routes, OpenAPI, docs page, metrics), the gRPC handlers and the change publisher.
// main.ts and startConfigApi (index.ts) bind it to ports.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  type Authenticator,
  createHttpApp,
  type Logger,
  type Metrics,
  NatsLink,
  OPEN_ROUTES,
  type Readiness,
  registerAuthentication,
  type TlsFiles,
} from '@weft/kit';
import { type Schema, validatorOf } from '@weft/model';
import type { FastifyInstance } from 'fastify';
import { Audit, whoOf } from './audit.js';
import { Scope } from './auth/tenancy.js';
import { publishChanges } from './events/publisher.js';
import { type ConfigGrpc, configHandlers } from './grpc/server.js';
import { registerRequestMetrics } from './rest/metrics.js';
import { registerRoutes } from './rest/routes.js';
import { ConfigService } from './service/config-service.js';
import { type EtcdConnection, openStore } from './store/open.js';

export interface ConfigApiOptions {
  /** Directory of the SQLite file (config.sqlite). */
  stateDir: string;
  /** Which store: SQLite (the default) or etcd (several replicas, one data set). */
  store?: 'sqlite' | 'etcd';
  /** The etcd cluster, when store is etcd. */
  etcd?: EtcdConnection;
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
  /** HTTPS for REST (WEFT_HTTP_TLS); plain HTTP when not given. */
  httpTls?: TlsFiles;
  /** Who may call: checks every REST request and gRPC call but the open routes. */
  authenticator: Authenticator;
  /** REST requests, and gRPC calls, per minute per tenant token (0: no limit). */
  rateLimit?: number;
}

export interface ConfigApi {
  http: FastifyInstance;
  service: ConfigService;
  grpc: ConfigGrpc;
  nats: NatsLink | undefined;
  /** Stops publishing, closes the REST app and the store (the caller stops gRPC first). */
  close(): Promise<void>;
}

export { DB_FILE } from './store/open.js';

/** Writes check what they read when they commit; every other request first waits for the read barrier. */
function isWrite(method: string, url: string | undefined): boolean {
  if (method === 'PUT' || method === 'DELETE') return true;
  return method === 'POST' && url !== undefined && (/^\/[a-z0-9-]+s$/.test(url) || url === '/ref-update');
}

/** POSTs that only read: every other POST, PUT and DELETE is a change, and audited. */
const READING_POSTS = new Set([
  '/fqname-to-id',
  '/id-to-fqname',
  '/list-bulk-collection',
  '/virtual-network/:uuid/subnet-ip-count',
]);

/** The uuid a write answered with (a create's new object), or the error code of a refusal. */
function outcomeOf(payload: unknown): { uuid?: string; code?: string } {
  if (typeof payload !== 'string' || payload.length > 65_536) return {};
  try {
    const body = JSON.parse(payload) as Record<string, { uuid?: unknown; code?: unknown }>;
    if (typeof body.error?.code === 'string') return { code: body.error.code };
    const inner = Object.values(body)[0];
    return typeof inner?.uuid === 'string' ? { uuid: inner.uuid } : {};
  } catch {
    return {};
  }
}

/** Routes that answer without the store (health, metrics, the API's own description). */
const OPS_ROUTES = OPEN_ROUTES;

export async function buildConfigApi(options: ConfigApiOptions): Promise<ConfigApi> {
  const { logger, metrics, readiness } = options;
  const commitLatency = metrics.histogram('store_commit_duration_seconds', 'time to commit one write transaction');
  const conflicts = metrics.counter(
    'store_conflicts_total',
    'writes run again because another replica changed what they read (etcd)',
  );
  const store = await openStore({
    kind: options.store,
    stateDir: options.stateDir,
    etcd: options.etcd,
    changeLogKeep: options.changeLogKeep,
    synchronous: options.synchronous,
    observeCommit: (seconds) => commitLatency.observe(seconds),
    observeConflict: () => conflicts.inc(),
    logger,
  });
  const service = new ConfigService(store);
  try {
    await service.ensureDefaults();
  } catch (error) {
    await store.close();
    throw error;
  }

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
  readiness.declare('store', () => store.health());

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

  const audit = new Audit(logger, nats);
  const http = createHttpApp({
    logger,
    readiness,
    metrics,
    bodyLimit: options.bodyLimit,
    tls: options.httpTls,
    // One logger for every request instead of a child per request: a read costs tens of
    // microseconds, and a pino child (with its redaction) was a measurable share of it.
    fastify: { childLoggerFactory: (httpLogger) => httpLogger },
  });
  http.setValidatorCompiler(({ schema }) => validatorOf(schema as Schema));
  registerRequestMetrics(http, metrics);
  await registerAuthentication(http, options.authenticator, { rateLimit: options.rateLimit ?? 0 });
  // A write through another replica is read here at once: reads wait for the read barrier.
  // Then the caller's scope is made from what the store holds (his projects' uuids).
  const mode = options.authenticator.mode;
  http.decorateRequest('scope', undefined);
  // Every change, and every refused attempt at one, is audited: who, what, when, how it ended.
  http.addHook('onSend', async (request, reply, payload) => {
    const route = request.routeOptions.url;
    if (request.method === 'GET' || route === undefined || OPS_ROUTES.test(route)) return payload;
    if (request.method === 'POST' && READING_POSTS.has(route)) return payload;
    const { uuid, code } = outcomeOf(payload);
    const params = request.params as { uuid?: string } | undefined;
    const typed = /^\/([a-zA-Z0-9-]+?)s?(\/:uuid)?$/.exec(route);
    audit.record({
      ...whoOf(request.identity),
      method: request.method,
      path: route,
      ...(typed && route !== '/ref-update' ? { type: typed[1] } : {}),
      ...(params?.uuid || uuid ? { uuid: params?.uuid ?? uuid } : {}),
      status: reply.statusCode,
      ...(code ? { code } : {}),
    });
    return payload;
  });
  http.addHook('preHandler', async (request) => {
    const url = request.routeOptions.url;
    if (url === undefined || OPS_ROUTES.test(url)) return;
    if (!isWrite(request.method, url)) await store.sync();
    if (mode !== 'no-auth' && request.identity) request.scope = new Scope(store, request.identity, mode);
  });
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
  const grpc = configHandlers(service, () => hrefBase(), logger, options.authenticator, {
    audit,
    rateLimit: options.rateLimit ?? 0,
  });
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
