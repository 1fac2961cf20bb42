// @weft/analytics public surface: start a whole analytics (for other packages' tests and the
// local stack), and the names of its tables and alarm rules.
import { Authenticator, type AuthSettings, createLogger, createMetrics, Readiness } from '@weft/kit';
import { type AnalyticsOptions, buildAnalytics } from './app.js';

export { RULES as ALARM_RULES } from './alarms/rules.js';
export type { AnalyticsOptions } from './app.js';
export { STREAMS } from './ingest/streams.js';
export { TABLES } from './store/tables.js';

export interface StartAnalyticsOptions extends AnalyticsOptions {
  /** REST port; 0 (the default here) picks a free one. */
  restPort?: number;
  /** Address to listen on; loopback by default. */
  restHost?: string;
  logLevel?: string;
  /** Who may query; none: every caller (a test on loopback). */
  auth?: AuthSettings;
}

export interface RunningAnalytics {
  /** e.g. "http://127.0.0.1:40123" */
  restUrl: string;
  close(): Promise<void>;
}

/**
 * Starts analytics in this process and resolves once its REST API listens and its JetStream
 * streams exist (so nothing published after this is lost).
 */
export async function startAnalytics(options: StartAnalyticsOptions): Promise<RunningAnalytics> {
  const { restPort = 0, restHost = '127.0.0.1', logLevel = 'warn', auth, ...rest } = options;
  const logger = createLogger({ service: 'analytics', level: logLevel });
  const authenticator = auth ? new Authenticator(auth, { logger, host: restHost }) : undefined;
  const analytics = await buildAnalytics(rest, {
    logger,
    metrics: createMetrics('analytics'),
    readiness: new Readiness(),
    ...(authenticator ? { authenticator } : {}),
  });
  try {
    await analytics.app.listen({ port: restPort, host: restHost });
    await analytics.start();
  } catch (error) {
    await analytics.close().catch(() => {});
    throw error;
  }
  const address = analytics.app.server.address();
  const port = typeof address === 'object' && address ? address.port : restPort;
  return { restUrl: `http://${restHost}:${port}`, close: () => analytics.close() };
}
/** The default store, for tools and benchmarks that fill or read a state dir directly. */
export { SqliteStore } from './store/sqlite-store.js';
