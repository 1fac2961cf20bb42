// The common start of every daemon's main: options shared by all daemons, the config, a
// logger, metrics, readiness and the shutdown lifecycle, built in one call.

import pino from 'pino';
import { type ConfigOf, type ConfigSpec, loadConfigOrExit, option } from './config.js';
import { type TlsFiles, tlsFilesOf } from './grpc.js';
import { Readiness } from './health.js';
import { createLogger, LOG_LEVELS, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { Lifecycle } from './shutdown.js';

/** Options every daemon takes; a service spreads these into its own spec. */
export const commonOptions = {
  logLevel: option.oneOf('WEFT_LOG_LEVEL', 'log level', LOG_LEVELS, 'info'),
  stateDir: option.required('WEFT_STATE_DIR', "directory for the daemon's state", '.weft'),
  natsUrl: option.urls('WEFT_NATS_URL', 'NATS servers', ['nats://127.0.0.1:4222'], ['nats', 'tls']),
  shutdownTimeout: option.duration('WEFT_SHUTDOWN_TIMEOUT', 'how long a stop may drain in-flight work', 10_000),
  tlsCert: option.string('WEFT_TLS_CERT', 'PEM certificate for gRPC and NATS; empty for plaintext', ''),
  tlsKey: option.string('WEFT_TLS_KEY', 'PEM private key of that certificate', ''),
  tlsCa: option.string(
    'WEFT_TLS_CA',
    'PEM CA bundle that signs the peers (and, on a server, requires client certificates)',
    '',
  ),
  httpTls: option.boolean(
    'WEFT_HTTP_TLS',
    'serve HTTP (REST, health, metrics) as HTTPS with WEFT_TLS_CERT and WEFT_TLS_KEY',
    false,
  ),
};

export interface Daemon<C> {
  config: C;
  /** The TLS files of WEFT_TLS_*, for gRPC and NATS; undefined for plaintext. */
  tls: TlsFiles | undefined;
  /** The certificate and key HTTP serves HTTPS with (WEFT_HTTP_TLS); undefined for plain HTTP. */
  httpTls: TlsFiles | undefined;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  lifecycle: Lifecycle;
}

/** For src/main.ts: loads the config (exiting 2 with one line when it is wrong) and builds the parts. */
export function startDaemon<S extends ConfigSpec>(
  service: string,
  spec: S,
  /** logToStderr: for a command whose stdout is its output (an export, say). */
  { logToStderr = false }: { logToStderr?: boolean } = {},
): Daemon<ConfigOf<S & typeof commonOptions>> {
  const config = loadConfigOrExit(service, { ...commonOptions, ...spec });
  const logger = createLogger({
    service,
    level: config.logLevel,
    ...(logToStderr ? { destination: pino.destination(2) } : {}),
  });
  const lifecycle = new Lifecycle(logger, config.shutdownTimeout);
  lifecycle.exitOnSignals();
  const tls = tlsFilesOf(config);
  if (config.httpTls && !(tls?.certFile && tls.keyFile)) {
    process.stderr.write(`weft-${service}: WEFT_HTTP_TLS: needs WEFT_TLS_CERT and WEFT_TLS_KEY to serve HTTPS with\n`);
    process.exit(2);
  }
  const httpTls = config.httpTls ? tls : undefined;
  return { config, tls, httpTls, logger, metrics: createMetrics(service), readiness: new Readiness(), lifecycle };
}
