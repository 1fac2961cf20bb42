// Builds analytics from its options, without listening: the store, the UVE view, the alarm
// engine, ingest from NATS, analytics' own UVE and the REST app.
//
//   NATS WEFT_UVE/WEFT_FLOW/WEFT_LOG ──durable consumers──► Ingest ──one transaction per batch──► SqliteStore
//                                                              └──► UveState ──change──► AlarmEngine
//   REST: uve-routes (UveState), query-routes (SqliteStore), alarm-routes (AlarmEngine)
import { hostname } from 'node:os';
import {
  type Authenticator,
  createHttpApp,
  type Logger,
  type Metrics,
  NatsLink,
  type Readiness,
  registerAuthentication,
  type TlsFiles,
  UvePublisher,
} from '@weft/kit';
import { AlarmEngine } from './alarms/alarm-engine.js';
import { Ingest } from './ingest/ingest.js';
import { QueryPool } from './query/query-runner.js';
import { MAX_PARTITIONS } from './query/validate.js';
import { registerAlarmRoutes } from './rest/alarm-routes.js';
import { registerQueryRoutes } from './rest/query-routes.js';
import { registerSseStreams } from './rest/sse.js';
import { registerUveRoutes } from './rest/uve-routes.js';
import { SqliteStore } from './store/sqlite-store.js';
import { UveState } from './uve/uve-state.js';

export interface AnalyticsOptions {
  stateDir: string;
  natsUrl: string[];
  /** TLS for NATS; plaintext when not given. */
  tls?: TlsFiles;
  /** HTTPS for REST (WEFT_HTTP_TLS); plain HTTP when not given. */
  httpTls?: TlsFiles;
  /** This host's name, in analytics' own UVE and its source "analytics:<host>". */
  host?: string;
  /** Length of one store partition. */
  partitionMs?: number;
  /** Records older than this are dropped. */
  retentionMs?: number;
  /** The store is kept under this many bytes on disk. */
  maxBytes?: number;
  /** Share of maxBytes above which the disk alarm is raised. */
  diskAlarmRatio?: number;
  /** How often retention runs. */
  retentionIntervalMs?: number;
  /** Limits of each JetStream stream, the buffer while analytics is away. */
  streamMaxBytes?: number;
  streamMaxAgeMs?: number;
  /** ttl for UVE parts sent without one. */
  uveTtlMs?: number;
  /** Stale UVE parts are forgotten this long after they went stale. */
  uveExpiryMs?: number;
  /** How often staleness and alarms are checked. */
  sweepIntervalMs?: number;
  /** How long the bus waits for an ack before redelivering. */
  ackWaitMs?: number;
  /** A query running longer is stopped and answered 504. */
  queryTimeoutMs?: number;
  /** Queries run side by side, each on its own worker: a slow one holds up only its own. */
  queryWorkers?: number;
  /** The durable consumer's name: replicas sharing one split the records, each its own gets all. */
  consumerName?: string;
  /** At most one StatTable.UveStat sample per UVE part per this interval. */
  statIntervalMs?: number;
  /** REST requests per minute per tenant token, with an authenticator (0: no limit). */
  rateLimit?: number;
}

export interface AnalyticsDeps {
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  /** Who may query: without one, every caller may (tests on loopback). */
  authenticator?: Authenticator;
}

export const DEFAULTS = {
  partitionMs: 3_600_000,
  retentionMs: 7 * 24 * 3_600_000,
  maxBytes: 1024 ** 3,
  diskAlarmRatio: 0.9,
  retentionIntervalMs: 10_000,
  streamMaxBytes: 512 * 1024 ** 2,
  streamMaxAgeMs: 24 * 3_600_000,
  uveTtlMs: 30_000,
  uveExpiryMs: 3_600_000,
  sweepIntervalMs: 1_000,
  ackWaitMs: 30_000,
  queryTimeoutMs: 60_000,
  queryWorkers: 2,
  consumerName: 'weft-analytics',
  statIntervalMs: 60_000,
  // Ten a second: a dashboard polling a dozen panels every few seconds stays well under it.
  rateLimit: 600,
} as const;

