// The etcd store: one data set shared by every config-api replica on one etcd cluster.
//
//   snapshot (paged range at revision R) ──► view ◄── watch of the prefix from R + 1 (every
//                                             │       replica's commits, in revision order)
//   write: body runs on the view ──► one etcd txn: compare what it read, put what it wrote,
//          log entry l/<write id>, head h ──► succeeded: resolve once the watch applied it
//                                          └► compare failed: read barrier, run the body again
//   read barrier (sync): read the head key (a linearizable read) ──► wait until the view applied it
//
// Each change is one etcd transaction, so its revision is etcd's revision and Watch replays the
// log keys in etcd's order. The log entry's key carries the write's id, and every attempt of a
// write requires that key to be absent, so an attempt whose answer was lost (a member died, a
// deadline passed) is retried without ever committing twice. Trimming the log and compacting
// etcd's history ride on later writes and a timer; neither adds a revision of its own.
import { randomUUID } from 'node:crypto';
import type { Logger } from '@weft/kit';
import { ExponentialBackoff, handleWhen, noop, retry } from 'cockatiel';
import {
  Etcd3,
  EtcdAuthenticationFailedError,
  EtcdPermissionDeniedError,
  GRPCInvalidArgumentError,
  GRPCUnauthenticatedError,
  type IKeyValue,
  type IWatchResponse,
  isRecoverableError,
  type Watcher,
} from 'etcd3';
import { errors } from '../errors.js';
import * as keys from './etcd-keys.js';
import { type Attempt, EtcdTx } from './etcd-tx.js';
import { EtcdView, PENDING } from './etcd-view.js';
import { STORE_SCHEMA_VERSION, stepsFrom } from './schema.js';
import { type ChangeRecord, type ConfigStore, type ListQuery, OneChangePerWrite, type WriteTx } from './store.js';

export interface EtcdStoreOptions {
  /** Client URLs of the cluster's members, http:// or https://. */
  endpoints: string[];
  /** Every key of the data set lives under this prefix. */
  prefix?: string;
  /** How long a write or a read barrier may take before it fails with STORE_UNAVAILABLE. */
  timeoutMs?: number;
  /** PEM files' contents: the CA that signs the members, and a client certificate for mutual TLS. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  auth?: { username: string; password: string };
  /** Change-log entries kept for Watch. */
  changeLogKeep?: number;
  /** How often etcd's history is compacted to what the previous round had seen; 0: never. */
  compactIntervalMs?: number;
  observeCommit?: (seconds: number) => void;
  /** Called when a write runs again because another write changed what it read. */
  observeConflict?: () => void;
  logger?: Logger;
  /** The schema this store is to have, and the steps to it: a test's later layout; else this release's. */
  schemaVersion?: number;
  migrations?: Record<number, EtcdMigration>;
}

/** A step from one store schema version to the next, on the keys under the prefix. */
export type EtcdMigration = (store: { client: Etcd3; prefix: string }) => Promise<void>;

/**
 * migrations[n] takes a data set at schema version n to n+1. None yet: version 1 is the first,
 * and release 0.1.0's data sets already have its layout.
 */
export const ETCD_MIGRATIONS: Record<number, EtcdMigration> = {};

/** Ops one transaction may carry: etcd refuses more than --max-txn-ops (128 by default). */
const MAX_TXN_OPS = 128;
/** Log entries one write may trim, so that trimming never crowds out the write's own keys. */
const TRIM_PER_WRITE = 64;
const SNAPSHOT_PAGE = 2000;

type Waiter = { revision: number; resolve: () => void; reject: (error: Error) => void };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function toText(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}

/** An error about the request itself (too large, not allowed): trying again cannot help. */
function isRequestError(error: unknown): boolean {
  return (
    error instanceof GRPCInvalidArgumentError ||
    error instanceof EtcdPermissionDeniedError ||
    error instanceof EtcdAuthenticationFailedError ||
    error instanceof GRPCUnauthenticatedError
  );
}

/** A write's result with the placeholder revision its tx returned replaced by the committed one. */
function settled<T>(result: T, revision: number): T {
  if (result === PENDING) return revision as T;
  if (typeof result === 'object' && result !== null && (result as { revision?: unknown }).revision === PENDING) {
    return { ...result, revision };
  }
  return result;
}

