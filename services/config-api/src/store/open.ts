// Opens the store that WEFT_STORE names: SQLite (one file under the state dir) or etcd (the
// data set every replica on the cluster shares).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Logger } from '@weft/kit';
import { EtcdStore } from './etcd.js';
import { SqliteStore } from './sqlite.js';
import type { ConfigStore } from './store.js';

export const DB_FILE = 'config.sqlite';

export interface EtcdConnection {
  endpoints: string[];
  prefix?: string;
  timeoutMs?: number;
  compactIntervalMs?: number;
  /** Paths of PEM files; empty or absent: none. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
}

export interface StoreOptions {
  kind?: 'sqlite' | 'etcd';
  /** SQLite: the directory of config.sqlite. */
  stateDir: string;
  synchronous?: 'full' | 'normal';
  etcd?: EtcdConnection;
  changeLogKeep?: number;
  observeCommit?: (seconds: number) => void;
  /** etcd: a write ran again because another changed what it read. */
  observeConflict?: () => void;
  logger?: Logger;
}

function pem(option: string, path: string | undefined): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(option, path, `a readable PEM file (${(error as Error).message})`);
  }
}

export async function openStore(options: StoreOptions): Promise<ConfigStore> {
  if (options.kind !== 'etcd') {
    return new SqliteStore({
      path: join(options.stateDir, DB_FILE),
      changeLogKeep: options.changeLogKeep,
      synchronous: options.synchronous,
      observeCommit: options.observeCommit,
    });
  }
  const etcd = options.etcd;
  if (!etcd || etcd.endpoints.length === 0) {
    throw new ConfigError('WEFT_ETCD_ENDPOINTS', '', 'the client URLs of the etcd members when WEFT_STORE=etcd');
  }
  if (Boolean(etcd.certFile) !== Boolean(etcd.keyFile)) {
    throw new ConfigError(
      'WEFT_ETCD_CERT',
      etcd.certFile ?? '',
      'a certificate and WEFT_ETCD_KEY together, or neither',
    );
  }
  if (Boolean(etcd.username) !== Boolean(etcd.password)) {
    throw new ConfigError(
      'WEFT_ETCD_USERNAME',
      etcd.username ?? '',
      'a user name and WEFT_ETCD_PASSWORD together, or neither',
    );
  }
  return EtcdStore.open({
    endpoints: etcd.endpoints,
    prefix: etcd.prefix,
    timeoutMs: etcd.timeoutMs,
    compactIntervalMs: etcd.compactIntervalMs,
    tls: {
      ca: pem('WEFT_ETCD_CA', etcd.caFile),
      cert: pem('WEFT_ETCD_CERT', etcd.certFile),
      key: pem('WEFT_ETCD_KEY', etcd.keyFile),
    },
    auth: etcd.username ? { username: etcd.username, password: etcd.password ?? '' } : undefined,
    changeLogKeep: options.changeLogKeep,
    observeCommit: options.observeCommit,
    observeConflict: options.observeConflict,
    logger: options.logger,
  });
}
