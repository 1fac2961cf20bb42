// What analytics needs from its store. The SQLite store (sqlite-store.ts) is the default; a
// cluster store can take its place behind the same interface.
import type { BuiltQuery } from '../query/sql.js';
import type { QueryPlan } from '../query/validate.js';
import type { PartitionKind, Row } from './tables.js';

/** One source's part of a UVE, as last reported. */
export interface UvePartRecord {
  type: string;
  name: string;
  source: string;
  fields_json: string;
  timestamp_ms: number;
  ttl_ms: number;
  /** When the bus stored the report (ms); staleness counts from here. */
  last_seen_ms: number;
}

export type UvePartKey = Pick<UvePartRecord, 'type' | 'name' | 'source'>;

/** Everything one ingest batch writes, committed in one transaction. */
export interface IngestBatch {
  rows: Partial<Record<PartitionKind, Row[]>>;
  uveUpserts: UvePartRecord[];
  uveDeletes: UvePartKey[];
}

export interface CommitResult {
  /** Rows written. */
  inserted: number;
  /** Rows already stored under the same record_id (a redelivery), not written again. */
  duplicates: number;
  /** Rows older than the retention age, not written. */
  expired: number;
}

export interface PartitionInfo {
  kind: PartitionKind;
  table: string;
  startMs: number;
  endMs: number;
}

export interface RetentionReport {
  dropped: PartitionInfo[];
  sizeBytes: number;
}

export interface AnalyticsStore {
  commit(batch: IngestBatch, now?: number): CommitResult;
  query(plan: QueryPlan): Record<string, unknown>[];
  /** The SQL of a plan over the partitions it needs now, for a reader on another connection. */
  buildQuery(plan: QueryPlan): BuiltQuery;
  /** The database file, for readers on their own connections. */
  readonly path: string;
  uveParts(): UvePartRecord[];
  deleteUveParts(keys: UvePartKey[]): void;
  /** Drops partitions older than the age limit, then the oldest until under the size target. */
  applyRetention(now?: number): RetentionReport;
  /** Bytes the store takes on disk now. */
  sizeBytes(): number;
  partitions(): PartitionInfo[];
  close(): void;
}
