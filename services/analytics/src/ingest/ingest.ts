// Ingest: pulls each stream through analytics' durable consumer, turns a batch of messages
// into rows and UVE changes, commits them in one transaction, and only then acks each
// message. A crash between commit and ack redelivers the batch; the record_id
// uniqueness in the store makes the second copy a no-op, so every record is stored once.
import type { Counter, Logger, NatsConnection } from '@weft/kit';
import { messageCodec } from '@weft/proto';
import type { FlowBatch__Output } from '@weft/proto/gen/weft/analytics/v1/FlowBatch.js';
import type { LogRecord__Output } from '@weft/proto/gen/weft/analytics/v1/LogRecord.js';
import type { Uve__Output } from '@weft/proto/gen/weft/analytics/v1/Uve.js';
import type { ConsumerMessages, JsMsg } from 'nats';
import { flowRow, logRow, statRows } from '../store/rows.js';
import type { AnalyticsStore, IngestBatch, UvePartKey, UvePartRecord } from '../store/store.js';
import type { Row } from '../store/tables.js';
import type { UveState } from '../uve/uve-state.js';
import { DURABLE_NAME, ensureStreams, STREAMS, type StreamKind, type StreamLimits } from './streams.js';

const uveCodec = messageCodec<object, Uve__Output>('weft.analytics.v1.Uve');
const flowBatchCodec = messageCodec<object, FlowBatch__Output>('weft.analytics.v1.FlowBatch');
const logCodec = messageCodec<object, LogRecord__Output>('weft.analytics.v1.LogRecord');

export interface IngestMetrics {
  records: Counter<'table'>;
  duplicates: Counter<'table'>;
  expired: Counter<'table'>;
  malformed: Counter<'stream'>;
  commitFailures: Counter;
}

export interface IngestOptions {
  connection: NatsConnection;
  store: AnalyticsStore;
  uves: UveState;
  limits: StreamLimits;
  logger: Logger;
  metrics: IngestMetrics;
  /** Messages committed together at most. */
  batchMessages?: number;
  /** How long the bus waits for an ack before redelivering (tests shorten it). */
  ackWaitMs?: number;
  /** The durable consumer's name; replicas that each want every record take their own. */
  consumerName?: string;
  /** At most one StatTable.UveStat sample per UVE part per this interval. */
  statIntervalMs?: number;
}

interface Lane {
  kind: StreamKind;
  pending: JsMsg[];
  scheduled: boolean;
  retry?: NodeJS.Timeout;
  messages?: ConsumerMessages;
}

/** What a batch of UVE reports changes, staged until its commit. */
interface StagedUves {
  rows: Row[];
  upserts: Map<string, UvePartRecord>;
  deletes: Map<string, UvePartKey>;
  /** Part id → time of its new stat sample (undefined: the part is gone). */
  samples: Map<string, number | undefined>;
}

const TABLE_OF = { flow: 'FlowRecordTable', log: 'MessageTable', uve: 'StatTable.UveStat' } as const;

export class Ingest {
  readonly #options: IngestOptions;
  readonly #logger: Logger;
  readonly #lanes: Lane[];
  readonly #batchMessages: number;
  readonly #consumerName: string;
  readonly #statIntervalMs: number;
  /** When each UVE part (by id) was last sampled into the stat table. */
  readonly #lastSample = new Map<string, number>();
  #closed = false;

