#!/usr/bin/env node
// weft-control: reads its options (WEFT_* env or flags), starts, and stops on SIGTERM/SIGINT.
import { startDaemon } from '@weft/kit';
import { buildControl } from './app.js';
import { controlOptions } from './options.js';

const daemon = startDaemon('control', controlOptions);
const { config, tls, httpTls, logger, metrics, readiness, lifecycle } = daemon;
if (config.bgpSpeaker && !config.bgpRouterId) {
  logger.fatal('WEFT_CONTROL_BGP_ROUTER_ID: needed with WEFT_CONTROL_BGP_SPEAKER (the BGP router id, an IPv4 address)');
  process.exit(2);
}

const control = buildControl({
  configApiGrpc: config.configApiGrpc,
  configApiTokenFile: config.configApiTokenFile,
  configApiToken: config.configApiToken,
  natsUrl: config.natsUrl,
  agentPort: config.agentPort,
  httpPort: config.httpPort,
  host: config.host,
  agentHoldTimeMs: config.agentHoldTime,
  agentStaleTimeMs: config.agentStaleTime,
  agentIdentity: config.agentIdentity,
  name: config.name,
  ...(config.bgpSpeaker
    ? {
        bgp: {
          speaker: config.bgpSpeaker,
          asn: config.bgpAsn,
          routerId: config.bgpRouterId,
          peers: config.bgpPeers,
          restartTimeSeconds: Math.ceil(config.bgpRestartTime / 1000),
          syncIntervalMs: 1_000,
        },
      }
    : {}),
  tls,
  httpTls,
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
