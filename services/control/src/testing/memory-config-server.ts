// An in-memory server of the weft.config.v1.Config contract (List, Watch, Create, Update,
// Delete), for unit tests of the config feed that need what the real config-api does not let a
// test force (a trimmed log, a stalled watch) and for benchmarks that load 100,000 objects in a
// second. It validates nothing: tests of behaviour with real config go against config-api.
import { randomUUID } from 'node:crypto';
import { Server, ServerCredentials, type ServerWritableStream, type sendUnaryData, status } from '@grpc/grpc-js';
import { loadConfigProto } from '@weft/proto';
import type { ChangeEvent } from '@weft/proto/gen/weft/config/v1/ChangeEvent.js';
import type { ConfigHandlers } from '@weft/proto/gen/weft/config/v1/Config.js';
import type { ConfigObject } from '@weft/proto/gen/weft/config/v1/ConfigObject.js';
import type { WatchRequest__Output } from '@weft/proto/gen/weft/config/v1/WatchRequest.js';

type Operation = 'OPERATION_CREATE' | 'OPERATION_UPDATE' | 'OPERATION_DELETE';
type StoredObject = Required<Pick<ConfigObject, 'type' | 'uuid' | 'fq_name' | 'object_json' | 'revision'>>;

export class MemoryConfigServer {
  readonly #objects = new Map<string, StoredObject>();
  readonly #log: ChangeEvent[] = [];
  #revision = 0;
  #firstKept = 1;
  readonly #watchers = new Set<{ call: ServerWritableStream<WatchRequest__Output, ChangeEvent>; types: string[] }>();
  #server: Server | undefined;
  /** Called after each commit, e.g. to publish on NATS. */
  onCommit: ((event: ChangeEvent) => void) | undefined;
  /** While true, live changes are not streamed to watchers (a stalled watch). */
  holdWatchers = false;

  get revision(): number {
    return this.#revision;
  }

  /** Stores an object ({uuid?, fq_name, ...}) and logs the change; returns its uuid. */
  put(type: string, object: Record<string, unknown> & { fq_name: string[] }): string {
    const uuid = (object.uuid as string | undefined) ?? randomUUID();
    const existed = this.#objects.has(uuid);
    this.#revision += 1;
    const stored: StoredObject = {
      type,
      uuid,
      fq_name: object.fq_name,
      object_json: flat(JSON.stringify({ ...object, uuid })),
      revision: this.#revision,
    };
    this.#objects.set(uuid, stored);
    this.#commit(existed ? 'OPERATION_UPDATE' : 'OPERATION_CREATE', stored);
    return uuid;
  }

  remove(uuid: string): void {
    const stored = this.#objects.get(uuid);
    if (!stored) return;
    this.#objects.delete(uuid);
    this.#revision += 1;
    this.#commit('OPERATION_DELETE', { ...stored, revision: this.#revision });
  }

  /** Drops the change log before `revision`: a Watch from earlier ends OUT_OF_RANGE. */
  trimBefore(revision: number): void {
    this.#firstKept = Math.max(this.#firstKept, revision);
    while (this.#log.length > 0 && Number(this.#log[0]!.revision) < this.#firstKept) this.#log.shift();
  }

  readonly #sortedByType = new Map<string, StoredObject[]>();

  /** Objects of a type in uuid order, kept between pages until the next change. */
  #sorted(type: string): StoredObject[] {
    let sorted = this.#sortedByType.get(type);
    if (!sorted) {
      sorted = [...this.#objects.values()].filter((object) => object.type === type);
      sorted.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
      this.#sortedByType.set(type, sorted);
    }
    return sorted;
  }

  #commit(operation: Operation, stored: StoredObject): void {
    const event: ChangeEvent = {
      revision: stored.revision,
      operation,
      type: stored.type,
      uuid: stored.uuid,
      fq_name: stored.fq_name,
      object_json: stored.object_json,
      committed_at_ms: Date.now(),
    };
    this.#log.push(event);
    this.#sortedByType.delete(stored.type);
    if (!this.holdWatchers) {
      for (const watcher of this.#watchers) {
        if (watcher.types.length === 0 || watcher.types.includes(stored.type)) watcher.call.write(event);
      }
    }
    this.onCommit?.(event);
  }

  async listen(): Promise<string> {
    const server = new Server();
    const Config = loadConfigProto().weft.config.v1.Config;
    const unimplemented = (_call: unknown, callback: sendUnaryData<never>) =>
      callback({ code: status.UNIMPLEMENTED, details: 'the memory server takes objects through put()' });
    const handlers: ConfigHandlers = {
      Create: unimplemented,
      Get: unimplemented,
      Update: unimplemented,
      Delete: unimplemented,
      List: (call, callback) => {
        const { type, page_limit, page_marker } = call.request;
        const all = this.#sorted(type);
        const start = page_marker ? firstAfter(all, page_marker) : 0;
        const from = start < 0 ? all.length : start;
        const page = all.slice(from, from + (page_limit || 1000));
        const more = from + page.length < all.length;
        callback(null, {
          objects: page,
          next_page_marker: more ? page.at(-1)!.uuid : '',
          revision: this.#revision,
        });
      },
      Watch: (call: ServerWritableStream<WatchRequest__Output, ChangeEvent>) => {
        const from = Number(call.request.from_revision);
        const types = call.request.types;
        if (from < this.#firstKept && from <= this.#revision) {
          call.emit('error', { code: status.OUT_OF_RANGE, details: `revision ${from} was trimmed` });
          return;
        }
        for (const event of this.#log) {
          if (Number(event.revision) >= from && (types.length === 0 || types.includes(event.type!))) call.write(event);
        }
        const watcher = { call, types };
        this.#watchers.add(watcher);
        const drop = () => this.#watchers.delete(watcher);
        call.on('cancelled', drop);
        call.on('close', drop);
      },
    };
    server.addService(Config.service, handlers);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    this.#server = server;
    return `127.0.0.1:${port}`;
  }

  /** Ends every watch stream (as a config-api restart would), keeping the data. */
  endWatches(): void {
    for (const watcher of this.#watchers) watcher.call.end();
    this.#watchers.clear();
  }

  close(): void {
    this.#server?.forceShutdown();
  }
}

/**
 * The text as one flat string. V8's JSON.stringify may answer a tree of pieces that is flattened
 * in place when first read; the server would then grow during control's listing, and a
 * benchmark would count that as control's heap.
 */
function flat(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** Index of the first object whose uuid sorts after `marker`. */
function firstAfter(sorted: StoredObject[], marker: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle]!.uuid <= marker) low = middle + 1;
    else high = middle;
  }
  return low;
}
