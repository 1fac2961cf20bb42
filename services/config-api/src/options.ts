// Every option of weft-config-api, declared once: main.ts reads them, --help and the README's
// table are made from them, and the chart, the local stack, the image runner and the lab are
// checked against them (test/e2e/options.test.ts, test/e2e/charts.test.ts).
import { authOptions, commonOptions, option } from '@weft/kit';

export const configApiOptions = {
  restPort: option.port('WEFT_CONFIG_API_REST_PORT', 'REST (VNC API) port (0: any free port)', 8082, {
    listen: 'tcp',
  }),
  grpcPort: option.port('WEFT_CONFIG_API_GRPC_PORT', 'gRPC weft.config.v1.Config port (0: any free port)', 8090, {
    listen: 'tcp',
  }),
  host: option.string('WEFT_CONFIG_API_HOST', 'listen address for REST and gRPC', '0.0.0.0'),
  changeLogKeep: option.integer(
    'WEFT_CONFIG_API_CHANGE_LOG_KEEP',
    'change-log entries kept for Watch (older ones are trimmed)',
    100_000,
    1,
  ),
  store: option.oneOf(
    'WEFT_STORE',
    'sqlite: one file in WEFT_STATE_DIR, one replica; etcd: one data set shared by every replica on WEFT_ETCD_ENDPOINTS',
    ['sqlite', 'etcd'] as const,
    'sqlite',
  ),
  synchronous: option.oneOf(
    'WEFT_CONFIG_API_SYNC',
    'SQLite: full: every answered write is on disk (survives power loss); normal: survives kill -9, not power loss',
    ['full', 'normal'] as const,
    'full',
  ),
  etcdEndpoints: option.urls(
    'WEFT_ETCD_ENDPOINTS',
    'etcd: client URLs of the cluster members',
    ['http://127.0.0.1:2379'],
    ['http', 'https'],
  ),
  etcdPrefix: option.required(
    'WEFT_ETCD_PREFIX',
    'etcd: every key of the data set lives under this prefix',
    '/weft/config/',
  ),
  etcdTimeout: option.duration(
    'WEFT_ETCD_TIMEOUT',
    'etcd: a write or read that etcd does not confirm within this fails with 503 STORE_UNAVAILABLE',
    5_000,
  ),
  etcdCompactInterval: option.duration(
    'WEFT_ETCD_COMPACT_INTERVAL',
    "etcd: how often etcd's history is compacted to what the previous round had seen (0: never, when etcd compacts itself)",
    300_000,
  ),
  etcdCa: option.string('WEFT_ETCD_CA', 'etcd: PEM CA bundle that signs the members (https endpoints)', ''),
  etcdCert: option.string('WEFT_ETCD_CERT', 'etcd: PEM client certificate, for members that require one', ''),
  etcdKey: option.string('WEFT_ETCD_KEY', 'etcd: PEM private key of that certificate', ''),
  etcdUsername: option.string('WEFT_ETCD_USERNAME', 'etcd: user name when etcd authentication is on', ''),
  etcdPassword: option.string('WEFT_ETCD_PASSWORD', 'etcd: password of that user', '', { secret: true }),
  ...authOptions,
  rateLimit: option.integer(
    'WEFT_CONFIG_API_RATE_LIMIT',
    'REST requests per minute one tenant token may make, and as many gRPC calls (counted apart); more answer 429 or RESOURCE_EXHAUSTED (cloud-admin tokens are not limited; 0: no limit)',
    6_000,
    0,
  ),
  bodyLimit: option.integer(
    'WEFT_CONFIG_API_BODY_LIMIT',
    'largest REST request body, in bytes (larger: 413)',
    1024 * 1024,
    1024,
  ),
};

/** Everything weft-config-api takes: the kit's common options and its own. */
export const declaredOptions = { ...commonOptions, ...configApiOptions };
