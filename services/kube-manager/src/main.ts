#!/usr/bin/env node
// weft-kube-manager: reads its options (WEFT_* or flags), serves health and metrics, takes the
// leader Lease, then turns Kubernetes objects into Weft config until SIGTERM/SIGINT.
import { startDaemon } from '@weft/kit';
import { buildKubeManager } from './app.js';
import { kubeManagerOptions } from './options.js';

const { config, tls, httpTls, logger, metrics, readiness, lifecycle } = startDaemon('kube-manager', kubeManagerOptions);
const { httpPort, httpHost, configApiUrl, ...options } = config;
let manager: ReturnType<typeof buildKubeManager>;
try {
  manager = buildKubeManager(
    { ...options, configApiUrl: configApiUrl[0]! },
    {
      logger,
      metrics,
      readiness,
      httpTls,
      tls,
      onLeadershipLost: () => {
        // As client-go's users do: a replica that lost the Lease exits, and a fresh one competes again.
        logger.fatal('lost leadership; exiting');
        process.exit(1);
      },
    },
  );
} catch (error) {
  process.stderr.write(`weft-kube-manager: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
lifecycle.onStop('kube-manager', () => manager.close());
await manager.app.listen({ port: httpPort, host: httpHost });
logger.info(
  { httpPort, configApiUrl: configApiUrl[0], kubeApiUrl: options.kubeApiUrl || '(in-cluster)' },
  'kube-manager listening',
);
manager.start().catch((error) => {
  logger.fatal({ err: error }, 'kube-manager stopped');
  process.exit(1);
});
