// @weft/kit: what every Weft daemon is built from. Services import from here only; test
// helpers are in @weft/kit/testing.

export {
  type AuthConfig,
  Authenticator,
  type AuthSettings,
  authErrors,
  authSettingsOf,
  type Credentials,
  isLoopback,
  tokenOf,
} from './auth/authenticator.js';
export { authErrorDefinitions } from './auth/errors.js';
export { authenticateRequests, limitRate, OPEN_ROUTES, registerAuthentication } from './auth/http.js';
export {
  type GlobalRole,
  type Identity,
  isCloudAdmin,
  NO_AUTH_IDENTITY,
  type ProjectRole,
  readsAll,
} from './auth/identity.js';
export {
  AUTH_MODES,
  type AuthMode,
  authOptions,
  configApiTokenOf,
  configApiTokenOptions,
} from './auth/options.js';
export { adminTokenPathOf, ensureTokensFile, newToken } from './auth/tokens-file.js';
export {
  ConfigError,
  type ConfigOf,
  type ConfigSpec,
  describeConfig,
  flagName,
  loadConfig,
  loadConfigOrExit,
  type OptionSpec,
  option,
  optionsJson,
  optionsTable,
  UnknownOptionError,
} from './config.js';
export { commonOptions, type Daemon, startDaemon } from './daemon.js';
export {
  defineErrors,
  type ErrorCatalog,
  type ErrorDefinition,
  type ErrorDetails,
  GrpcStatus,
  grpcStatusOf,
  WeftError,
} from './errors.js';
export {
  GRPC_KEEPALIVE,
  type GrpcServerHandle,
  grpcChannelCredentials,
  grpcServerCredentials,
  startGrpcServer,
  type TlsFiles,
  tlsFilesOf,
} from './grpc.js';
export { Readiness, type ReadinessCheck, type ReadinessReport } from './health.js';
export { createHttpApp, fieldFromInstancePath, registerErrorHandler, registerOpsRoutes } from './http.js';
export { createLogger, LOG_LEVELS, type Logger, REDACTED_PATHS } from './logger.js';
export { Counter, createMetrics, Gauge, Histogram, LATENCY_BUCKETS, type Metrics } from './metrics.js';
export { type NatsConnection, NatsLink, type NatsLinkOptions } from './nats.js';
export {
  CONFIG_CHANGES_SUBJECT,
  NATS_PERMISSIONS,
  type NatsPermissions,
  type NatsServerConfigOptions,
  type NatsService,
  natsServerConfig,
  natsUserOf,
} from './nats-permissions.js';
export { Lifecycle } from './shutdown.js';
export {
  DEFAULT_UVE_TTL_MS,
  FLOW_SUBJECT_PREFIX,
  LOG_SUBJECT_PREFIX,
  PROJECT_UVE_TYPES,
  publishFlows,
  publishLog,
  subjectToken,
  UVE_SUBJECT_PREFIX,
  type UveFields,
  UvePublisher,
  type UvePublisherOptions,
} from './uve.js';
