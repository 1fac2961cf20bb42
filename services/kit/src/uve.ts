// What a service tells analytics about itself, over NATS (contract: proto/weft/analytics/v1):
//   - its parts of user-visible entities (UVEs) on weft.uve.<type>, re-published before their
//     ttl runs out so analytics can tell a live source from a dead one;
//   - flow records on weft.flow.<host> (FlowBatch) and log/event records on weft.log.<service>
//     (LogRecord), each with a record_id so that analytics stores a redelivered record once.
//
// Fields analytics' built-in alarms read (put them in your part when they apply):
//   process_state: "running" | …          any UVE: what the process says about itself
//   control_connected: boolean            "vrouter" UVE: a live control session (the part of source
//                                         "vrouter-agent:<host>" decides when it is fresh)
//   store_reachable: boolean              "config-api" UVE: the config store answers
//   last_refused_port_claim: {interface_uuid, reason, detail, at_ms}
//                                         "vrouter" UVE, control's part: the last port claim of
//                                         that host config did not back (refused_port_claims counts)
//   flow_export_dropping: boolean         "vrouter" UVE: flow records were dropped in the last
//                                         minute (NATS away longer than the agent's buffer lasts);
//                                         flow_records_dropped counts them since the agent started
//   state_write_error: string             "vrouter" UVE: what the agent could not write to its state
//                                         directory (a full disk), empty once a write succeeds
import { randomUUID } from 'node:crypto';
import { messageCodec } from '@weft/proto';
import type { FlowBatch } from '@weft/proto/gen/weft/analytics/v1/FlowBatch.js';
import type { FlowRecord } from '@weft/proto/gen/weft/analytics/v1/FlowRecord.js';
import type { LogRecord } from '@weft/proto/gen/weft/analytics/v1/LogRecord.js';
import type { Uve } from '@weft/proto/gen/weft/analytics/v1/Uve.js';
import type { Logger } from './logger.js';
import type { NatsConnection, NatsLink } from './nats.js';

export const UVE_SUBJECT_PREFIX = 'weft.uve.';
export const FLOW_SUBJECT_PREFIX = 'weft.flow.';
export const LOG_SUBJECT_PREFIX = 'weft.log.';

/**
 * UVE types named by the fq_name string of an object under a project: "default-domain:blue:web"
 * for a virtual network, "default-domain:blue:web:web" for its routing instance. analytics gives
 * a tenant the UVEs of these types under his projects and no others (vrouters, control,
 * analytics… are the system's); a publisher of a new per-tenant type names it so and lists it here.
 */
export const PROJECT_UVE_TYPES: readonly string[] = ['virtual-network', 'routing-instance'];

/** How long a UVE part stays fresh without a new report, unless the publisher says otherwise. */
export const DEFAULT_UVE_TTL_MS = 30_000;

const uveCodec = messageCodec<Uve, unknown>('weft.analytics.v1.Uve');
const flowBatchCodec = messageCodec<FlowBatch, unknown>('weft.analytics.v1.FlowBatch');
const logRecordCodec = messageCodec<LogRecord, unknown>('weft.analytics.v1.LogRecord');

/** A subject token from free text: NATS tokens cannot hold spaces, dots, or wildcards. */
export function subjectToken(text: string): string {
  const token = text.replace(/[\s.*>]/g, '_');
  return token === '' ? '_' : token;
}

/** The part of the link a publisher needs; a NatsLink has it. */
export type NatsSource = Pick<NatsLink, 'current' | 'connection'>;

export type UveFields = Record<string, unknown>;

export interface UvePublisherOptions {
  link: NatsSource;
  /** Who reports, "<service>:<host>", e.g. "control:ctl-1". */
  source: string;
  /** How long each part stays fresh; the publisher re-sends every entity at a third of it. */
  ttlMs?: number;
  logger?: Logger;
}

interface Entity {
  type: string;
  name: string;
  fields: UveFields;
}

/**
 * Keeps this source's parts of UVEs published: set() replaces a part, update() merges into it,
 * remove() withdraws it. Every part is re-sent before its ttl expires; after close() (or a crash)
 * the re-sends stop and analytics marks the parts stale, which is what raises "stopped reporting".
 */
export class UvePublisher {
  readonly source: string;
  readonly ttlMs: number;
  readonly #link: NatsSource;
  readonly #logger: Logger | undefined;
  readonly #entities = new Map<string, Entity>();
  readonly #dirty = new Set<string>();
  readonly #removed = new Map<string, { type: string; name: string }>();
  #flushScheduled = false;
  #closed = false;
  readonly #refresh: NodeJS.Timeout;

