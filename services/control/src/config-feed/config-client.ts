// The gRPC client of config-api's weft.config.v1.Config service, reduced to what control uses:
// list every object of some types, and watch the change log from a revision.
import { type ClientReadableStream, Metadata } from '@grpc/grpc-js';
import { configApiTokenOf, grpcChannelCredentials, type TlsFiles } from '@weft/kit';
import { loadConfigProto } from '@weft/proto';
import type { ChangeEvent__Output } from '@weft/proto/gen/weft/config/v1/ChangeEvent.js';
import type { ConfigClient as GrpcConfigClient } from '@weft/proto/gen/weft/config/v1/Config.js';
import type { ListResponse__Output } from '@weft/proto/gen/weft/config/v1/ListResponse.js';
import { type AnyStoredObject, type CompiledType, storedObject } from './store.js';

export interface Listing {
  objects: AnyStoredObject[];
  /** The lowest revision any page was read at: watching from revision + 1 misses nothing. */
  revision: number;
}

const PAGE_LIMIT = 1000;

export class ConfigClient {
  readonly #client: GrpcConfigClient;

  constructor(
    address: string,
    tls?: TlsFiles,
    /** The token to send: a file (read again for every call, so that it can be rotated) or the token. */
    readonly credentials: { file?: string | undefined; token?: string | undefined } = {},
  ) {
    const Config = loadConfigProto().weft.config.v1.Config;
    this.#client = new Config(address, grpcChannelCredentials(tls), {
      // A config-api restart must not leave control waiting on a long reconnect backoff.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2_000,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
  }

  /** The token as call metadata, both ways config-api takes it. */
  #metadata(): Metadata {
    const metadata = new Metadata();
    // No token (a file not there yet): a config-api that wants one says so (UNAUTHENTICATED),
    // and the feed retries, reading the file again.
    const token = configApiTokenOf(this.credentials);
    if (!token) return metadata;
    metadata.set('x-auth-token', token);
    metadata.set('authorization', `Bearer ${token}`);
    return metadata;
  }

  #page(type: string, pageMarker: string): Promise<ListResponse__Output> {
    return new Promise((resolve, reject) => {
      this.#client.List(
        { type, page_limit: PAGE_LIMIT, page_marker: pageMarker },
        this.#metadata(),
        { deadline: Date.now() + 30_000 },
        (error, response) =>
          error || !response ? reject(error ?? new Error('empty List response')) : resolve(response),
      );
    });
  }

  /** Every object of the given types, page after page; the types are listed side by side. */
  async listAll(types: readonly CompiledType[]): Promise<Listing> {
    const listings = await Promise.all(types.map((type) => this.#listType(type)));
    return {
      objects: listings.flatMap((listing) => listing.objects),
      revision: Math.min(...listings.map((listing) => listing.revision)),
    };
  }

  async #listType(type: CompiledType): Promise<Listing> {
    const objects: AnyStoredObject[] = [];
    let revision = Number.POSITIVE_INFINITY;
    let marker = '';
    do {
      const page = await this.#page(type, marker);
      revision = Math.min(revision, Number(page.revision));
      for (const object of page.objects)
        objects.push(storedObject({ ...object, type, revision: Number(object.revision) }));
      marker = page.next_page_marker;
    } while (marker !== '');
    return { objects, revision: Number.isFinite(revision) ? revision : 0 };
  }

  /** The change log from `fromRevision` on, replayed then live, for the given types. */
  watch(fromRevision: number, types: readonly string[]): ClientReadableStream<ChangeEvent__Output> {
    return this.#client.Watch({ from_revision: fromRevision, types: [...types] }, this.#metadata());
  }

  close(): void {
    this.#client.close();
  }
}
