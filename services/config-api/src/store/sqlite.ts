// The SQLite store (better-sqlite3, WAL). One file holds objects, references, reservations and
// the change log. Each change is written in the same transaction as its change-log row, so an
// object and the record of its change are never apart; writes that arrive together share one
// commit (group commit). synchronous=FULL makes every commit durable before any caller is
// answered: an acknowledged write survives kill -9 and power loss.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { errors } from '../errors.js';
import { STORE_SCHEMA_VERSION, stepsFrom } from './schema.js';
import {
  type BackRef,
  type ChangeRecord,
  type ChildLink,
  type ConfigStore,
  type ListQuery,
  OneChangePerWrite,
  type Operation,
  type StoredObject,
  type WriteTx,
} from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  uuid TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  fq_name TEXT NOT NULL,
  parent_uuid TEXT,
  body TEXT NOT NULL,
  revision INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_fq_name ON objects(type, fq_name);
CREATE INDEX IF NOT EXISTS objects_by_parent ON objects(parent_uuid, type);
CREATE TABLE IF NOT EXISTS refs (
  from_uuid TEXT NOT NULL,
  to_uuid TEXT NOT NULL,
  from_type TEXT NOT NULL,
  attr TEXT,
  PRIMARY KEY (from_uuid, to_uuid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS refs_by_target ON refs(to_uuid, from_uuid);
CREATE TABLE IF NOT EXISTS reservations (
  scope TEXT NOT NULL,
  value TEXT NOT NULL,
  owner TEXT NOT NULL,
  PRIMARY KEY (scope, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reservations_by_owner ON reservations(owner);
CREATE TABLE IF NOT EXISTS changes (
  revision INTEGER PRIMARY KEY,
  operation TEXT NOT NULL,
  type TEXT NOT NULL,
  uuid TEXT NOT NULL,
  fq_name TEXT NOT NULL,
  object_json TEXT NOT NULL,
  committed_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/**
 * How a file at schema version n becomes version n+1 (run in one transaction, with the stamp).
 * None yet: version 1 is the first, and release 0.1.0's files already have its tables.
 */
export const SQLITE_MIGRATIONS: Record<number, (db: Database.Database) => void> = {};

/**
 * Brings the file to STORE_SCHEMA_VERSION, or refuses a newer one before anything is written.
 * A file without a stamp is new (no tables) or from release 0.1.0 (version 1).
 */
export function migrateSqliteSchema(
  db: Database.Database,
  where: string,
  migrations = SQLITE_MIGRATIONS,
  known = STORE_SCHEMA_VERSION,
): { from: number; to: number } {
  const stamped = db.pragma('user_version', { simple: true }) as number;
  const hasTables =
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'objects'").get() !== undefined;
  if (stamped === 0 && !hasTables) {
    db.transaction(() => {
      db.exec(SCHEMA);
      db.pragma(`user_version = ${known}`);
    })();
    return { from: 0, to: known };
  }
  const found = stamped === 0 ? 1 : stamped;
  const plan = stepsFrom(where, found, migrations, known);
  db.transaction(() => {
    for (const { step } of plan) step(db);
    db.pragma(`user_version = ${known}`);
  })();
  return { from: found, to: known };
}

/**
 * A write that found the disk full is told as such (507), not as a server fault: SQLite rolled
 * it back, nothing of it is stored, and it succeeds once there is room again.
 */
function outOfSpace(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_FULL' || (error as NodeJS.ErrnoException | null)?.code === 'ENOSPC') {
    return errors.STORE_FULL({ store: 'sqlite', reason: error instanceof Error ? error.message : String(error) });
  }
  return error;
}

/** Parsed objects kept in memory; the cache starts over when full (cheap, and good enough for hot objects). */
const OBJECT_CACHE_SIZE = 20_000;

interface ObjectRow {
  uuid: string;
  type: string;
  fq_name: string;
  parent_uuid: string | null;
  body: string;
  revision: number;
}

interface ChangeRow {
  revision: number;
  operation: Operation;
  type: string;
  uuid: string;
  fq_name: string;
  object_json: string;
  committed_at_ms: number;
}

export interface SqliteStoreOptions {
  path: string;
  /** Change-log rows to keep; older ones are trimmed (Watch from before them answers "trimmed"). */
  changeLogKeep?: number;
  /**
   * "full" (default): a commit is on disk before anyone is answered; it survives kill -9, an OS
   * crash and power loss. "normal": WAL without an fsync per commit; survives kill -9 of the
   * process, but an OS crash or power loss may lose the last commits.
   */
  synchronous?: 'full' | 'normal';
  /** Called with the seconds each commit took. */
  observeCommit?: (seconds: number) => void;
}

function toObject(row: ObjectRow): StoredObject {
  return {
    uuid: row.uuid,
    type: row.type,
    fqName: JSON.parse(row.fq_name),
    parentUuid: row.parent_uuid ?? undefined,
    body: JSON.parse(row.body),
    revision: row.revision,
  };
}

/** The order children and back-references come in: by type, then uuid. */
function byTypeAndUuid(a: unknown, b: unknown): number {
  const x = a as { type: string; uuid: string };
  const y = b as { type: string; uuid: string };
  return x.type < y.type ? -1 : x.type > y.type ? 1 : x.uuid < y.uuid ? -1 : x.uuid > y.uuid ? 1 : 0;
}

function toChange(row: ChangeRow): ChangeRecord {
  return {
    revision: row.revision,
    operation: row.operation,
    type: row.type,
    uuid: row.uuid,
    fqName: JSON.parse(row.fq_name),
    objectJson: row.object_json,
    committedAtMs: row.committed_at_ms,
  };
}

/** References of an object body: every `<type>_refs` item, with its attr. */
function refsOf(body: Record<string, unknown>): { uuid: string; attr: unknown }[] {
  const refs: { uuid: string; attr: unknown }[] = [];
  for (const [field, value] of Object.entries(body)) {
    if (!field.endsWith('_refs') || !Array.isArray(value)) continue;
    for (const item of value as { uuid: string; attr?: unknown }[]) refs.push({ uuid: item.uuid, attr: item.attr });
  }
  return refs;
}

export class SqliteStore implements ConfigStore {
  /** The schema version the file had when opened (0: new) and the one it has now. */
  readonly schemaMigration: { from: number; to: number };
  readonly #db: Database.Database;
  readonly #keep: number;
  readonly #observeCommit: (seconds: number) => void;
  readonly #listeners = new Set<(changes: ChangeRecord[]) => void>();
  readonly #statements = new Map<string, Database.Statement>();
  #revision: number;
  #trimmedThrough: number;
  #pending: ChangeRecord[] | undefined;
  /** Changes the running write has logged (one at most). */
  #changesInWrite = 0;
  readonly #cache = new Map<string, StoredObject>();
  readonly #checkpointer: Worker;
  readonly #queue: {
    change: (tx: WriteTx) => unknown;
    resolve: (value: unknown) => void;
    reject: (error: unknown) => void;
  }[] = [];
  readonly #tx: WriteTx;
  readonly #inTransaction: Database.Transaction<(change: (tx: WriteTx) => unknown) => unknown>;

  constructor({ path, changeLogKeep = 100_000, synchronous = 'full', observeCommit = () => {} }: SqliteStoreOptions) {
    mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    try {
      // Before anything else touches the file: a newer release's file is left as it is.
      this.schemaMigration = migrateSqliteSchema(this.#db, `the config store ${path}`);
    } catch (error) {
      this.#db.close();
      throw error;
    }
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    // A worker thread (./checkpoint-worker.ts) copies the WAL into the database file in the
    // background. Under a steady stream of writes its checkpoints never catch up with the end of
    // the WAL, and only a checkpoint finished between two commits lets the WAL start over; this
    // connection's own automatic checkpoint (every 1000 pages) does that, and finds little left
    // to copy. Measured: no commit over 25 ms, where checkpoints done here alone or left to the
    // thread alone stalled requests for 50-100 ms.
    this.#db.pragma('wal_autocheckpoint = 1000');
    this.#db.pragma('foreign_keys = OFF');
    // 64 MiB of page cache: the indexes of a large store stay in memory.
    this.#db.pragma('cache_size = -65536');
    this.#keep = Math.max(1, changeLogKeep);
    this.#observeCommit = observeCommit;
    this.#trimmedThrough =
      (this.#sql('SELECT value FROM meta WHERE key = ?').pluck().get('trimmed_through') as number) ?? 0;
    const last = this.#sql('SELECT MAX(revision) FROM changes').pluck().get() as number | null;
    this.#revision = last ?? this.#trimmedThrough;
    this.#tx = this.#makeTx();
    this.#inTransaction = this.#db.transaction((change: (tx: WriteTx) => unknown) => change(this.#tx));
    this.#checkpointer = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { path, intervalMs: 250, synchronous },
    });
    this.#checkpointer.unref();
  }

  #sql(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  revision(): number {
    return this.#revision;
  }

  trimmedThrough(): number {
    return this.#trimmedThrough;
  }

  get(uuid: string): StoredObject | undefined {
    const cached = this.#cache.get(uuid);
    if (cached) return cached;
    const row = this.#sql('SELECT * FROM objects WHERE uuid = ?').get(uuid) as ObjectRow | undefined;
    if (!row) return undefined;
    const object = toObject(row);
    this.#remember(object);
    return object;
  }

  /**
   * Objects read often (a network by each of its addresses, a project by each of its children)
   * are kept parsed. Callers never mutate what they get; a rolled-back write clears the cache.
   */
  #remember(object: StoredObject): void {
    if (this.#cache.size >= OBJECT_CACHE_SIZE) this.#cache.clear();
    this.#cache.set(object.uuid, object);
  }

  getMany(uuids: string[]): StoredObject[] {
    if (uuids.length === 0) return [];
    const rows = this.#sql('SELECT * FROM objects WHERE uuid IN (SELECT value FROM json_each(?)) ORDER BY uuid').all(
      JSON.stringify(uuids),
    ) as ObjectRow[];
    return rows.map(toObject);
  }

  uuidOf(type: string, fqName: string[]): string | undefined {
    return this.#sql('SELECT uuid FROM objects WHERE type = ? AND fq_name = ?')
      .pluck()
      .get(type, JSON.stringify(fqName)) as string | undefined;
  }

  #where(query: ListQuery): { sql: string; params: unknown[] } {
    const clauses = ['type = ?'];
    const params: unknown[] = [query.type];
    if (query.parentUuids) {
      clauses.push('parent_uuid IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(query.parentUuids));
    }
    if (query.uuids) {
      clauses.push('uuid IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(query.uuids));
    }
    if (query.backRefUuids) {
      clauses.push('uuid IN (SELECT from_uuid FROM refs WHERE to_uuid IN (SELECT value FROM json_each(?)))');
      params.push(JSON.stringify(query.backRefUuids));
    }
    for (const filter of query.filters ?? []) {
      clauses.push('json_extract(body, ?) = ?');
      params.push(`$."${filter.field}"`, typeof filter.value === 'boolean' ? Number(filter.value) : filter.value);
    }
    if (query.after !== undefined) {
      clauses.push('uuid > ?');
      params.push(query.after);
    }
    return { sql: clauses.join(' AND '), params };
  }

  list(query: ListQuery): StoredObject[] {
    const { sql, params } = this.#where(query);
    const limit = query.limit ?? -1;
    const rows = this.#sql(`SELECT * FROM objects WHERE ${sql} ORDER BY uuid LIMIT ?`).all(
      ...params,
      limit,
    ) as ObjectRow[];
    return rows.map(toObject);
  }

  count(query: ListQuery): number {
    const { sql, params } = this.#where({ ...query, after: undefined });
    return this.#sql(`SELECT COUNT(*) FROM objects WHERE ${sql}`)
      .pluck()
      .get(...params) as number;
  }

  children(parentUuids: string[], limit = -1): ChildLink[] {
    if (parentUuids.length === 0) return [];
    const where = parentUuids.length === 1 ? 'parent_uuid = ?' : 'parent_uuid IN (SELECT value FROM json_each(?))';
    const key = parentUuids.length === 1 ? parentUuids[0] : JSON.stringify(parentUuids);
    // SQLite sorts through a temporary b-tree, which costs a read of one object several times
    // what the lookup does; only a limited query needs its order from SQL, the rest sort here.
    const rows = (
      limit >= 0
        ? this.#sql(
            `SELECT uuid, type, fq_name, parent_uuid FROM objects WHERE ${where} ORDER BY type, uuid LIMIT ?`,
          ).all(key, limit)
        : this.#sql(`SELECT uuid, type, fq_name, parent_uuid FROM objects WHERE ${where}`).all(key).sort(byTypeAndUuid)
    ) as ObjectRow[];
    return rows.map((row) => ({
      uuid: row.uuid,
      type: row.type,
      fqName: JSON.parse(row.fq_name),
      parentUuid: row.parent_uuid as string,
    }));
  }

  backRefs(toUuids: string[], limit = -1): BackRef[] {
    if (toUuids.length === 0) return [];
    const where = toUuids.length === 1 ? 'r.to_uuid = ?' : 'r.to_uuid IN (SELECT value FROM json_each(?))';
    const key = toUuids.length === 1 ? toUuids[0] : JSON.stringify(toUuids);
    const select = `SELECT r.to_uuid, r.attr, o.uuid, o.type, o.fq_name FROM refs r JOIN objects o ON o.uuid = r.from_uuid WHERE ${where}`;
    const rows = (
      limit >= 0
        ? this.#sql(`${select} ORDER BY o.type, o.uuid LIMIT ?`).all(key, limit)
        : this.#sql(select).all(key).sort(byTypeAndUuid)
    ) as {
      to_uuid: string;
      attr: string | null;
      uuid: string;
      type: string;
      fq_name: string;
    }[];
    return rows.map((row) => ({
      toUuid: row.to_uuid,
      attr: row.attr === null ? undefined : JSON.parse(row.attr),
      from: { uuid: row.uuid, type: row.type, fqName: JSON.parse(row.fq_name) },
    }));
  }

  reservationOwner(scope: string, value: string): string | undefined {
    return this.#sql('SELECT owner FROM reservations WHERE scope = ? AND value = ?').pluck().get(scope, value) as
      | string
      | undefined;
  }

  reservations(scope: string): { value: string; owner: string }[] {
    return this.#sql('SELECT value, owner FROM reservations WHERE scope = ?').all(scope) as {
      value: string;
      owner: string;
    }[];
  }

  countsByType(): Map<string, number> {
    const rows = this.#sql('SELECT type, COUNT(*) AS n FROM objects GROUP BY type').all() as {
      type: string;
      n: number;
    }[];
    return new Map(rows.map((row) => [row.type, row.n]));
  }

  allReservations(): { scope: string; value: string; owner: string }[] {
    return this.#sql('SELECT scope, value, owner FROM reservations ORDER BY scope, value').all() as {
      scope: string;
      value: string;
      owner: string;
    }[];
  }

  changesSince(fromRevision: number, limit: number): ChangeRecord[] {
    const rows = this.#sql('SELECT * FROM changes WHERE revision >= ? ORDER BY revision LIMIT ?').all(
      fromRevision,
      limit,
    ) as ChangeRow[];
    return rows.map(toChange);
  }

  onCommit(listener: (changes: ChangeRecord[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The only writer of its file: every change is its own. */
  onOwnCommit(listener: (changes: ChangeRecord[]) => void): () => void {
    return this.onCommit(listener);
  }

  /** The only writer of its file: what it holds is every change. */
  sync(): Promise<void> {
    return Promise.resolve();
  }

  health(): string | undefined {
    return this.#db.open ? undefined : 'the SQLite file is closed';
  }

  #log(operation: Operation, object: Omit<StoredObject, 'revision'>): { revision: number; objectJson: string } {
    if (++this.#changesInWrite > 1) throw new OneChangePerWrite();
    const revision = this.#revision + 1;
    const objectJson = JSON.stringify(object.body);
    const committedAtMs = Date.now();
    this.#sql('INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      revision,
      operation,
      object.type,
      object.uuid,
      JSON.stringify(object.fqName),
      objectJson,
      committedAtMs,
    );
    this.#revision = revision;
    this.#pending?.push({
      revision,
      operation,
      type: object.type,
      uuid: object.uuid,
      fqName: object.fqName,
      objectJson,
      committedAtMs,
    });
    return { revision, objectJson };
  }

  #writeRefs(object: Omit<StoredObject, 'revision'>, replace: boolean): void {
    if (replace) this.#sql('DELETE FROM refs WHERE from_uuid = ?').run(object.uuid);
    const insert = this.#sql('INSERT OR REPLACE INTO refs VALUES (?, ?, ?, ?)');
    for (const ref of refsOf(object.body)) {
      insert.run(object.uuid, ref.uuid, object.type, ref.attr === undefined ? null : JSON.stringify(ref.attr));
    }
  }

  #makeTx(): WriteTx {
    const self = this;
    const tx: WriteTx = {
      revision: () => self.#revision,
      get: (uuid) => self.get(uuid),
      getMany: (uuids) => self.getMany(uuids),
      uuidOf: (type, fqName) => self.uuidOf(type, fqName),
      list: (query) => self.list(query),
      count: (query) => self.count(query),
      children: (uuids, limit) => self.children(uuids, limit),
      backRefs: (uuids, limit) => self.backRefs(uuids, limit),
      reservationOwner: (scope, value) => self.reservationOwner(scope, value),
      reservations: (scope) => self.reservations(scope),
      create(object) {
        const { revision, objectJson } = self.#log('CREATE', object);
        self
          .#sql('INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?)')
          .run(
            object.uuid,
            object.type,
            JSON.stringify(object.fqName),
            object.parentUuid ?? null,
            objectJson,
            revision,
          );
        self.#writeRefs(object, false);
        return revision;
      },
      update(object) {
        const { revision, objectJson } = self.#log('UPDATE', object);
        self.#sql('UPDATE objects SET body = ?, revision = ? WHERE uuid = ?').run(objectJson, revision, object.uuid);
        self.#writeRefs(object, true);
        // Cached on its next read: caching every write would fill the heap with objects never read.
        self.#cache.delete(object.uuid);
        return revision;
      },
      delete(object) {
        const { revision } = self.#log('DELETE', object);
        self.#sql('DELETE FROM objects WHERE uuid = ?').run(object.uuid);
        self.#sql('DELETE FROM refs WHERE from_uuid = ?').run(object.uuid);
        self.#cache.delete(object.uuid);
        return revision;
      },
      reserve(scope, value, owner) {
        return self.#sql('INSERT OR IGNORE INTO reservations VALUES (?, ?, ?)').run(scope, value, owner).changes === 1;
      },
      release(scope, value) {
        self.#sql('DELETE FROM reservations WHERE scope = ? AND value = ?').run(scope, value);
      },
      releaseOwnedBy(owner) {
        const scopes = self
          .#sql('SELECT DISTINCT scope FROM reservations WHERE owner = ?')
          .pluck()
          .all(owner) as string[];
        self.#sql('DELETE FROM reservations WHERE owner = ?').run(owner);
        return scopes;
      },
    };
    return tx;
  }

  /**
   * Group commit: writes that arrive in one turn of the event loop run in one SQLite transaction,
   * each in its own savepoint (a failing write rolls back alone), and are answered after the one
   * COMMIT, so a burst of writes pays for one fsync instead of one each.
   */
  write<T>(change: (tx: WriteTx) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ change, resolve: resolve as (value: unknown) => void, reject });
      if (this.#queue.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const jobs = this.#queue.splice(0, this.#queue.length);
    if (jobs.length === 0) return;
    const revisionBefore = this.#revision;
    const pending: ChangeRecord[] = [];
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    const started = performance.now();
    this.#pending = pending;
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      for (const job of jobs) {
        const revision = this.#revision;
        const logged = pending.length;
        this.#changesInWrite = 0;
        try {
          // Inside an open transaction, better-sqlite3 runs this in a savepoint.
          outcomes.push({ ok: true, value: this.#inTransaction(job.change) });
        } catch (error) {
          this.#revision = revision;
          pending.length = logged;
          this.#cache.clear();
          outcomes.push({ ok: false, error });
        }
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      this.#revision = revisionBefore;
      this.#cache.clear();
      this.#pending = undefined;
      for (const job of jobs) job.reject(outOfSpace(error));
      return;
    }
    this.#pending = undefined;
    this.#observeCommit((performance.now() - started) / 1000);
    if (pending.length > 0) {
      try {
        this.#trimIfDue();
      } catch {
        // Trimming is housekeeping: the writes are committed; the next commit tries again.
      }
      for (const listener of this.#listeners) {
        // A failing listener (a closed stream, say) must not turn a committed write into an error.
        try {
          listener(pending);
        } catch {}
      }
    }
    jobs.forEach((job, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outOfSpace(outcome.error));
    });
  }

  /** Trims the change log to the last `keep` rows, in steps so that it is not done on every write. */
  #trimIfDue(): void {
    const slack = Math.max(1, Math.floor(this.#keep / 10));
    if (this.#revision - this.#trimmedThrough <= this.#keep + slack) return;
    const through = this.#revision - this.#keep;
    this.#db.transaction(() => {
      this.#sql('DELETE FROM changes WHERE revision <= ?').run(through);
      this.#sql('INSERT OR REPLACE INTO meta VALUES (?, ?)').run('trimmed_through', through);
    })();
    this.#trimmedThrough = through;
  }

  async close(): Promise<void> {
    this.#flush();
    const stopped = new Promise((resolve) => this.#checkpointer.once('exit', resolve));
    // Unreferenced while it runs (it must not keep a process alive); referenced while we wait for it.
    this.#checkpointer.ref();
    this.#checkpointer.postMessage('close');
    await stopped;
    if (this.#db.open) {
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
      this.#db.close();
    }
  }
}