  constructor({ link, source, ttlMs = DEFAULT_UVE_TTL_MS, logger }: UvePublisherOptions) {
    if (!/^[^:\s]+:[^\s]+$/.test(source))
      throw new Error(`UVE source ${JSON.stringify(source)} is not "<service>:<host>"`);
    if (!(ttlMs >= 100)) throw new Error(`UVE ttlMs ${ttlMs} must be at least 100`);
    this.source = source;
    this.ttlMs = ttlMs;
    this.#link = link;
    this.#logger = logger?.child({ component: 'uve' });
    this.#refresh = setInterval(() => this.#publishAll(), Math.floor(ttlMs / 3));
    this.#refresh.unref();
    // Whatever was set before the bus came up goes out as soon as it does.
    link.connection().then(
      () => this.#publishAll(),
      () => {},
    );
  }

  /** Replaces this source's part of the entity with `fields`. */
  set(type: string, name: string, fields: UveFields): void {
    const key = entityKey(type, name);
    this.#entities.set(key, { type, name, fields: { ...fields } });
    this.#removed.delete(key);
    this.#markDirty(key);
  }

  /** Merges `fields` into this source's part (top-level keys), creating it when absent. */
  update(type: string, name: string, fields: UveFields): void {
    const current = this.#entities.get(entityKey(type, name));
    this.set(type, name, { ...current?.fields, ...fields });
  }

  /** This source's current part of an entity, as last set. */
  get(type: string, name: string): UveFields | undefined {
    return this.#entities.get(entityKey(type, name))?.fields;
  }

  /** Withdraws this source's part: analytics drops it (deleted=true), no stale alarm follows. */
  remove(type: string, name: string): void {
    const key = entityKey(type, name);
    if (!this.#entities.delete(key)) return;
    this.#removed.set(key, { type, name });
    this.#markDirty(key);
  }

  /** Stops re-sending and flushes what is pending. The parts go stale at analytics after their ttl. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    clearInterval(this.#refresh);
    const connection = this.#link.current;
    if (connection && !connection.isClosed()) await connection.flush().catch(() => {});
  }

  #markDirty(key: string) {
    if (this.#closed) return;
    this.#dirty.add(key);
    // Coalesces a burst of changes to one entity into one message.
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush() {
    this.#flushScheduled = false;
    const connection = this.#usableConnection();
    if (!connection) return; // the first connect publishes everything
    for (const key of this.#dirty) {
      const entity = this.#entities.get(key);
      const removed = this.#removed.get(key);
      if (entity) this.#publish(connection, entity, false);
      else if (removed) this.#publish(connection, { ...removed, fields: {} }, true);
    }
    this.#dirty.clear();
    this.#removed.clear();
  }

  #publishAll() {
    if (this.#closed) return;
    const connection = this.#usableConnection();
    if (!connection) return;
    for (const entity of this.#entities.values()) this.#publish(connection, entity, false);
    for (const removed of this.#removed.values()) this.#publish(connection, { ...removed, fields: {} }, true);
    this.#dirty.clear();
    this.#removed.clear();
  }

  #usableConnection(): NatsConnection | undefined {
    if (this.#closed) return undefined;
    const connection = this.#link.current;
    return connection && !connection.isClosed() ? connection : undefined;
  }

  #publish(connection: NatsConnection, entity: Entity, deleted: boolean) {
    try {
      connection.publish(
        UVE_SUBJECT_PREFIX + subjectToken(entity.type),
        uveCodec.encode({
          type: entity.type,
          name: entity.name,
          source: this.source,
          fields_json: JSON.stringify(entity.fields),
          timestamp_ms: Date.now(),
          ttl_ms: this.ttlMs,
          deleted,
        }),
      );
    } catch (error) {
      // A closed or draining connection: the next refresh (or reconnect) sends it again.
      this.#logger?.warn({ err: error, type: entity.type, name: entity.name }, 'UVE not published');
    }
  }
}

function entityKey(type: string, name: string): string {
  return `${type}\u0000${name}`;
}

/**
 * Publishes flow records seen on `host` as one FlowBatch on weft.flow.<host>. Records without a
 * record_id get one. Returns false (and sends nothing) while the bus was never reached.
 */
export function publishFlows(link: NatsSource, host: string, records: FlowRecord[]): boolean {
  const connection = link.current;
  if (!connection || connection.isClosed() || records.length === 0) return false;
  const batch = records.map((record) => ({
    ...record,
    host: record.host || host,
    record_id: record.record_id || randomUUID(),
  }));
  connection.publish(FLOW_SUBJECT_PREFIX + subjectToken(host), flowBatchCodec.encode({ records: batch }));
  return true;
}

/**
 * Publishes a log or event record on weft.log.<service>, with a record_id and a timestamp when
 * missing. Returns false while the bus was never reached.
 */
export function publishLog(link: NatsSource, record: LogRecord & { service: string }): boolean {
  const connection = link.current;
  if (!connection || connection.isClosed()) return false;
  const complete: LogRecord = {
    ...record,
    record_id: record.record_id || randomUUID(),
    timestamp_ms: record.timestamp_ms || Date.now(),
  };
  connection.publish(LOG_SUBJECT_PREFIX + subjectToken(record.service), logRecordCodec.encode(complete));
  return true;
}
