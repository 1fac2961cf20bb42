// Every option of weft-analytics, declared once: main.ts reads them, --help and the README's table
// are made from them, and the chart, the local stack, the image runner and the lab are checked
// against them (test/e2e/options.test.ts, test/e2e/charts.test.ts).
import { hostname } from 'node:os';
import { authOptions, commonOptions, option } from '@weft/kit';
import { DEFAULTS } from './app.js';

export const analyticsOptions = {
  restPort: option.port('WEFT_REST_PORT', 'REST listen port', 8081, { listen: 'tcp' }),
  restHost: option.string('WEFT_REST_HOST', 'REST listen address', '0.0.0.0'),
  host: {
    ...option.required('WEFT_HOST', "this host's name, in analytics' own UVE", hostname()),
    shownDefault: 'the host name',
  },
  partitionMs: option.duration('WEFT_ANALYTICS_PARTITION', 'length of one store partition', DEFAULTS.partitionMs),
  retentionMs: option.duration('WEFT_ANALYTICS_RETENTION', 'records older than this are dropped', DEFAULTS.retentionMs),
  maxBytes: option.integer(
    'WEFT_ANALYTICS_MAX_BYTES',
    'the store is kept under this many bytes on disk',
    DEFAULTS.maxBytes,
    1024 * 1024,
  ),
  diskAlarmPercent: option.integer(
    'WEFT_ANALYTICS_DISK_ALARM_PERCENT',
    'disk alarm above this % of max bytes',
    90,
    1,
    100,
  ),
  retentionIntervalMs: option.duration(
    'WEFT_ANALYTICS_RETENTION_INTERVAL',
    'how often retention runs',
    DEFAULTS.retentionIntervalMs,
  ),
  streamMaxBytes: option.integer(
    'WEFT_ANALYTICS_STREAM_MAX_BYTES',
    'limit of each JetStream stream (the buffer while analytics is away)',
    DEFAULTS.streamMaxBytes,
    1024 * 1024,
  ),
  streamMaxAgeMs: option.duration(
    'WEFT_ANALYTICS_STREAM_MAX_AGE',
    'age limit of each JetStream stream',
    DEFAULTS.streamMaxAgeMs,
  ),
  uveTtlMs: option.duration('WEFT_ANALYTICS_UVE_TTL', 'ttl of UVE parts sent without one', DEFAULTS.uveTtlMs),
  ackWaitMs: option.duration(
    'WEFT_ANALYTICS_ACK_WAIT',
    'how long the bus waits for an ack before redelivering to analytics',
    DEFAULTS.ackWaitMs,
  ),
  queryTimeoutMs: option.duration(
    'WEFT_ANALYTICS_QUERY_TIMEOUT',
    'a query running longer is stopped (504)',
    DEFAULTS.queryTimeoutMs,
  ),
  queryWorkers: option.integer(
    'WEFT_ANALYTICS_QUERY_WORKERS',
    'queries run side by side, each on a worker thread with a bounded heap: a slow query holds up only its own',
    DEFAULTS.queryWorkers,
    1,
    16,
  ),
  consumerName: option.required(
    'WEFT_ANALYTICS_CONSUMER',
    'JetStream durable consumer name; give each analytics replica its own to give each every record',
    DEFAULTS.consumerName,
  ),
  statIntervalMs: option.duration(
    'WEFT_ANALYTICS_STAT_INTERVAL',
    'at most one StatTable.UveStat sample per UVE part per this interval',
    DEFAULTS.statIntervalMs,
  ),
  uveExpiryMs: option.duration(
    'WEFT_ANALYTICS_UVE_EXPIRY',
    'stale UVE parts are forgotten after this',
    DEFAULTS.uveExpiryMs,
  ),
  ...authOptions,
  rateLimit: option.integer(
    'WEFT_ANALYTICS_RATE_LIMIT',
    'REST requests per minute one tenant token may make; more answer 429 (cloud-admin tokens are not limited; 0: no limit)',
    DEFAULTS.rateLimit,
    0,
  ),
};

/** Everything weft-analytics takes: the kit's common options and its own. */
export const declaredOptions = { ...commonOptions, ...analyticsOptions };
