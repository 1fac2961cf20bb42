#!/usr/bin/env node
// weft-analytics: reads its options (WEFT_* or flags), builds the app, listens, ingests, and
// stops cleanly on SIGTERM/SIGINT.
import { Authenticator, authSettingsOf, startDaemon } from '@weft/kit';
import { buildAnalytics } from './app.js';
import { analyticsOptions } from './options.js';

const { config, tls, httpTls, logger, metrics, readiness, lifecycle } = startDaemon('analytics', analyticsOptions);
const {
  diskAlarmPercent,
  restPort,
  restHost,
  authMode,
  authTokensFile,
  authJwks,
  authJwtIssuer,
  authJwtAudience,
  ...options
} = config;
let analytics: Awaited<ReturnType<typeof buildAnalytics>>;
try {
  const authenticator = new Authenticator(
    authSettingsOf({ authMode, authTokensFile, authJwks, authJwtIssuer, authJwtAudience, stateDir: config.stateDir }),
    { logger, host: restHost },
  );
  analytics = await buildAnalytics(
    { ...options, tls, httpTls, diskAlarmRatio: diskAlarmPercent / 100 },
    { logger, metrics, readiness, authenticator },
  );
} catch (error) {
  // A wrong combination of options (or an unreadable state dir): one line and exit 2, as for
  // a wrong single option.
  process.stderr.write(`weft-analytics: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
lifecycle.onStop('analytics', () => analytics.close());
await analytics.app.listen({ port: restPort, host: restHost });
logger.info({ restPort, natsUrl: config.natsUrl, stateDir: config.stateDir }, 'analytics listening');
analytics.start().catch((error) => logger.error({ err: error }, 'ingest did not start'));
