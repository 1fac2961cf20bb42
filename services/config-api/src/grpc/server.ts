// weft.config.v1.Config over gRPC: the same service, semantics and errors as the REST API.
// Objects travel as the REST API's JSON; errors carry the catalog's gRPC status and message.
import { Metadata, type ServerErrorResponse, status } from '@grpc/grpc-js';
import { type Logger, WeftError } from '@weft/kit';
import type { ConfigHandlers } from '@weft/proto/gen/weft/config/v1/Config.js';
import type { ConfigObject } from '@weft/proto/gen/weft/config/v1/ConfigObject.js';
import { errors, invalid } from '../errors.js';
import { toChangeEvent } from '../events/publisher.js';
import type { ConfigService } from '../service/config-service.js';
import type { StoredObject } from '../store/store.js';
import { watchChanges } from './watch.js';

const DEFAULT_PAGE = 1000;
const MAX_PAGE = 100_000;

function toGrpcError(error: unknown, logger: Logger): Partial<ServerErrorResponse> {
  if (error instanceof WeftError) {
    const metadata = new Metadata();
    metadata.set('weft-error-code', error.code);
    if (typeof error.details.field === 'string') metadata.set('weft-error-field', error.details.field);
    return { code: error.grpcStatus, details: error.message, metadata };
  }
  logger.error({ err: error }, 'gRPC call failed');
  return { code: status.INTERNAL, details: 'internal error; see the service log' };
}

function parseObject(json: string, field: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw invalid(field, `is not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalid(field, 'must be a JSON object');
  return parsed as Record<string, unknown>;
}

export interface ConfigGrpc {
  handlers: ConfigHandlers;
  /** Ends every open Watch stream, so that a stopping server does not wait for them. */
  endWatches(): void;
}

export function configHandlers(service: ConfigService, hrefBase: () => string, logger: Logger): ConfigGrpc {
  const watches = new Set<{ end(): void }>();
  const log = logger.child({ component: 'grpc' });
  const toMessage = (object: StoredObject): ConfigObject => ({
    type: object.type,
    uuid: object.uuid,
    fq_name: object.fqName,
    object_json: JSON.stringify(service.render(object, hrefBase())),
    revision: object.revision,
  });
  // Reads first wait for the store's read barrier (a write through another replica is seen).
  const unary =
    <Req, Res>(handle: (request: Req) => Promise<Res> | Res, { read = false } = {}) =>
    (call: { request: Req }, callback: (error: Partial<ServerErrorResponse> | null, value?: Res) => void) => {
      (read ? service.store.sync() : Promise.resolve())
        .then(() => handle(call.request))
        .then(
          (value) => callback(null, value),
          (error) => callback(toGrpcError(error, log)),
        );
    };

  const handlers: ConfigHandlers = {
    Create: unary(async (request) => {
      const type = service.typeOf(request.type);
      const input = service.validate(type, parseObject(request.object_json, 'object_json'));
      return toMessage(await service.create(type.type, input));
    }),
    Get: unary((request) => toMessage(service.read(request.type, request.uuid)), { read: true }),
    Update: unary(async (request) => {
      const type = service.typeOf(request.type);
      const patch = service.validate(type, parseObject(request.object_json, 'object_json'));
      return toMessage(await service.update(type.type, request.uuid, patch));
    }),
    Delete: unary(async (request) => ({ revision: await service.delete(request.type, request.uuid) })),
    List: unary(
      (request) => {
        if (request.page_limit > MAX_PAGE) throw invalid('page_limit', `must be at most ${MAX_PAGE}`);
        const result = service.list(
          {
            type: request.type,
            ...(request.parent_uuids.length > 0 ? { parentUuids: request.parent_uuids } : {}),
            ...(request.uuids.length > 0 ? { uuids: request.uuids } : {}),
            pageLimit: request.page_limit || DEFAULT_PAGE,
            ...(request.page_marker ? { pageMarker: request.page_marker } : {}),
            detail: true,
          },
          hrefBase(),
        );
        return {
          objects: result.objects.map((object, index) => ({
            type: object.type,
            uuid: object.uuid,
            fq_name: object.fqName,
            object_json: JSON.stringify(result.rendered[index]),
            revision: object.revision,
          })),
          next_page_marker: result.nextMarker ?? '',
          revision: result.revision,
        };
      },
      { read: true },
    ),
    Watch: (call) => {
      for (const type of call.request.types) {
        try {
          service.typeOf(type);
        } catch (error) {
          call.emit('error', toGrpcError(error, log));
          return;
        }
      }
      let cancelled = false;
      const cancelListeners: (() => void)[] = [];
      const cancel = () => {
        if (cancelled) return;
        cancelled = true;
        watches.delete(handle);
        for (const listener of cancelListeners) listener();
      };
      const handle = {
        end: () => {
          cancel();
          call.end();
        },
      };
      watches.add(handle);
      call.on('cancelled', cancel);
      void watchChanges(service.store, call.request.from_revision, call.request.types, {
        send: (change) => call.write(toChangeEvent(change)),
        drained: () =>
          new Promise<void>((resolve) => {
            if (cancelled) resolve();
            call.once('drain', resolve);
            cancelListeners.push(resolve);
          }),
        trimmed: (next) => {
          watches.delete(handle);
          const oldest = service.store.trimmedThrough() + 1;
          call.emit('error', toGrpcError(errors.LOG_TRIMMED({ from_revision: next, oldest }), log));
        },
        get cancelled() {
          return cancelled;
        },
        onCancel: (listener) => cancelListeners.push(listener),
      }).catch((error) => {
        if (!cancelled) call.emit('error', toGrpcError(error, log));
      });
    },
  };
  return {
    handlers,
    endWatches: () => {
      for (const watch of [...watches]) watch.end();
    },
  };
}
