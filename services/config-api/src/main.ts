#!/usr/bin/env node
// weft-config-api: reads WEFT_* options (./options.ts), starts REST and gRPC, stops cleanly on
// SIGTERM.
//
//   weft-config-api               run
//   weft-config-api export > FILE write the whole data set of the store the options name
//   weft-config-api import < FILE load such a data set into an empty store
import { authSettingsOf, startDaemon } from '@weft/kit';
import { configApiOptions } from './options.js';
import { listenConfigApi } from './start.js';
import type { EtcdConnection } from './store/open.js';
import { runTransfer, TRANSFER_COMMANDS } from './store/transfer-command.js';

const command = TRANSFER_COMMANDS.find((name) => name === process.argv[2]);
if (command) process.argv.splice(2, 1);
const daemon = startDaemon('config-api', configApiOptions, { logToStderr: command !== undefined });
const { config, tls, httpTls, logger, metrics, readiness, lifecycle } = daemon;
const etcd: EtcdConnection = {
  endpoints: config.etcdEndpoints,
  prefix: config.etcdPrefix,
  timeoutMs: config.etcdTimeout,
  compactIntervalMs: config.etcdCompactInterval,
  caFile: config.etcdCa,
  certFile: config.etcdCert,
  keyFile: config.etcdKey,
  username: config.etcdUsername,
  password: config.etcdPassword,
};

if (command) {
  process.exit(await runTransfer(command, { ...config, kind: config.store, etcd, logger }));
}

try {
  const api = await listenConfigApi({
    ...config,
    store: config.store,
    etcd,
    tls,
    httpTls,
    auth: authSettingsOf(config),
    rateLimit: config.rateLimit,
    logger,
    metrics,
    readiness,
  });
  lifecycle.onStop('config-api', () => api.close());
} catch (error) {
  logger.fatal({ err: error }, 'config-api failed to start');
  process.exit(1);
}
