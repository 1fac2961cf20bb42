#!/usr/bin/env node
// weft-config-api: reads WEFT_* options, starts REST and gRPC, stops cleanly on SIGTERM.
import { option, startDaemon } from '@weft/kit';
import { listenConfigApi } from './start.js';

const daemon = startDaemon('config-api', {
  restPort: option.port('WEFT_CONFIG_API_REST_PORT', 'REST (VNC API) port', 8082),
  grpcPort: option.port('WEFT_CONFIG_API_GRPC_PORT', 'gRPC weft.config.v1.Config port', 8090),
  host: option.string('WEFT_CONFIG_API_HOST', 'listen address for REST and gRPC', '0.0.0.0'),
  changeLogKeep: option.integer(
    'WEFT_CONFIG_API_CHANGE_LOG_KEEP',
    'change-log entries kept for Watch (older ones are trimmed)',
    100_000,
    1,
  ),
  synchronous: option.oneOf(
    'WEFT_CONFIG_API_SYNC',
    'full: every answered write is on disk (survives power loss); normal: survives kill -9, not power loss',
    ['full', 'normal'] as const,
    'full',
  ),
});

const { config, tls, logger, metrics, readiness, lifecycle } = daemon;
try {
  const api = await listenConfigApi({ ...config, tls, logger, metrics, readiness });
  lifecycle.onStop('config-api', () => api.close());
} catch (error) {
  logger.fatal({ err: error }, 'config-api failed to start');
  process.exit(1);
}
