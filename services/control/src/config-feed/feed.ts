// Config consumption that never misses a change.
//
//   List every type control compiles  ──► store (reconciled: only real differences change it)
//   Watch(from_revision = list revision + 1)  ──► each change, in revision order
//   NATS weft.config.changes  ──► the next revision applied at once (low latency); a later one
//                                 only wakes the watch, which then fills the gap in order
//   gap in revisions, or Watch ends OUT_OF_RANGE (log trimmed)  ──► list again and reconcile
//
// control keeps nothing on disk, so after a restart it "resumes" by listing and watching again;
// while running, a broken watch resumes from the last revision it applied.
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { CONFIG_CHANGES_SUBJECT, type Logger, type Metrics, type NatsConnection } from '@weft/kit';
import { messageCodec } from '@weft/proto';
import type { ChangeEvent, ChangeEvent__Output } from '@weft/proto/gen/weft/config/v1/ChangeEvent.js';
import type { Subscription } from 'nats';
import type { ConfigClient } from './config-client.js';
import { COMPILED_TYPES, type ConfigStore, isCompiledType, storedObject } from './store.js';

/** Where config-api publishes every committed change (the kit's one declaration of it). */
export { CONFIG_CHANGES_SUBJECT };

export interface ConfigFeedOptions {
  client: ConfigClient;
  store: ConfigStore;
  /** Called after each batch of changes the store took (and after each reconciling list). */
  onChange: () => void;
  logger: Logger;
  metrics: Metrics;
  /** How long a NATS event ahead of the watch may wait before the watch is restarted. */
  watchStallMs?: number;
}

class RelistNeeded extends Error {}

export class ConfigFeed {
  #revision = 0;
  #synced = false;
  #closed = false;
  #needList = true;
  #watch: ReturnType<ConfigClient['watch']> | undefined;
  #wake: (() => void) | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #subscription: Subscription | undefined;
  #loop: Promise<void> | undefined;
  readonly #syncedWaiters: (() => void)[] = [];
  readonly #logger: Logger;
  readonly #codec = messageCodec<ChangeEvent, ChangeEvent__Output>('weft.config.v1.ChangeEvent');
  readonly #revisionGauge;
  readonly #relists;
  readonly #events;

  constructor(private readonly options: ConfigFeedOptions) {
    this.#logger = options.logger.child({ component: 'config-feed' });
    this.#revisionGauge = options.metrics.gauge('config_revision', 'last config revision applied');
    this.#relists = options.metrics.counter('config_relists_total', 'full config listings, by reason', ['reason']);
    this.#events = options.metrics.counter('config_events_total', 'config changes applied, by path', ['path']);
  }

  get revision(): number {
    return this.#revision;
  }

  /** True once a full listing is in the store: before that, nothing is sent to any agent. */
  get synced(): boolean {
    return this.#synced;
  }

  whenSynced(): Promise<void> {
    return this.#synced ? Promise.resolve() : new Promise((resolve) => this.#syncedWaiters.push(resolve));
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** NATS gives low latency and wakes a watch that fell behind; it is never the only path. */
  subscribe(connection: NatsConnection): void {
    this.#subscription = connection.subscribe(CONFIG_CHANGES_SUBJECT, {
      callback: (error, message) => {
        if (error || this.#closed) return;
        try {
          this.#onNatsEvent(this.#codec.decode(message.data));
        } catch (decodeError) {
          this.#logger.warn({ err: decodeError }, 'undecodable config change on NATS; the watch will carry it');
        }
      },
    });
  }

