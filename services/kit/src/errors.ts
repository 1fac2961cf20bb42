// Errors with stable codes. Each service declares one catalog of the errors it can return, with
// the HTTP status and the gRPC status of each, so that REST and gRPC callers see the same error
// and no handler invents one on the spot (the shape of fastify's lib/errors.js).
import { status as GrpcStatus } from '@grpc/grpc-js';

export { GrpcStatus };

/** What a caller may read from an error besides its message; `field` names the bad input. */
export interface ErrorDetails {
  field?: string;
  [key: string]: unknown;
}

export interface ErrorDefinition<D extends ErrorDetails> {
  httpStatus: number;
  grpcStatus: GrpcStatus;
  message: (details: D) => string;
}

/** An error from a catalog: `code` is stable and documented, `message` is for people. */
export class WeftError extends Error {
  override readonly name = 'WeftError';

  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number,
    readonly grpcStatus: GrpcStatus,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The JSON body every Weft REST API answers an error with. */
  toJSON(): { error: { code: string; message: string } & ErrorDetails } {
    return { error: { ...this.details, code: this.code, message: this.message } };
  }
}

type DetailsOf<T> = T extends ErrorDefinition<infer D> ? D : never;

// biome-ignore lint/suspicious/noExplicitAny: each entry has its own details type
export type ErrorCatalog<T extends Record<string, ErrorDefinition<any>>> = {
  [K in keyof T & string]: (details: DetailsOf<T[K]> & ErrorDetails, options?: { cause?: unknown }) => WeftError;
};

/**
 * Declares a service's errors once. `errors.NOT_FOUND({ type, uuid })` then builds the error.
 *
 *   const errors = defineErrors({
 *     NOT_FOUND: { httpStatus: 404, grpcStatus: GrpcStatus.NOT_FOUND,
 *                  message: (d: { type: string; uuid: string }) => `no ${d.type} with uuid ${d.uuid}` },
 *   });
 */
// biome-ignore lint/suspicious/noExplicitAny: each entry has its own details type
export function defineErrors<T extends Record<string, ErrorDefinition<any>>>(catalog: T): ErrorCatalog<T> {
  const factories: Record<string, (details: ErrorDetails, options?: { cause?: unknown }) => WeftError> = {};
  for (const [code, definition] of Object.entries(catalog)) {
    factories[code] = (details, options) =>
      new WeftError(
        code,
        definition.message(details as never),
        definition.httpStatus,
        definition.grpcStatus,
        details,
        options,
      );
  }
  return factories as unknown as ErrorCatalog<T>;
}

/** The gRPC status for any error: a WeftError's own, INTERNAL for everything else. */
export function grpcStatusOf(error: unknown): GrpcStatus {
  return error instanceof WeftError ? error.grpcStatus : GrpcStatus.INTERNAL;
}