export async function buildAnalytics(
  options: AnalyticsOptions,
  { logger, metrics, readiness, authenticator }: AnalyticsDeps,
) {
  const settings = { ...DEFAULTS, host: hostname(), ...options };
  if (settings.retentionMs / settings.partitionMs > MAX_PARTITIONS) {
    throw new Error(
      `retention ${settings.retentionMs} ms over partitions of ${settings.partitionMs} ms makes more than ${MAX_PARTITIONS} partitions; lengthen the partition or shorten the retention`,
    );
  }
  const log = logger.child({ component: 'analytics' });

  const store = new SqliteStore({
    stateDir: settings.stateDir,
    partitionMs: settings.partitionMs,
    retentionMs: settings.retentionMs,
    maxBytes: settings.maxBytes,
  });
  const uves = new UveState({ defaultTtlMs: settings.uveTtlMs, expiryMs: settings.uveExpiryMs });
  uves.apply(store.uveParts(), []);

  const storeBytes = metrics.gauge('store_bytes', 'bytes the store takes on disk');
  metrics.gauge('store_max_bytes', 'the store is kept under this size').set(settings.maxBytes);
  const partitionsGauge = metrics.gauge('store_partitions', 'time partitions in the store');
  const droppedPartitions = metrics.counter('store_partitions_dropped_total', 'partitions dropped by retention', [
    'reason',
  ]);
  const uveGauge = metrics.gauge('uves', 'UVE entities known', ['type']);
  let lastSize = store.sizeBytes();
  let droppedForRoom = 0;

  const alarms = new AlarmEngine(
    uves,
    () => ({
      sizeBytes: lastSize,
      maxBytes: settings.maxBytes,
      alarmRatio: settings.diskAlarmRatio,
      lastFullMs: store.lastDiskFullMs,
      droppedForRoom,
      type: 'analytics',
      name: settings.host,
    }),
    metrics.gauge('alarms_active', 'active alarms', ['rule']),
  );
  // Rules read every entity, so a burst of UVE changes is evaluated once, a moment later.
  let evaluationScheduled = false;
  uves.on('change', () => {
    if (evaluationScheduled) return;
    evaluationScheduled = true;
    setTimeout(() => {
      evaluationScheduled = false;
      alarms.evaluate();
    }, 50).unref();
  });

  const link = new NatsLink({
    servers: settings.natsUrl,
    name: `weft-analytics-${settings.host}`,
    tls: settings.tls,
    logger,
    metrics,
    readiness,
  });
  const publisher = new UvePublisher({ link, source: `analytics:${settings.host}`, logger });
  const ingestMetrics = {
    records: metrics.counter('records_stored_total', 'records stored', ['table']),
    duplicates: metrics.counter('records_duplicate_total', 'redelivered records not stored again', ['table']),
    expired: metrics.counter('records_expired_total', 'records older than retention, not stored', ['table']),
    malformed: metrics.counter('messages_malformed_total', 'messages that could not be read', ['stream']),
    commitFailures: metrics.counter('commit_failures_total', 'batches whose commit failed (retried)'),
  };

  let ingest: Ingest | undefined;
  let closed = false;
  readiness.declare('ingest', () => (ingest ? undefined : 'streams and consumers not set up yet'));
  readiness.declare('store', () =>
    lastSize <= settings.maxBytes ? undefined : `store over ${settings.maxBytes} bytes`,
  );

  const publishOwnUve = () => {
    publisher.set('analytics', settings.host, {
      process_state: 'running',
      nats_connected: link.isConnected,
      ingesting: ingest !== undefined,
      store_bytes: lastSize,
      store_max_bytes: settings.maxBytes,
      store_partitions: store.partitions().length,
      active_alarms: alarms.active().length,
    });
  };

  const runRetention = () => {
    try {
      const report = store.applyRetention();
      for (const partition of report.dropped) {
        droppedPartitions.inc({ reason: partition.endMs <= Date.now() - settings.retentionMs ? 'age' : 'size' });
      }
      if (report.dropped.length > 0)
        log.info({ dropped: report.dropped.map((p) => p.table) }, 'retention dropped partitions');
    } catch (error) {
      log.error({ err: error }, 'retention failed');
    }
    const forRoom = store.takeDiskFullDrops();
    if (forRoom.length > 0) {
      droppedForRoom += forRoom.length;
      droppedPartitions.inc({ reason: 'disk-full' }, forRoom.length);
      log.warn(
        { dropped: forRoom.map((p) => p.table) },
        'the file system is full: dropped the oldest partitions to keep taking new records',
      );
      alarms.evaluate();
    }
    lastSize = store.sizeBytes();
    storeBytes.set(lastSize);
    partitionsGauge.set(store.partitions().length);
    publishOwnUve();
  };

  const sweep = () => {
    const expired = uves.sweep();
    if (expired.length > 0) {
      store.deleteUveParts(expired);
      uves.apply([], expired);
    }
    uveGauge.reset();
    for (const [type, count] of uves.types()) uveGauge.set({ type }, count);
    alarms.evaluate();
  };

  const timers: NodeJS.Timeout[] = [];

  /** Sets up streams and consumers once NATS is reachable, retrying until it works or we close. */
  async function startIngest(): Promise<void> {
    const connection = await link.connection();
    for (let attempt = 1; !closed; attempt++) {
      const candidate = new Ingest({
        connection,
        store,
        uves,
        limits: { maxBytes: settings.streamMaxBytes, maxAgeMs: settings.streamMaxAgeMs },
        logger,
        metrics: ingestMetrics,
        ackWaitMs: settings.ackWaitMs,
        consumerName: settings.consumerName,
        statIntervalMs: settings.statIntervalMs,
      });
      try {
        await candidate.start();
        if (closed) {
          await candidate.close();
          return;
        }
        ingest = candidate;
        publishOwnUve();
        return;
      } catch (error) {
        await candidate.close().catch(() => {});
        log.warn({ err: error, attempt }, 'cannot set up JetStream streams yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(500 * attempt, 5_000)));
      }
    }
  }

  const app = createHttpApp({ logger, readiness, metrics, tls: settings.httpTls });
  // The token on every route but the probes, then a rate per tenant token, as config-api's REST.
  // Flows, logs and UVEs cross tenants: the routes give a tenant his projects' only (rest/tenancy.ts).
  if (authenticator) await registerAuthentication(app, authenticator, { rateLimit: settings.rateLimit });
  const openStream = registerSseStreams(app);
  registerUveRoutes(app, uves, alarms, openStream);
  const queries = new QueryPool(store, settings.queryTimeoutMs, settings.queryWorkers);
  registerQueryRoutes(
    app,
    queries,
    metrics.histogram('query_seconds', 'time to answer POST /analytics/query', ['table']),
  );
  registerAlarmRoutes(app, alarms, openStream);

  return {
    app,
    store,
    uves,
    alarms,
    link,
    settings,
    /** Starts timers and ingest; resolves once the streams and consumers exist. */
    start(): Promise<void> {
      runRetention();
      sweep();
      timers.push(
        setInterval(runRetention, settings.retentionIntervalMs),
        setInterval(sweep, settings.sweepIntervalMs),
      );
      for (const timer of timers) timer.unref();
      return startIngest();
    },
    async close(): Promise<void> {
      closed = true;
      for (const timer of timers) clearInterval(timer);
      await app.close();
      await queries.close();
      await ingest?.close();
      await publisher.close();
      await link.close();
      store.close();
    },
  };
}

export type Analytics = Awaited<ReturnType<typeof buildAnalytics>>;