  #onNatsEvent(event: ChangeEvent__Output): void {
    const revision = Number(event.revision);
    if (!this.#synced || this.#needList || revision <= this.#revision) return;
    if (revision === this.#revision + 1) {
      if (this.#apply(event, 'nats')) this.options.onChange();
      return;
    }
    // Ahead of us: the watch should be delivering it; wake a backoff, and restart a watch that
    // does not catch up in time.
    this.#wake?.();
    if (!this.#stallTimer) {
      this.#stallTimer = setTimeout(() => {
        this.#stallTimer = undefined;
        if (this.#revision < revision && this.#watch) {
          this.#logger.warn({ have: this.#revision, seen: revision }, 'watch fell behind NATS; restarting it');
          this.#watch.cancel();
        }
      }, this.options.watchStallMs ?? 1_000);
    }
  }

  /** Applies one change in order; true when it changed what control compiles. */
  #apply(event: ChangeEvent__Output, path: 'watch' | 'nats'): boolean {
    const revision = Number(event.revision);
    this.#revision = revision;
    this.#revisionGauge.set(revision);
    this.#events.inc({ path });
    // Other types are not compiled, but their revisions count: the next change must follow them.
    const type = event.type;
    if (!isCompiledType(type)) return false;
    if (event.operation === 'OPERATION_DELETE') return this.options.store.remove(type, event.uuid, revision);
    return this.options.store.upsert(storedObject({ ...event, type, revision }));
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      try {
        if (this.#needList) await this.#list();
        failures = 0;
        await this.#watchUntilEnd();
        // The server ended the stream (it is stopping, or we restarted a stalled watch): watch
        // again from where we are, after a breath so that a closing server is not hammered.
        if (!this.#closed) await this.#sleep(100);
      } catch (error) {
        if (this.#closed) return;
        const code = (error as ServiceError).code;
        if (error instanceof RelistNeeded || code === GrpcStatus.OUT_OF_RANGE) {
          this.#needList = true;
          this.#relists.inc({ reason: error instanceof RelistNeeded ? 'gap' : 'trimmed' });
          this.#logger.info({ revision: this.#revision, reason: (error as Error).message }, 'listing config again');
          continue;
        }
        failures += 1;
        const delay = Math.min(100 * 2 ** Math.min(failures, 5), 3_000);
        if (failures === 1 || failures % 10 === 0) {
          this.#logger.warn(
            { err: error, revision: this.#revision, retryInMs: delay },
            'config-api unreachable; retrying',
          );
        }
        await this.#sleep(delay);
      }
    }
  }

  async #list(): Promise<void> {
    const listing = await this.options.client.listAll(COMPILED_TYPES);
    if (this.#closed) return;
    const changed = this.options.store.replaceAll(listing.objects);
    this.#revision = listing.revision;
    this.#revisionGauge.set(listing.revision);
    this.#needList = false;
    if (!this.#synced) this.#relists.inc({ reason: 'start' });
    this.#logger.info({ revision: listing.revision, objects: listing.objects.length, changed }, 'config listed');
    const first = !this.#synced;
    this.#synced = true;
    if (changed > 0 || first) this.options.onChange();
    if (first) for (const resolve of this.#syncedWaiters.splice(0)) resolve();
  }

  #watchUntilEnd(): Promise<void> {
    return new Promise((resolve, reject) => {
      const stream = this.options.client.watch(this.#revision + 1, []);
      this.#watch = stream;
      let pending = false;
      const settle = (error?: Error) => {
        if (this.#watch === stream) this.#watch = undefined;
        stream.removeAllListeners();
        stream.on('error', () => {});
        if (error) reject(error);
        else resolve();
      };
      stream.on('data', (event: ChangeEvent__Output) => {
        const revision = Number(event.revision);
        if (revision <= this.#revision) return; // already applied from NATS
        if (revision !== this.#revision + 1) {
          stream.cancel();
          settle(new RelistNeeded(`watch jumped from revision ${this.#revision} to ${revision}`));
          return;
        }
        // Many replayed changes arrive in one turn: compile once for all of them.
        if (this.#apply(event, 'watch') && !pending) {
          pending = true;
          setImmediate(() => {
            pending = false;
            this.options.onChange();
          });
        }
      });
      stream.on('error', (error: ServiceError) => {
        // A cancel we asked for (stall) is not a failure: watch again from where we are.
        if (error.code === GrpcStatus.CANCELLED && !this.#closed) settle();
        else settle(error);
      });
      stream.on('end', () => settle());
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#stallTimer);
    this.#subscription?.unsubscribe();
    this.#watch?.cancel();
    this.#wake?.();
    await this.#loop?.catch(() => {});
  }
}
