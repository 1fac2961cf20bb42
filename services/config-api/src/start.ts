// Binds a built config-api to its REST and gRPC ports; shared by main.ts and startConfigApi.
import {
  Authenticator,
  type AuthSettings,
  type Logger,
  type Metrics,
  type Readiness,
  startGrpcServer,
  type TlsFiles,
} from '@weft/kit';
import { loadConfigProto } from '@weft/proto';
import { buildConfigApi } from './app.js';
import type { EtcdConnection } from './store/open.js';

export interface ListenOptions {
  stateDir: string;
  store?: 'sqlite' | 'etcd';
  etcd?: EtcdConnection;
  natsUrl?: string[];
  restPort: number;
  grpcPort: number;
  host: string;
  changeLogKeep?: number;
  synchronous?: 'full' | 'normal';
  /** TLS for gRPC and NATS; plaintext when not given. */
  tls?: TlsFiles;
  /** HTTPS for REST (WEFT_HTTP_TLS); plain HTTP when not given. */
  httpTls?: TlsFiles;
  /** Authentication: the mode and where tokens and JWT keys come from. */
  auth: AuthSettings;
  /** REST requests, and gRPC calls, per minute per tenant token (0: no limit). */
  rateLimit?: number;
  /** Largest REST body in bytes. */
  bodyLimit?: number;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
}

export interface RunningConfigApi {
  restUrl: string;
  grpcAddress: string;
  close(): Promise<void>;
}

/** Where a client on this machine reaches a server bound to `host`. */
function reachable(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function listenConfigApi(options: ListenOptions): Promise<RunningConfigApi> {
  let restUrl = '';
  const authenticator = new Authenticator(options.auth, { logger: options.logger, host: options.host });
  const api = await buildConfigApi({ ...options, authenticator, hrefBase: () => restUrl });
  try {
    await api.http.listen({ host: options.host, port: options.restPort });
  } catch (error) {
    await api.close();
    throw error;
  }
  const address = api.http.server.address();
  const restPort = typeof address === 'object' && address ? address.port : options.restPort;
  restUrl = `${options.httpTls ? 'https' : 'http'}://${reachable(options.host)}:${restPort}`;
  const grpc = await startGrpcServer({
    host: options.host,
    port: options.grpcPort,
    tls: options.tls,
    logger: options.logger,
    register: (server) => server.addService(loadConfigProto().weft.config.v1.Config.service, api.grpc.handlers),
  });
  options.logger.info({ restUrl, grpcPort: grpc.port }, 'config-api listening');
  let closing: Promise<void> | undefined;
  return {
    restUrl,
    grpcAddress: `${reachable(options.host)}:${grpc.port}`,
    close: () => {
      closing ??= (async () => {
        api.grpc.endWatches();
        await grpc.stop(2_000);
        await api.close();
      })();
      return closing;
    },
  };
}
