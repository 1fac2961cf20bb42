// An in-memory server of the weft.config.v1.Config contract (List, Watch, Create, Update,
// Delete), for unit tests of the config feed that need what the real config-api does not let a
// test force (a trimmed log, a stalled watch) and for benchmarks that load 100,000 objects in a
// second. It validates nothing: tests of behaviour with real config go against config-api.
// Each object is encoded once and List pages are written from those bytes: config-api runs in a
// process of its own, and a benchmark that runs this server beside control must not count its
// encoding (a sixth of the listing's time when it used the library) as control's.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Server, ServerCredentials, type ServerWritableStream, type sendUnaryData, status } from '@grpc/grpc-js';
import { loadConfigProto, messageCodec, protoFiles, protoRoot } from '@weft/proto';
import type { ChangeEvent } from '@weft/proto/gen/weft/config/v1/ChangeEvent.js';
import type { ConfigHandlers } from '@weft/proto/gen/weft/config/v1/Config.js';
import type { ConfigObject } from '@weft/proto/gen/weft/config/v1/ConfigObject.js';
import type { WatchRequest__Output } from '@weft/proto/gen/weft/config/v1/WatchRequest.js';
import protobuf from 'protobufjs';

type Operation = 'OPERATION_CREATE' | 'OPERATION_UPDATE' | 'OPERATION_DELETE';
type StoredObject = Required<Pick<ConfigObject, 'type' | 'uuid' | 'fq_name' | 'object_json' | 'revision'>> & {
  /** The ConfigObject's bytes, made once when it is put. */
  encoded?: Uint8Array;
};

const configObjectCodec = messageCodec<ConfigObject, unknown>('weft.config.v1.ConfigObject');

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
    // Encoded now, not at the first List: a benchmark would count it as control's time and heap.
    stored.encoded = configObjectCodec.encode(stored);
    const before = this.#objects.get(uuid);
    if (before && before.type !== type) this.#index(before, false);
    this.#objects.set(uuid, stored);
    this.#index(stored, true);
    this.#commit(existed ? 'OPERATION_UPDATE' : 'OPERATION_CREATE', stored);
    return uuid;
  }

  remove(uuid: string): void {
    const stored = this.#objects.get(uuid);
    if (!stored) return;
    this.#objects.delete(uuid);
    this.#index(stored, false);
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
      sorted = [...(this.#ofType.get(type)?.values() ?? [])];
      sorted.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
      this.#sortedByType.set(type, sorted);
    }
    return sorted;
  }

  /** The objects by type too, so that listing one type does not scan every object. */
  readonly #ofType = new Map<string, Map<string, StoredObject>>();

  #index(stored: StoredObject, present: boolean): void {
    let ofType = this.#ofType.get(stored.type);
    if (!ofType) {
      ofType = new Map();
      this.#ofType.set(stored.type, ofType);
    }
    if (present) ofType.set(stored.uuid, stored);
    else ofType.delete(stored.uuid);
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
        // Bytes, which the service definition below writes as they are.
        callback(null, listResponse(page, more ? page.at(-1)!.uuid : '', this.#revision) as never);
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
    const list = Config.service.List;
    server.addService(
      {
        ...Config.service,
        List: {
          ...list,
          responseSerialize: (value: unknown) =>
            Buffer.isBuffer(value)
              ? value
              : list.responseSerialize(value as Parameters<typeof list.responseSerialize>[0]),
        },
      },
      handlers,
    );
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

// ListResponse's field tags, from config.proto through protobufjs' reflection.
const ListResponseType = new protobuf.Root()
  .loadSync(join(protoRoot, protoFiles.config), { keepCase: true })
  .lookupType('weft.config.v1.ListResponse');
const tagOf = (field: string, wireType: number) => (ListResponseType.fields[field]!.id << 3) | wireType;
const OBJECTS = tagOf('objects', 2);
const NEXT_PAGE_MARKER = tagOf('next_page_marker', 2);
const REVISION = tagOf('revision', 0);

function varintSize(value: number): number {
  let size = 1;
  for (; value >= 128; value = Math.floor(value / 128)) size += 1;
  return size;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  for (; value >= 128; value = Math.floor(value / 128)) out[at++] = (value % 128) | 128;
  out[at++] = value;
  return at;
}

/** A ListResponse written from each object's bytes (encoded once, at put), into one buffer. */
function listResponse(page: StoredObject[], nextPageMarker: string, revision: number): Buffer {
  const markerLength = Buffer.byteLength(nextPageMarker);
  let size = varintSize(NEXT_PAGE_MARKER) + varintSize(markerLength) + markerLength;
  size += varintSize(REVISION) + varintSize(revision);
  for (const object of page) {
    object.encoded ??= configObjectCodec.encode(object);
    size += varintSize(OBJECTS) + varintSize(object.encoded.length) + object.encoded.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const object of page) {
    at = writeVarint(out, at, OBJECTS);
    at = writeVarint(out, at, object.encoded!.length);
    out.set(object.encoded!, at);
    at += object.encoded!.length;
  }
  at = writeVarint(out, at, NEXT_PAGE_MARKER);
  at = writeVarint(out, at, markerLength);
  at += out.write(nextPageMarker, at);
  at = writeVarint(out, at, REVISION);
  writeVarint(out, at, revision);
  return out;
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
