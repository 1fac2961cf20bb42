// @weft/config-api: what other packages' tests may use. startConfigApi runs the whole service
// in this process, on the given ports (0 or none: free ones), with its SQLite file in stateDir.
import { type AuthSettings, createLogger, createMetrics, Readiness } from '@weft/kit';
import { listenConfigApi, type RunningConfigApi } from './start.js';
import type { EtcdConnection } from './store/open.js';

export {
  type ConfigObjectOf,
  type InstanceIp,
  model,
  type NetworkPolicy,
  type Reference,
  type ResourceTypeName,
  resources,
  type SecurityGroup,
  type VirtualMachineInterface,
  type VirtualNetwork,
  type VirtualRouter,
} from '@weft/model';
export { CHANGES_SUBJECT, changeEventCodec } from './events/publisher.js';
export { configApiOptions, declaredOptions } from './options.js';
export type { EtcdConnection } from './store/open.js';
export type { RunningConfigApi };

export interface StartConfigApiOptions {
  stateDir: string;
  natsUrl?: string[];
  restPort?: number;
  grpcPort?: number;
  /** Listen address; 127.0.0.1 when not given. */
  host?: string;
  /** pino level; "warn" when not given. */
  logLevel?: string;
  /** Change-log entries kept for Watch. */
  changeLogKeep?: number;
  /** The store: SQLite in stateDir (the default), or etcd. */
  store?: 'sqlite' | 'etcd';
  etcd?: EtcdConnection;
  /** Authentication; none: no-auth (allowed on loopback only). */
  auth?: AuthSettings;
  /** REST requests, and gRPC calls, per minute per tenant token (0, the default: no limit). */
  rateLimit?: number;
  /** Largest REST body in bytes. */
  bodyLimit?: number;
}

export function startConfigApi(options: StartConfigApiOptions): Promise<RunningConfigApi> {
  return listenConfigApi({
    stateDir: options.stateDir,
    natsUrl: options.natsUrl,
    restPort: options.restPort ?? 0,
    grpcPort: options.grpcPort ?? 0,
    host: options.host ?? '127.0.0.1',
    changeLogKeep: options.changeLogKeep,
    store: options.store,
    etcd: options.etcd,
    auth: options.auth ?? { mode: 'no-auth' },
    rateLimit: options.rateLimit,
    bodyLimit: options.bodyLimit,
    logger: createLogger({ service: 'config-api', level: options.logLevel ?? 'warn' }),
    metrics: createMetrics('config-api'),
    readiness: new Readiness(),
  });
}
