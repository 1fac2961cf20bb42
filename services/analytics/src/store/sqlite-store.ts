// The default store: one SQLite file (WAL) in the state dir. Records live in time partitions,
// one table per kind and period ("flow_<start ms>"), listed in the `partitions` catalog, so that
// retention drops whole tables instead of deleting rows, and incremental vacuum hands the pages
// back to the file system: the disk stays bounded by age and by size.
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type BuiltQuery, buildQuery } from '../query/sql.js';
import type { QueryPlan } from '../query/validate.js';
import type {
  AnalyticsStore,
  CommitResult,
  IngestBatch,
  PartitionInfo,
  RetentionReport,
  UvePartKey,
  UvePartRecord,
} from './store.js';
import { type PartitionKind, type Row, TABLES, tableOfKind } from './tables.js';

export interface SqliteStoreOptions {
  stateDir: string;
  /** Length of one partition; retention drops data in steps of this. */
  partitionMs: number;
  /** Records older than this are dropped (whole partitions). */
  retentionMs: number;
  /** The store is kept under this size on disk. */
  maxBytes: number;
  /** Size retention aims for, as a share of maxBytes, leaving room for growth between passes. */
  targetRatio?: number;
}

const SQL_TYPE = { int: 'INTEGER', string: 'TEXT', double: 'REAL' } as const;

export const DATABASE_FILE = 'analytics.db';

/**
 * A file of this size kept beside the database: on a full file system (another process filled
 * it, or the disk is smaller than maxBytes) it is given up so that the WAL can be checkpointed
 * into the database (the WAL holds up to wal_autocheckpoint's 1,000 pages, 4 MB, that the
 * database file may have to grow by) and the drop of a partition, itself written to the WAL,
 * has room to run. From then on new records reuse the dropped partition's pages.
 */
export const RESERVE_FILE = 'disk-reserve';
const RESERVE_BYTES = 8 * 1024 * 1024;
/** Pages handed back per step when making room, so that one step's WAL fits in little room. */
const VACUUM_STEP_PAGES = 64;

function diskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC';
}

/** A WAL larger than this is checkpointed and truncated by the next retention pass. */
const WAL_TRUNCATE_BYTES = 64 * 1024 * 1024;

export class SqliteStore implements AnalyticsStore {
  readonly #db: Database.Database;
  readonly #path: string;
  readonly #options: Required<SqliteStoreOptions>;
  readonly #partitions = new Map<string, PartitionInfo>();
  readonly #insert = new Map<string, Database.Statement>();
  readonly #commitTransaction: (batch: IngestBatch, now: number) => CommitResult;
  /** Partitions dropped to make room on a full disk, not yet reported by takeDiskFullDrops. */
  #diskFullDrops: PartitionInfo[] = [];
  /** When a write last found the file system full (0: never). */
  lastDiskFullMs = 0;
  #reserveWhole = false;
  #reserveTriedMs = 0;

