// The audit of config-api: every write attempt (REST and gRPC, allowed or refused) as who, what,
// when and how it ended. Each goes to the log and, as a "config.change" event, to analytics over
// NATS (weft.log.config-api), where MessageTable answers "who changed what, when".
import { hostname } from 'node:os';
import { type Identity, type Logger, type NatsLink, publishLog } from '@weft/kit';

export interface AuditEntry {
  /** Who: the user of the token (none when the token was refused), and how he was proven. */
  user: string;
  via: string;
  /** What: the request and the object it named. */
  method: string;
  path: string;
  type?: string;
  uuid?: string;
  /** How it ended: the HTTP status (for gRPC, the one REST answers alike) and a refusal's code. */
  status: number;
  code?: string;
}

export class Audit {
  readonly #log: Logger;
  readonly #host = hostname();

  constructor(
    logger: Logger,
    readonly nats: NatsLink | undefined,
  ) {
    this.#log = logger.child({ component: 'audit' });
  }

  record(entry: AuditEntry): void {
    // When is the record's own timestamp (the log line's, and the event's timestamp_ms).
    this.#log.info({ audit: entry }, 'config change');
    if (!this.nats) return;
    const what = [entry.method, entry.type, entry.uuid].filter(Boolean).join(' ');
    publishLog(this.nats, {
      service: 'config-api',
      host: this.#host,
      level: entry.status < 400 ? 'LOG_LEVEL_INFO' : 'LOG_LEVEL_WARN',
      message: `${entry.user} ${what}: ${entry.code ?? entry.status}`,
      fields_json: JSON.stringify(entry),
      event: 'config.change',
    });
  }
}

/** Who, for the audit: a refused caller has no identity. */
export const whoOf = (identity: Identity | undefined) => ({
  user: identity?.user ?? '(unauthenticated)',
  via: identity?.via ?? 'none',
});
