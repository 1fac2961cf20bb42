#!/usr/bin/env node
// weft-control: reads its options (WEFT_* env or flags), starts, and stops on SIGTERM/SIGINT.
import { hostname } from 'node:os';
import { type OptionSpec, option, startDaemon } from '@weft/kit';
import { buildControl } from './app.js';

/** host:port, with an IPv6 host in brackets. */
function address(env: string, description: string, defaultValue: string): OptionSpec<string> {
  return {
    env,
    description,
    default: defaultValue,
    expected: 'host:port, e.g. 127.0.0.1:8090 or [::1]:8090',
    parse: (raw) => {
      const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(raw.trim());
      return match && Number(match[2]) > 0 && Number(match[2]) <= 65535 ? raw.trim() : undefined;
    },
  };
}

const daemon = startDaemon('control', {
  configApiGrpc: address('WEFT_CONFIG_API_GRPC', "host:port of config-api's gRPC Config service", '127.0.0.1:8090'),
  agentPort: option.port('WEFT_CONTROL_AGENT_PORT', 'gRPC port agents connect to', 5269),
  httpPort: option.port('WEFT_CONTROL_HTTP_PORT', 'HTTP port for health, metrics and introspection', 8083),
  host: option.required('WEFT_CONTROL_HOST', 'address to listen on', '0.0.0.0'),
  agentHoldTime: option.duration(
    'WEFT_CONTROL_AGENT_HOLD_TIME',
    "how long a disconnected agent's routes stay before they are withdrawn",
    30_000,
  ),
  name: option.required('WEFT_CONTROL_NAME', 'name of this replica in UVEs', hostname()),
});
const { config, tls, logger, metrics, readiness, lifecycle } = daemon;

const control = buildControl({
  configApiGrpc: config.configApiGrpc,
  natsUrl: config.natsUrl,
  agentPort: config.agentPort,
  httpPort: config.httpPort,
  host: config.host,
  agentHoldTimeMs: config.agentHoldTime,
  name: config.name,
  tls,
  logger,
  metrics,
  readiness,
});
lifecycle.onStop('control', () => control.close());
control.listen().then(
  (ports) => logger.info({ ...ports, configApi: config.configApiGrpc }, 'control started'),
  (error) => {
    logger.fatal({ err: error }, 'control failed to start');
    process.exit(1);
  },
);