  constructor(options: SqliteStoreOptions) {
    this.#options = { targetRatio: 0.8, ...options };
    mkdirSync(options.stateDir, { recursive: true });
    this.#path = join(options.stateDir, DATABASE_FILE);
    this.#db = new Database(this.#path);
    // Must precede the first table: it decides whether dropped pages can be given back later.
    this.#db.pragma('auto_vacuum = INCREMENTAL');
    this.#db.pragma('journal_mode = WAL');
    // A committed batch is acked to the bus right after: it must survive a crash, not just an exit.
    this.#db.pragma('synchronous = FULL');
    this.#keepReserve();
    this.#db.function('regexp', { deterministic: true }, regexpMatch);
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS partitions (
        table_name TEXT PRIMARY KEY, kind TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS uve_parts (
        type TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, fields_json TEXT NOT NULL,
        timestamp_ms INTEGER NOT NULL, ttl_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
        PRIMARY KEY (type, name, source));
    `);
    const rows = this.#db.prepare('SELECT table_name, kind, start_ms, end_ms FROM partitions').all() as {
      table_name: string;
      kind: PartitionKind;
      start_ms: number;
      end_ms: number;
    }[];
    for (const row of rows) {
      this.#partitions.set(row.table_name, {
        table: row.table_name,
        kind: row.kind,
        startMs: row.start_ms,
        endMs: row.end_ms,
      });
    }
    // Partitions an older release wrote may lack columns added since: added here (an O(1) change
    // in SQLite; their old rows read NULL), so that queries and inserts span old and new alike.
    this.#db.transaction(() => {
      for (const info of this.#partitions.values()) this.#addMissingColumns(info);
    })();
    const upsertUve = this.#db.prepare(`
      INSERT INTO uve_parts (type, name, source, fields_json, timestamp_ms, ttl_ms, last_seen_ms)
      VALUES (@type, @name, @source, @fields_json, @timestamp_ms, @ttl_ms, @last_seen_ms)
      ON CONFLICT (type, name, source) DO UPDATE SET fields_json = excluded.fields_json,
        timestamp_ms = excluded.timestamp_ms, ttl_ms = excluded.ttl_ms, last_seen_ms = excluded.last_seen_ms`);
    const deleteUve = this.#db.prepare('DELETE FROM uve_parts WHERE type = ? AND name = ? AND source = ?');
    this.#commitTransaction = this.#db.transaction((batch: IngestBatch, now: number) => {
      const result: CommitResult = { inserted: 0, duplicates: 0, expired: 0 };
      const oldest = now - this.#options.retentionMs;
      for (const [kind, rows] of Object.entries(batch.rows) as [PartitionKind, Row[]][]) {
        for (const row of rows) {
          if (row.T < oldest) {
            result.expired += 1;
            continue;
          }
          const changes = this.#insertStatement(kind, row.T).run(row).changes;
          if (changes === 1) result.inserted += 1;
          else result.duplicates += 1;
        }
      }
      for (const part of batch.uveUpserts) upsertUve.run(part);
      for (const key of batch.uveDeletes) deleteUve.run(key.type, key.name, key.source);
      return result;
    });
  }

  /**
   * Commits a batch in one transaction. On a full file system the oldest partition (never the
   * newest of a kind) is dropped and the commit tried again, until it fits or nothing is left
   * to drop; then the disk-full error is thrown and nothing of the batch is stored.
   */
  commit(batch: IngestBatch, now = Date.now()): CommitResult {
    for (;;) {
      try {
        const result = this.#commitTransaction(batch, now);
        this.#keepReserve();
        return result;
      } catch (error) {
        this.#reloadPartitions();
        if (!diskFull(error)) throw error;
        this.lastDiskFullMs = Date.now();
        if (!this.#makeRoom()) throw error;
      }
    }
  }

  /** Partitions dropped because the file system was full since the last call. */
  takeDiskFullDrops(): PartitionInfo[] {
    const drops = this.#diskFullDrops;
    this.#diskFullDrops = [];
    return drops;
  }

  /**
   * Gives up the reserve, then drops the oldest partitions and hands their pages back to the
   * file system until the reserve fits again (or nothing is left to drop); false when there was
   * nothing to drop.
   */
  #makeRoom(): boolean {
    rmSync(join(this.#options.stateDir, RESERVE_FILE), { force: true });
    this.#reserveWhole = false;
    // The WAL's pages go into the database (the reserve's room) and the WAL back to nothing.
    this.#tryOnFullDisk(() => this.#db.pragma('wal_checkpoint(TRUNCATE)'));
    let dropped = false;
    for (;;) {
      const all = this.partitions();
      const newest = new Map(all.map((p) => [p.kind, p.table]));
      const oldest = all.find((p) => newest.get(p.kind) !== p.table);
      if (!oldest) return dropped;
      this.#diskFullDrops.push(this.#drop(oldest));
      dropped = true;
      // In steps, each checkpointed, so that the WAL never holds more than one step's pages.
      for (;;) {
        const before = this.#db.pragma('freelist_count', { simple: true }) as number;
        if (before === 0) break;
        const done = this.#tryOnFullDisk(() => {
          this.#db.pragma(`incremental_vacuum(${VACUUM_STEP_PAGES})`);
          this.#db.pragma('wal_checkpoint(TRUNCATE)');
        });
        if (!done || (this.#db.pragma('freelist_count', { simple: true }) as number) >= before) break;
      }
      this.#reserveTriedMs = 0;
      this.#keepReserve();
      if (this.#reserveWhole) return true;
    }
  }

  /** Runs `work`; false when the file system was too full for it (its pages stay free inside the file). */
  #tryOnFullDisk(work: () => void): boolean {
    try {
      work();
      return true;
    } catch (error) {
      if (!diskFull(error)) throw error;
      return false;
    }
  }

  /**
   * The partitions catalog as committed: a rolled-back commit takes back the partitions it
   * created, and their tables must not be written to or queried.
   */
  #reloadPartitions(): void {
    const present = new Set(this.#db.prepare('SELECT table_name FROM partitions').pluck().all() as string[]);
    for (const table of [...this.#partitions.keys()]) {
      if (present.has(table)) continue;
      this.#partitions.delete(table);
      this.#insert.delete(table);
    }
  }

  /** Makes the reserve file whole again when there is room for it; no room is no error. */
  #keepReserve(): void {
    // At most once a second while it cannot be made: a full disk is not written to on every commit.
    if (this.#reserveWhole || Date.now() - this.#reserveTriedMs < 1_000) return;
    this.#reserveTriedMs = Date.now();
    const path = join(this.#options.stateDir, RESERVE_FILE);
    try {
      if (statSync(path).size >= RESERVE_BYTES) {
        this.#reserveWhole = true;
        return;
      }
    } catch {
      // not there: made below
    }
    let fd: number | undefined;
    try {
      fd = openSync(path, 'w');
      // Written, not just sized: a sparse file would hold no blocks to give back.
      const chunk = Buffer.alloc(64 * 1024);
      for (let written = 0; written < RESERVE_BYTES; written += chunk.length) writeSync(fd, chunk);
      this.#reserveWhole = true;
    } catch (error) {
      if (fd !== undefined) ftruncateSync(fd, 0);
      if (!diskFull(error)) throw error;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  #addMissingColumns(info: PartitionInfo): void {
    const definition = tableOfKind(info.kind);
    const present = new Set(
      this.#db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(info.table) as string[],
    );
    for (const column of definition.columns.filter((c) => !present.has(c.name))) {
      this.#db.exec(`ALTER TABLE "${info.table}" ADD COLUMN "${column.name}" ${SQL_TYPE[column.datatype]}`);
      if (column.index)
        this.#db.exec(
          `CREATE INDEX IF NOT EXISTS "${info.table}_${column.name}" ON "${info.table}" ("${column.name}")`,
        );
    }
  }

  /** The insert statement of the partition holding time T, creating the partition when new. */
  #insertStatement(kind: PartitionKind, time: number): Database.Statement {
    const startMs = Math.floor(time / this.#options.partitionMs) * this.#options.partitionMs;
    const table = `${kind}_${startMs}`;
    let statement = this.#insert.get(table);
    if (statement) return statement;
    const definition = tableOfKind(kind);
    if (!this.#partitions.has(table)) {
      const columns = definition.columns.map(
        (c) => `"${c.name}" ${SQL_TYPE[c.datatype]}${c.name === 'T' || c.name === 'record_id' ? ' NOT NULL' : ''}`,
      );
      this.#db.exec(`CREATE TABLE IF NOT EXISTS "${table}" (${columns.join(', ')}, UNIQUE (record_id))`);
      for (const column of definition.columns.filter((c) => c.index)) {
        this.#db.exec(`CREATE INDEX IF NOT EXISTS "${table}_${column.name}" ON "${table}" ("${column.name}")`);
      }
      const info = { table, kind, startMs, endMs: startMs + this.#options.partitionMs };
      this.#db
        .prepare('INSERT INTO partitions (table_name, kind, start_ms, end_ms) VALUES (?, ?, ?, ?)')
        .run(table, kind, info.startMs, info.endMs);
      this.#partitions.set(table, info);
    }
    const names = definition.columns.map((c) => c.name);
    statement = this.#db.prepare(
      `INSERT OR IGNORE INTO "${table}" (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`,
    );
    this.#insert.set(table, statement);
    return statement;
  }

  query(plan: QueryPlan): Record<string, unknown>[] {
    const { sql, params } = this.buildQuery(plan);
    return this.#db.prepare(sql).all(...params) as Record<string, unknown>[];
  }

  /** The SQL of a plan over the partitions it needs now, for a reader on another connection. */
  buildQuery(plan: QueryPlan): BuiltQuery {
    const tables = [...this.#partitions.values()]
      .filter((p) => p.kind === plan.table.kind && p.endMs > plan.startMs && p.startMs <= plan.endMs)
      .sort((a, b) => a.startMs - b.startMs)
      .map((p) => p.table);
    return buildQuery(plan, tables);
  }

  get path(): string {
    return this.#path;
  }

  uveParts(): UvePartRecord[] {
    return this.#db.prepare('SELECT * FROM uve_parts').all() as UvePartRecord[];
  }

  deleteUveParts(keys: UvePartKey[]): void {
    this.commit({ rows: {}, uveUpserts: [], uveDeletes: keys });
  }

  partitions(): PartitionInfo[] {
    return [...this.#partitions.values()].sort((a, b) => a.startMs - b.startMs);
  }

  sizeBytes(): number {
    let total = 0;
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        total += statSync(this.#path + suffix).size;
      } catch {
        // not there (no WAL yet)
      }
    }
    return total;
  }

  applyRetention(now = Date.now()): RetentionReport {
    const dropped: PartitionInfo[] = [];
    const oldest = now - this.#options.retentionMs;
    for (const partition of this.partitions()) {
      if (partition.endMs <= oldest) dropped.push(this.#drop(partition));
    }
    if (dropped.length > 0) this.#giveBackPages();
    // Under steady writes with readers about, automatic checkpoints may never get to the end
    // of the WAL, and it only grows; a truncating checkpoint now and then bounds it.
    else if (this.#walBytes() > WAL_TRUNCATE_BYTES) this.#db.pragma('wal_checkpoint(TRUNCATE)');
    const target = this.#options.maxBytes * this.#options.targetRatio;
    // Oldest first, across kinds; the newest partition of each kind stays, it is the one being
    // written.
    while (this.sizeBytes() > target) {
      const all = this.partitions();
      const newest = new Map(all.map((p) => [p.kind, p.table]));
      const oldest = all.find((p) => newest.get(p.kind) !== p.table);
      if (!oldest) break;
      dropped.push(this.#drop(oldest));
      this.#giveBackPages();
    }
    return { dropped, sizeBytes: this.sizeBytes() };
  }

  #walBytes(): number {
    try {
      return statSync(`${this.#path}-wal`).size;
    } catch {
      return 0;
    }
  }

  #drop(partition: PartitionInfo): PartitionInfo {
    this.#db.transaction(() => {
      this.#db.exec(`DROP TABLE IF EXISTS "${partition.table}"`);
      this.#db.prepare('DELETE FROM partitions WHERE table_name = ?').run(partition.table);
    })();
    this.#partitions.delete(partition.table);
    this.#insert.delete(partition.table);
    return partition;
  }

  /** Returns free pages to the file system and truncates the WAL, so the drop shows on disk. */
  #giveBackPages() {
    this.#db.pragma('incremental_vacuum');
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

const regexCache = new Map<string, RegExp>();

/** SQLite's REGEXP operator: `value REGEXP pattern` calls regexp(pattern, value). */
export function regexpMatch(pattern: unknown, value: unknown): number {
  if (typeof pattern !== 'string' || value === null || value === undefined) return 0;
  let regex = regexCache.get(pattern);
  if (!regex) {
    regex = new RegExp(pattern);
    if (regexCache.size > 100) regexCache.clear();
    regexCache.set(pattern, regex);
  }
  return regex.test(String(value)) ? 1 : 0;
}

/** Every table name the store may create, for documentation and tests. */
export const PARTITION_KINDS: PartitionKind[] = TABLES.map((t) => t.kind);