  constructor(options: IngestOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'ingest' });
    this.#batchMessages = options.batchMessages ?? 2_000;
    this.#consumerName = options.consumerName ?? DURABLE_NAME;
    this.#statIntervalMs = options.statIntervalMs ?? 60_000;
    this.#lanes = (Object.keys(STREAMS) as StreamKind[]).map((kind) => ({ kind, pending: [], scheduled: false }));
  }

  async start(): Promise<void> {
    const { connection, limits } = this.#options;
    await ensureStreams(
      await connection.jetstreamManager(),
      limits,
      this.#options.ackWaitMs ?? 30_000,
      this.#consumerName,
    );
    const js = connection.jetstream();
    for (const lane of this.#lanes) {
      const consumer = await js.consumers.get(STREAMS[lane.kind].name, this.#consumerName);
      lane.messages = await consumer.consume({
        max_messages: this.#batchMessages,
        // Short pulls: a pull left open by a stopped analytics holds no message for long.
        expires: 5_000,
        callback: (message) => this.#receive(lane, message),
      });
    }
    this.#logger.info({ streams: Object.values(STREAMS).map((s) => s.name) }, 'ingesting');
  }

  #receive(lane: Lane, message: JsMsg) {
    if (this.#closed) {
      // Arrived after the last commit: handed back to the bus for the next analytics now,
      // rather than after the ack wait.
      message.nak();
      return;
    }
    lane.pending.push(message);
    if (lane.retry) return; // a failed commit is waiting to retry with everything pending
    if (lane.pending.length >= this.#batchMessages) this.#flush(lane);
    else if (!lane.scheduled) {
      lane.scheduled = true;
      // Whatever arrived in this turn of the event loop goes in one transaction.
      setImmediate(() => this.#flush(lane));
    }
  }

  #flush(lane: Lane) {
    lane.scheduled = false;
    if (lane.pending.length === 0) return;
    const messages = lane.pending;
    const { batch, uveUpserts, uveDeletes, samples } = this.#batchOf(lane.kind, messages);
    try {
      const result = this.#options.store.commit(batch);
      const table = TABLE_OF[lane.kind];
      this.#options.metrics.records.inc({ table }, result.inserted);
      if (result.duplicates > 0) this.#options.metrics.duplicates.inc({ table }, result.duplicates);
      if (result.expired > 0) this.#options.metrics.expired.inc({ table }, result.expired);
    } catch (error) {
      // Nothing is acked; everything pending is tried again as one batch.
      this.#options.metrics.commitFailures.inc();
      this.#logger.error(
        { err: error, stream: STREAMS[lane.kind].name, messages: messages.length },
        'commit failed; retrying',
      );
      lane.retry = setTimeout(() => {
        lane.retry = undefined;
        this.#flush(lane);
      }, 1_000);
      return;
    }
    lane.pending = [];
    for (const message of messages) message.ack();
    // Sample times move only with a commit, so a retried batch samples the same reports.
    for (const [id, at] of samples) {
      if (at === undefined) this.#lastSample.delete(id);
      else this.#lastSample.set(id, at);
    }
    if (lane.kind === 'uve') this.#options.uves.apply(uveUpserts, uveDeletes);
  }

  #batchOf(kind: StreamKind, messages: JsMsg[]) {
    const rows: Row[] = [];
    const upserts = new Map<string, UvePartRecord>();
    const deletes = new Map<string, UvePartKey>();
    const samples = new Map<string, number | undefined>();
    for (const message of messages) {
      const sequence = message.info.streamSequence;
      const storedMs = Math.floor(message.info.timestampNanos / 1e6);
      // A plain view, not a Buffer: protobufjs's Buffer reader cuts a truncated string short
      // instead of failing, and a damaged message would be stored as if whole.
      const data = new Uint8Array(message.data.buffer, message.data.byteOffset, message.data.byteLength);
      try {
        if (kind === 'flow') {
          flowBatchCodec.decode(data).records.forEach((record, index) => {
            rows.push(flowRow(record, `flow:${sequence}:${index}`));
          });
        } else if (kind === 'log') {
          rows.push(logRow(logCodec.decode(data), `log:${sequence}`, storedMs));
        } else {
          this.#uveOf(uveCodec.decode(data), sequence, storedMs, { rows, upserts, deletes, samples });
        }
      } catch (error) {
        // A message that cannot be read now never will be: count it, log it, move on.
        this.#options.metrics.malformed.inc({ stream: STREAMS[kind].name });
        this.#logger.warn({ err: error, subject: message.subject, sequence }, 'malformed message skipped');
      }
    }
    const table = kind === 'flow' ? 'flow' : kind === 'log' ? 'log' : 'stat';
    const batch: IngestBatch = {
      rows: { [table]: rows },
      uveUpserts: [...upserts.values()],
      uveDeletes: [...deletes.values()],
    };
    return { batch, uveUpserts: batch.uveUpserts, uveDeletes: batch.uveDeletes, samples };
  }

  #uveOf(uve: Uve__Output, sequence: number, storedMs: number, staged: StagedUves) {
    const { rows, upserts, deletes, samples } = staged;
    if (!uve.type || !uve.name || !uve.source) throw new Error('UVE without type, name or source');
    const key = { type: uve.type, name: uve.name, source: uve.source };
    const id = JSON.stringify([uve.type, uve.name, uve.source]);
    // A report older than the one already known (a redelivery after a newer one) changes nothing.
    const known = upserts.get(id) ?? this.#options.uves.part(key);
    if (known && uve.timestamp_ms < known.timestamp_ms) return;
    if (uve.deleted) {
      samples.set(id, undefined);
      upserts.delete(id);
      deletes.set(id, key);
      return;
    }
    const fields = JSON.parse(uve.fields_json || '{}') as unknown;
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new Error('UVE fields_json is not a JSON object');
    }
    deletes.delete(id);
    upserts.set(id, {
      ...key,
      fields_json: uve.fields_json || '{}',
      timestamp_ms: uve.timestamp_ms,
      ttl_ms: uve.ttl_ms,
      last_seen_ms: storedMs,
    });
    // One sample per part per stat interval: refreshes every few seconds would otherwise fill
    // the store with the same numbers.
    const lastSample = samples.has(id) ? samples.get(id) : this.#lastSample.get(id);
    if (lastSample === undefined || storedMs - lastSample >= this.#statIntervalMs || storedMs < lastSample) {
      samples.set(id, storedMs);
      rows.push(...statRows(key, fields as Record<string, unknown>, storedMs, `uve:${sequence}`));
    }
  }

  /** Stops pulling, commits and acks what was received, and flushes the acks to the server. */
  async close(): Promise<void> {
    for (const lane of this.#lanes) lane.messages?.stop();
    for (const lane of this.#lanes) {
      if (lane.retry) {
        clearTimeout(lane.retry);
        lane.retry = undefined;
      }
      this.#flush(lane);
      // A batch that still cannot commit is left unacked: the bus redelivers it later.
      if (lane.retry) clearTimeout(lane.retry);
    }
    this.#closed = true;
    const connection = this.#options.connection;
    if (!connection.isClosed()) await connection.flush().catch(() => {});
    await Promise.all(this.#lanes.map((lane) => lane.messages?.closed().catch(() => undefined)));
  }
}