export class EtcdStore implements ConfigStore {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #keep: number;
  readonly #observeCommit: (seconds: number) => void;
  readonly #observeConflict: () => void;
  readonly #logger: Logger | undefined;
  #view = new EtcdView();
  #watcher: Watcher | undefined;
  #waiters: Waiter[] = [];
  readonly #listeners = new Set<(changes: ChangeRecord[]) => void>();
  readonly #ownListeners = new Set<(changes: ChangeRecord[]) => void>();
  /** Writes in flight here, by id: their changes are this replica's own. */
  readonly #ownWrites = new Set<string>();
  #syncRunning: Promise<void> | undefined;
  #syncQueued: Promise<void> | undefined;
  #problem: string | undefined;
  #problemSince = 0;
  #compactTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: EtcdStoreOptions) {
    // Always ending in "/": the range of /weft/config must not take in /weft/config2.
    this.#prefix = (options.prefix ?? '/weft/config/').replace(/\/?$/, '/');
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#keep = Math.max(1, options.changeLogKeep ?? 100_000);
    this.#observeCommit = options.observeCommit ?? (() => {});
    this.#observeConflict = options.observeConflict ?? (() => {});
    this.#logger = options.logger?.child({ component: 'etcd-store' });
    const https = options.endpoints.some((endpoint) => endpoint.startsWith('https://'));
    this.#client = new Etcd3({
      hosts: options.endpoints,
      ...(https || options.tls?.ca
        ? {
            credentials: {
              // Without a CA the system's roots sign the members.
              rootCertificate: options.tls?.ca as Buffer,
              ...(options.tls?.cert && options.tls.key
                ? { certChain: options.tls.cert, privateKey: options.tls.key }
                : {}),
            },
          }
        : {}),
      ...(options.auth ? { auth: options.auth } : {}),
      dialTimeout: this.#timeoutMs,
      faultHandling: {
        // A call that cannot reach one member tries the others; whether a write is retried after
        // that is the store's own decision (below), since only it knows the write is fenced.
        global: retry(handleWhen(isRecoverableError), { maxAttempts: options.endpoints.length }),
        // No circuit breaker: a member that comes back is used again at once.
        host: () => noop,
        watchBackoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1_000 }),
      } as never,
    });
    const interval = options.compactIntervalMs ?? 5 * 60_000;
    if (interval > 0) this.#scheduleCompaction(interval);
  }

  /** Connects, reads the whole data set and follows it; fails when etcd does not answer in time. */
  static async open(options: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(options);
    try {
      let view = await store.#snapshot(Date.now() + store.#timeoutMs * 3);
      if (await store.#migrateSchema(view, options.migrations ?? ETCD_MIGRATIONS, options.schemaVersion))
        view = await store.#snapshot(Date.now() + store.#timeoutMs * 3);
      store.#view = view;
      store.#follow(view.applied + 1);
    } catch (error) {
      store.#client.close();
      throw error;
    }
    return store;
  }

  /**
   * Brings the data set to the schema version this config-api knows, or refuses a newer one
   * before writing anything. Replicas may start together: the stamp is written only over the one
   * that was read, and a step must be safe to run twice. Returns whether anything was written.
   */
  async #migrateSchema(
    view: EtcdView,
    migrations: Record<number, EtcdMigration>,
    known = STORE_SCHEMA_VERSION,
  ): Promise<boolean> {
    const stamp = view.entries.get(keys.SCHEMA_VERSION);
    // No stamp: a new data set, or one from release 0.1.0 (version 1).
    const found = stamp ? Number(stamp.value) : view.entries.size > 0 ? 1 : 0;
    const where = `the etcd config store at prefix ${this.#prefix}`;
    const plan = found === 0 ? [] : stepsFrom(where, found, migrations, known);
    if (stamp && found === known) return false;
    const context = { client: this.#client, prefix: this.#prefix };
    for (const { step } of plan) await step(context);
    const key = this.#prefix + keys.SCHEMA_VERSION;
    const stamped = await this.#client
      .if(key, 'Mod', '==', stamp?.mod ?? 0)
      .then(this.#client.put(key).value(String(known)))
      .commit();
    if (!stamped.succeeded) {
      // Another replica stamped it first; it may be a newer one.
      const now = Number(await this.#client.get(key).string());
      if (now > known) stepsFrom(where, now, migrations, known);
    }
    this.#logger?.info({ from: found, to: known }, 'config store schema brought forward');
    return true;
  }

  // ---- following etcd ----

  async #snapshot(deadline: number): Promise<EtcdView> {
    const view = new EtcdView();
    const prefix = Buffer.from(this.#prefix);
    const end = keys.prefixEnd(prefix);
    let from = prefix;
    let revision: string | undefined;
    for (;;) {
      const page = await this.#client.kv.range(
        { key: from, range_end: end, limit: SNAPSHOT_PAGE, ...(revision ? { revision } : {}) },
        { deadline },
      );
      revision ??= page.header.revision;
      for (const kv of page.kvs) this.#applyKv(view, kv, 'Put');
      if (!page.more || page.kvs.length === 0) break;
      from = Buffer.concat([page.kvs[page.kvs.length - 1]!.key, Buffer.from([0])]);
    }
    view.applied = Number(revision);
    view.head = Number(view.entries.get(keys.HEAD)?.mod ?? view.applied);
    return view;
  }

  /** Applies one key-value; returns the change when it is a new log entry. */
  #applyKv(view: EtcdView, kv: IKeyValue, type: 'Put' | 'Delete'): ChangeRecord | undefined {
    const key = toText(kv.key).slice(this.#prefix.length);
    if (type === 'Delete') {
      view.set(key, undefined);
      return undefined;
    }
    const mod = Number(kv.mod_revision);
    const create = Number(kv.create_revision);
    const text = toText(kv.value);
    const value = key.startsWith(keys.LOG) ? keys.decodeLogValue(text) : JSON.parse(text);
    view.set(key, { value, mod, create });
    if (key === keys.HEAD) view.head = mod;
    return key.startsWith(keys.LOG) ? view.changeOfWrite(key.slice(keys.LOG.length)) : undefined;
  }

  #follow(fromRevision: number): void {
    const watcher = this.#client.watch().prefix(this.#prefix).startRevision(String(fromRevision)).watcher();
    this.#watcher = watcher;
    // etcd3 resumes a broken watch from the revision in its request, which it sets from each
    // response's header; during a catch-up that header is ahead of the events sent so far. The
    // view's own revision is what was really applied: the watch resumes from there.
    const resumeFromView = () => {
      (watcher.request as { start_revision?: string }).start_revision = String(this.#view.applied + 1);
    };
    watcher.on('connected', () => {
      resumeFromView();
      if (this.#problem) this.#logger?.info('etcd watch connected again');
      this.#trouble(undefined);
    });
    watcher.on('data', (response: IWatchResponse) => {
      this.#onWatch(response);
      resumeFromView();
    });
    watcher.on('disconnected', (error: Error) => {
      if (this.#closed) return;
      if (!this.#problem) this.#logger?.warn({ err: error }, 'etcd watch disconnected; reconnecting');
      this.#trouble(`etcd watch disconnected: ${error.message}`);
    });
    watcher.on('error', (error: Error) => {
      if (this.#closed) return;
      // The history the watch needs was compacted away (it was away for long): read everything again.
      this.#logger?.warn({ err: error }, 'etcd watch cancelled; reading the whole data set again');
      this.#trouble(`etcd watch cancelled: ${error.message}`);
      void this.#reload();
    });
  }

  #onWatch(response: IWatchResponse): void {
    const view = this.#view;
    const changes: ChangeRecord[] = [];
    let last = view.applied;
    for (const event of response.events) {
      const mod = Number(event.kv.mod_revision);
      if (mod <= view.applied) continue;
      const change = this.#applyKv(view, event.kv, event.type);
      if (change) changes.push(change);
      last = Math.max(last, mod);
    }
    // A response without events is a progress notice, sent only once the watch has caught up.
    view.applied = response.events.length > 0 ? last : Math.max(last, Number(response.header.revision));
    this.#deliver(changes);
    this.#wakeWaiters();
  }

  #deliver(changes: ChangeRecord[]): void {
    if (changes.length === 0) return;
    changes.sort((a, b) => a.revision - b.revision);
    for (const listener of this.#listeners) {
      try {
        listener(changes);
      } catch {}
    }
    const own = changes.filter((change) => this.#ownWrites.has(this.#writeIdOf(change)));
    if (own.length > 0) {
      for (const listener of this.#ownListeners) {
        try {
          listener(own);
        } catch {}
      }
    }
  }

  #writeIdOf(change: ChangeRecord): string {
    return this.#view.writeIdOf(change) ?? '';
  }

  async #reload(): Promise<void> {
    const old = this.#watcher;
    this.#watcher = undefined;
    await old?.cancel().catch(() => {});
    while (!this.#closed) {
      try {
        const view = await this.#snapshot(Date.now() + this.#timeoutMs);
        const before = this.#view.head;
        this.#view = view;
        this.#follow(view.applied + 1);
        this.#trouble(undefined);
        this.#deliver(view.changesSince(before + 1, Number.MAX_SAFE_INTEGER));
        this.#wakeWaiters();
        return;
      } catch (error) {
        this.#trouble(`etcd unreachable: ${(error as Error).message}`);
        await sleep(500);
      }
    }
  }

  #wakeWaiters(): void {
    const applied = this.#view.applied;
    const ready = this.#waiters.filter((waiter) => waiter.revision <= applied);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((waiter) => waiter.revision > applied);
    for (const waiter of ready) waiter.resolve();
  }

  /** Resolves once the view has applied `revision`, or fails at the deadline. */
  #applied(revision: number, deadline: number): Promise<void> {
    if (this.#view.applied >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((other) => other !== waiter);
        reject(this.#unavailable(`the watch did not deliver revision ${revision}`));
      }, deadline - Date.now());
      this.#waiters.push(waiter);
    });
  }

  #unavailable(reason: string) {
    return errors.STORE_UNAVAILABLE({ store: 'etcd', timeout: `${this.#timeoutMs / 1000} s`, reason });
  }

  // ---- reads ----

  revision(): number {
    return this.#view.revision();
  }

  trimmedThrough(): number {
    return this.#view.trimmedThrough();
  }

  get = (uuid: string) => this.#view.get(uuid);
  getMany = (uuids: string[]) => this.#view.getMany(uuids);
  uuidOf = (type: string, fqName: string[]) => this.#view.uuidOf(type, fqName);
  list = (query: ListQuery) => this.#view.list(query);
  count = (query: ListQuery) => this.#view.count(query);
  children = (parentUuids: string[], limit?: number) => this.#view.children(parentUuids, limit);
  backRefs = (toUuids: string[], limit?: number) => this.#view.backRefs(toUuids, limit);
  reservationOwner = (scope: string, value: string) => this.#view.reservationOwner(scope, value);
  reservations = (scope: string) => this.#view.reservations(scope);
  countsByType = () => this.#view.countsByType();
  allReservations = () => this.#view.allReservations();
  changesSince = (fromRevision: number, limit: number) => this.#view.changesSince(fromRevision, limit);

  /**
   * Read barrier: reads the head key from etcd (linearizable: a quorum confirms it) and waits
   * until the view has applied that revision. Callers that arrive while one read is out share
   * the next one, which starts after them.
   */
  sync(): Promise<void> {
    if (!this.#syncRunning) {
      this.#syncRunning = this.#readHead().finally(() => {
        this.#syncRunning = undefined;
      });
      return this.#syncRunning;
    }
    this.#syncQueued ??= this.#syncRunning
      .catch(() => {})
      .then(() => {
        this.#syncQueued = undefined;
        return this.sync();
      });
    return this.#syncQueued;
  }

  async #readHead(): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    let head: number;
    for (;;) {
      try {
        const response = await this.#client.kv.range(
          { key: Buffer.from(this.#prefix + keys.HEAD) },
          { deadline: this.#attemptDeadline(deadline) },
        );
        head = Number(response.kvs[0]?.mod_revision ?? 0);
        break;
      } catch (error) {
        // A member just restarted or between leaders answers with an error of its own: try again.
        if (isRequestError(error) || Date.now() >= deadline - 50) throw this.#unavailable((error as Error).message);
        await sleep(50);
      }
    }
    await this.#applied(head, deadline);
  }

  /**
   * Each call to etcd gets a part of the whole deadline: one sent to a member that has just lost
   * its leader waits for nothing, and the next attempt finds the new leader before the deadline.
   */
  #attemptDeadline(deadline: number): number {
    return Math.min(deadline, Date.now() + Math.max(300, this.#timeoutMs / 4));
  }

  /** Not ready once the watch has been away longer than a request may wait (a blip is not reported). */
  health(): string | undefined {
    return this.#problem && Date.now() - this.#problemSince >= this.#timeoutMs ? this.#problem : undefined;
  }

  #trouble(problem: string | undefined): void {
    if (problem && !this.#problem) this.#problemSince = Date.now();
    this.#problem = problem;
  }

  // ---- writes ----

  onCommit(listener: (changes: ChangeRecord[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onOwnCommit(listener: (changes: ChangeRecord[]) => void): () => void {
    this.#ownListeners.add(listener);
    return () => this.#ownListeners.delete(listener);
  }

  async write<T>(change: (tx: WriteTx) => T): Promise<T> {
    if (this.#closed) throw this.#unavailable('the store is closed');
    const writeId = randomUUID();
    const deadline = Date.now() + this.#timeoutMs;
    const results: T[] = [];
    this.#ownWrites.add(writeId);
    try {
      for (let failures = 0; ; ) {
        if (Date.now() >= deadline) {
          this.#logger?.warn({ attempts: results.length, failures }, 'a write ran out of time');
          throw this.#unavailable(
            `etcd did not commit the write (${results.length} attempt(s), ${failures} without an answer); it may still be applied`,
          );
        }
        const viewRevision = this.#view.applied;
        const tx = new EtcdTx(this.#view, results.length);
        let result: T;
        let attempt: Attempt;
        try {
          result = change(tx.tx);
        } catch (error) {
          tx.undo();
          // A refusal (not found, taken, in use…) may come from a view that missed a commit of
          // another replica: read the head, and run the body again when the view moved. Bad
          // input (400) says the same whatever the data.
          if (error instanceof OneChangePerWrite || (error as { httpStatus?: number }).httpStatus === 400) throw error;
          await this.sync();
          if (this.#view.applied !== viewRevision) continue;
          throw error;
        }
        attempt = tx.undo();
        if (!attempt.change) {
          if (attempt.ops.length > 0) throw new Error('a write that reserves or releases must also change an object');
          return result;
        }
        results.push(result);
        const started = performance.now();
        try {
          const response = await this.#client.kv.txn(
            this.#transaction(writeId, results.length - 1, attempt, viewRevision),
            { deadline: this.#attemptDeadline(deadline) },
          );
          if (response.succeeded) {
            const revision = Number(response.header.revision);
            this.#observeCommit((performance.now() - started) / 1000);
            // Committed: the answer is yes whatever comes next. The watch normally brings it
            // into this replica's view at once; reads wait for it through the barrier anyway.
            await this.#applied(revision, Math.max(deadline, Date.now() + this.#timeoutMs)).catch((error) =>
              this.#logger?.warn({ err: error, revision }, 'a committed write is slow to come back through the watch'),
            );
            return settled(result, revision);
          }
          // Something it read changed, or an earlier attempt of this write committed after all.
          this.#observeConflict();
          await this.sync();
        } catch (error) {
          if ((error as { code?: string }).code === 'STORE_UNAVAILABLE') throw error;
          if (isRequestError(error)) throw this.#unavailable((error as Error).message);
          if (Date.now() >= deadline) {
            throw this.#unavailable(`${(error as Error).message}; the write may still be applied`);
          }
          // The answer was lost: find out whether it committed (the fence makes a retry safe).
          failures += 1;
          await sleep(Math.min(25 * 2 ** failures, 500));
          try {
            await this.sync();
          } catch {
            continue;
          }
        }
        const committed = this.#view.attemptOfWrite(writeId);
        if (committed !== undefined) {
          return settled(results[committed] as T, this.#view.changeOfWrite(writeId)!.revision);
        }
      }
    } finally {
      this.#ownWrites.delete(writeId);
    }
  }

  #transaction(writeId: string, attemptNumber: number, attempt: Attempt, viewRevision: number) {
    const key = (relative: string) => Buffer.from(this.#prefix + relative);
    const rangeCompare = (prefix: string) => ({
      key: key(prefix),
      range_end: keys.prefixEnd(key(prefix)),
      target: 'Mod' as const,
      result: 'Less' as const,
      mod_revision: viewRevision + 1,
    });
    const ranges = new Set(attempt.rangeReads);
    let points = [...attempt.pointReads];
    if (points.length + ranges.size + 2 > MAX_TXN_OPS) {
      // Too many keys to compare one by one: compare each kind as a whole (coarser, still safe).
      for (const [relative] of points) ranges.add(relative.slice(0, relative.indexOf('/') + 1) || relative);
      points = [];
    }
    const compare = [
      ...points.map(([relative, mod]) => ({
        key: key(relative),
        target: 'Mod' as const,
        result: 'Equal' as const,
        mod_revision: mod,
      })),
      ...[...ranges].map(rangeCompare),
      // The fence: no attempt of this write has committed.
      { key: key(keys.logKey(writeId)), target: 'Create' as const, result: 'Equal' as const, create_revision: 0 },
    ];
    const success = attempt.ops.map((op) =>
      'delete' in op
        ? { request_delete_range: { key: key(op.key) } }
        : { request_put: { key: key(op.key), value: Buffer.from(JSON.stringify(op.value)) } },
    );
    success.push(
      {
        request_put: {
          key: key(keys.logKey(writeId)),
          value: Buffer.from(keys.encodeLogValue({ ...attempt.change!, attempt: attemptNumber })),
        },
      },
      { request_put: { key: key(keys.HEAD), value: Buffer.from(JSON.stringify(writeId)) } },
    );
    const trim = this.#trimmable(MAX_TXN_OPS - success.length - 1);
    if (trim.length > 0) {
      for (const { writeId: old } of trim) success.push({ request_delete_range: { key: key(keys.logKey(old)) } });
      const through = Math.max(this.#view.trimmedThrough(), trim[trim.length - 1]!.revision);
      success.push({ request_put: { key: key(keys.TRIMMED), value: Buffer.from(JSON.stringify(through)) } });
      compare.push({
        key: key(keys.TRIMMED),
        target: 'Mod',
        result: 'Equal',
        mod_revision: this.#view.entries.get(keys.TRIMMED)?.mod ?? 0,
      });
    }
    return { compare, success };
  }

  /** The oldest log entries beyond what the log keeps (in steps, like the SQLite store). */
  #trimmable(room: number): { writeId: string; revision: number }[] {
    const log = this.#view.log;
    const slack = Math.max(1, Math.floor(this.#keep / 10));
    if (log.length + 1 <= this.#keep + slack) return [];
    const count = Math.min(log.length + 1 - this.#keep, TRIM_PER_WRITE, Math.max(0, room));
    return log.oldest(count).map((change) => ({ writeId: this.#writeIdOf(change), revision: change.revision }));
  }

  // ---- housekeeping ----

  /** Compacts etcd's history to the revision the previous round had seen (as the Kubernetes API server does). */
  #scheduleCompaction(intervalMs: number): void {
    let seen = 0;
    this.#compactTimer = setInterval(() => {
      const target = seen;
      seen = this.#view.applied;
      if (target <= 0) return;
      this.#client.kv.compact({ revision: target }, { deadline: Date.now() + this.#timeoutMs }).catch((error) => {
        // Another replica compacted first, or etcd is away: the next round tries again.
        this.#logger?.debug({ err: error, revision: target }, 'etcd compaction skipped');
      });
    }, intervalMs);
    this.#compactTimer.unref();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#compactTimer);
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#unavailable('the store is closing'));
    await this.#watcher?.cancel().catch(() => {});
    this.#client.close();
  }
}
