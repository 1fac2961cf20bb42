// weft.config.v1.Config over gRPC: the same service, semantics and errors as the REST API.
// Objects travel as the REST API's JSON; errors carry the catalog's gRPC status and message.
import { Metadata, type ServerErrorResponse, status } from '@grpc/grpc-js';
import { type Authenticator, type Credentials, type Identity, type Logger, WeftError } from '@weft/kit';
import type { ConfigHandlers } from '@weft/proto/gen/weft/config/v1/Config.js';
import type { ConfigObject } from '@weft/proto/gen/weft/config/v1/ConfigObject.js';
import type { Audit } from '../audit.js';
import { Scope } from '../auth/tenancy.js';
import { errors, invalid } from '../errors.js';
import { toChangeEvent } from '../events/publisher.js';
import type { ConfigService } from '../service/config-service.js';
import type { ChangeRecord, StoredObject } from '../store/store.js';
import { CallRateLimit } from './rate-limit.js';
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

/** The token headers of a call's metadata, as authentication reads them. */
function credentialsOf(metadata: Metadata): Credentials {
  const text = (name: string) => metadata.get(name).map((value) => value.toString());
  const token = text('x-auth-token');
  const authorization = text('authorization');
  return {
    ...(token.length > 0 ? { 'x-auth-token': token } : {}),
    ...(authorization.length > 0 ? { authorization } : {}),
  };
}

export function configHandlers(
  service: ConfigService,
  hrefBase: () => string,
  logger: Logger,
  authenticator: Authenticator,
  { audit, rateLimit = 0 }: { audit?: Audit; rateLimit?: number } = {},
): ConfigGrpc {
  const watches = new Set<{ end(): void }>();
  const limit = new CallRateLimit(rateLimit);
  const log = logger.child({ component: 'grpc' });
  // The caller's scope, made from what the store holds now; none without authentication.
  const scopeOf = (identity: Identity) =>
    authenticator.mode === 'no-auth' ? undefined : new Scope(service.store, identity, authenticator.mode);
  const toMessage = (object: StoredObject): ConfigObject => ({
    type: object.type,
    uuid: object.uuid,
    fq_name: object.fqName,
    object_json: JSON.stringify(service.render(object, hrefBase())),
    revision: object.revision,
  });
  // Reads first wait for the store's read barrier (a write through another replica is seen).
  const unary =
    <Req, Res>(
      handle: (request: Req, scope: Scope | undefined) => Promise<Res> | Res,
      { read = false, method = '' } = {},
    ) =>
    (
      call: { request: Req; metadata: Metadata },
      callback: (error: Partial<ServerErrorResponse> | null, value?: Res) => void,
    ) => {
      let who: Identity | undefined;
      // A change, allowed or refused, is audited as REST's are.
      const audited = (status: number, code?: string, value?: unknown) => {
        if (read || !audit) return;
        const request = call.request as { type?: string; uuid?: string };
        const uuid = request.uuid || (value as { uuid?: string } | undefined)?.uuid;
        audit.record({
          user: who?.user ?? '(unauthenticated)',
          via: who?.via ?? 'none',
          method: `grpc ${method}`,
          path: `/weft.config.v1.Config/${method}`,
          ...(request.type ? { type: request.type } : {}),
          ...(uuid ? { uuid } : {}),
          status,
          ...(code ? { code } : {}),
        });
      };
      authenticator
        .authenticate(credentialsOf(call.metadata))
        .then(async (identity) => {
          who = identity;
          limit.take(identity);
          if (read) await service.store.sync();
          return handle(call.request, scopeOf(identity));
        })
        .then(
          (value) => {
            audited(200, undefined, value);
            callback(null, value);
          },
          (error) => {
            const grpcError = toGrpcError(error, log);
            // The status REST would have answered, so that both read alike in the audit.
            const weft = error instanceof WeftError ? error : undefined;
            audited(weft?.httpStatus ?? 500, weft?.code);
            callback(grpcError);
          },
        );
    };

  const handlers: ConfigHandlers = {
    Create: unary(
      async (request, scope) => {
        const type = service.typeOf(request.type);
        const input = service.validate(type, parseObject(request.object_json, 'object_json'));
        return toMessage(await service.create(type.type, input, scope));
      },
      { method: 'Create' },
    ),
    Get: unary((request, scope) => toMessage(service.read(request.type, request.uuid, scope)), { read: true }),
    Update: unary(
      async (request, scope) => {
        const type = service.typeOf(request.type);
        const patch = service.validate(type, parseObject(request.object_json, 'object_json'));
        return toMessage(await service.update(type.type, request.uuid, patch, [], scope));
      },
      { method: 'Update' },
    ),
    Delete: unary(async (request, scope) => ({ revision: await service.delete(request.type, request.uuid, scope) }), {
      method: 'Delete',
    }),
    List: unary(
      (request, scope) => {
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
          scope,
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
      authenticator.authenticate(credentialsOf(call.metadata)).then(
        (identity) => {
          try {
            limit.take(identity);
          } catch (error) {
            call.emit('error', toGrpcError(error, log));
            return;
          }
          startWatch(call, identity);
        },
        (error) => call.emit('error', toGrpcError(error, log)),
      );
    },
  };
  function startWatch(call: Parameters<ConfigHandlers['Watch']>[0], identity: Identity): void {
    const scope = scopeOf(identity);
    // A change the caller may not read is skipped, as a list leaves the object out. An object
    // this watch has shown that he may no longer read (unshared, given away) is gone to him: he
    // gets a delete, with nothing of what it became.
    const shown = new Set<string>();
    const seenAs = (change: ChangeRecord): ChangeRecord | undefined => {
      if (!scope || scope.readsEverything) return change;
      const body = JSON.parse(change.objectJson) as Record<string, unknown>;
      const readable = scope.canRead({
        type: change.type,
        uuid: change.uuid,
        fqName: change.fqName,
        parentUuid: body.parent_uuid as string | undefined,
        body,
        revision: change.revision,
      });
      if (readable) {
        if (change.operation === 'DELETE') shown.delete(change.uuid);
        else shown.add(change.uuid);
        return change;
      }
      if (!shown.delete(change.uuid)) return undefined;
      const gone = { uuid: change.uuid, fq_name: change.fqName };
      return { ...change, operation: 'DELETE', objectJson: JSON.stringify(gone) };
    };
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
      send: (change) => {
        const seen = seenAs(change);
        return seen ? call.write(toChangeEvent(seen)) : true;
      },
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
  }
  return {
    handlers,
    endWatches: () => {
      for (const watch of [...watches]) watch.end();
    },
  };
}
