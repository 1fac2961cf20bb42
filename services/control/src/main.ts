#!/usr/bin/env node
// weft-control: reads its options (WEFT_* env or flags), starts, and stops on SIGTERM/SIGINT.
import { startDaemon } from '@weft/kit';
import { buildControl } from './app.js';
import { controlOptions } from './options.js';

const daemon = startDaemon('control', controlOptions);
const { config, tls, logger, metrics, readiness, lifecycle } = daemon;

const control = buildControl({
  configApiGrpc: config.configApiGrpc,
  configApiTokenFile: config.configApiTokenFile,
  configApiToken: config.configApiToken,
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
