// config-api's gRPC Config service for watch: List gives the objects and the store's revision,
// Watch(from_revision = revision + 1) every change after it, with no gap and no duplicate. The
// context's token goes in the call metadata both ways authentication takes it.
import { readFileSync } from 'node:fs';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { loadConfigProto } from '@weft/proto';
import type { ChangeEvent__Output } from '@weft/proto/gen/weft/config/v1/ChangeEvent.js';
import type { ConfigClient } from '@weft/proto/gen/weft/config/v1/Config.js';
import type { ListResponse__Output } from '@weft/proto/gen/weft/config/v1/ListResponse.js';
import { errors } from '../errors.js';
import type { Tls } from '../http.js';
import type { VncObject } from './config-api.js';

export interface Change {
  revision: number;
  operation: 'ADDED' | 'MODIFIED' | 'DELETED';
  type: string;
  object: VncObject;
}

const OPERATIONS: Record<string, Change['operation']> = {
  OPERATION_CREATE: 'ADDED',
  OPERATION_UPDATE: 'MODIFIED',
  OPERATION_DELETE: 'DELETED',
};

export class ConfigWatch {
  readonly #client: ConfigClient;
  readonly #metadata = new Metadata();

  constructor(
    readonly address: string,
    { token, tls, secure }: { token?: string; tls?: Tls; secure: boolean },
  ) {
    const Config = loadConfigProto().weft.config.v1.Config;
    const read = (path?: string) => (path ? readFileSync(path) : null);
    const channel =
      secure || tls?.ca
        ? credentials.createSsl(read(tls?.ca), read(tls?.key), read(tls?.cert))
        : credentials.createInsecure();
    this.#client = new Config(address, channel);
    if (token) {
      this.#metadata.set('authorization', `Bearer ${token}`);
      this.#metadata.set('x-auth-token', token);
    }
  }

  #fail(error: { code?: number; details?: string; message: string }) {
    if (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED) {
      return errors.unreachable('config-api gRPC', this.address, error.details ?? error.message, error);
    }
    return errors.api('config-api gRPC', error.code === status.UNAUTHENTICATED ? 401 : 500, {
      message: error.details ?? error.message,
    });
  }

  /** Every object of a type, and the revision the listing was read at. */
  async list(type: string): Promise<{ objects: VncObject[]; revision: number }> {
    const objects: VncObject[] = [];
    let revision = Number.POSITIVE_INFINITY;
    let marker = '';
    do {
      const page = await new Promise<ListResponse__Output>((resolve, reject) =>
        this.#client.List(
          { type, page_limit: 1000, page_marker: marker },
          this.#metadata,
          { deadline: Date.now() + 30_000 },
          (error, answer) =>
            error || !answer ? reject(this.#fail(error ?? { message: 'empty answer' })) : resolve(answer),
        ),
      );
      revision = Math.min(revision, Number(page.revision));
      for (const item of page.objects) objects.push(JSON.parse(item.object_json) as VncObject);
      marker = page.next_page_marker;
    } while (marker);
    return { objects, revision };
  }

  /** Streams the changes of a type from a revision until stop() or an error. */
  watch(type: string, fromRevision: number, onChange: (change: Change) => void): { done: Promise<void>; stop(): void } {
    const call = this.#client.Watch({ from_revision: fromRevision, types: [type] }, this.#metadata);
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (event: ChangeEvent__Output) => {
        const object = event.object_json
          ? (JSON.parse(event.object_json) as VncObject)
          : ({ uuid: event.uuid, fq_name: event.fq_name } as VncObject);
        onChange({
          revision: Number(event.revision),
          operation: OPERATIONS[event.operation] ?? 'MODIFIED',
          type: event.type,
          object,
        });
      });
      call.on('error', (error: { code?: number; details?: string; message: string }) =>
        error.code === status.CANCELLED ? resolve() : reject(this.#fail(error)),
      );
      call.on('end', () => resolve());
    });
    return { done, stop: () => call.cancel() };
  }

  close(): void {
    this.#client.close();
  }
}
