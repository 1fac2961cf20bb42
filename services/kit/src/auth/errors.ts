// The errors of authentication and authorization, shared by every service that authenticates:
// each service spreads these into its own catalog, so that REST and gRPC answer them alike.
import { GrpcStatus } from '../errors.js';

const unauthenticated = (message: (d: { reason: string }) => string) => ({
  httpStatus: 401,
  grpcStatus: GrpcStatus.UNAUTHENTICATED,
  message,
});

export const authErrorDefinitions = {
  TOKEN_MISSING: unauthenticated((d) => `authentication required: ${d.reason}`),
  TOKEN_MALFORMED: unauthenticated((d) => `malformed token: ${d.reason}`),
  TOKEN_UNKNOWN: unauthenticated((d) => `unknown token: ${d.reason}`),
  TOKEN_EXPIRED: unauthenticated((d) => `expired token: ${d.reason}`),
  TOKEN_BAD_SIGNATURE: unauthenticated((d) => `wrongly signed token: ${d.reason}`),
  TOKEN_WRONG_AUDIENCE: unauthenticated((d) => `token for another audience: ${d.reason}`),
  TOKEN_WRONG_ISSUER: unauthenticated((d) => `token from another issuer: ${d.reason}`),
  FORBIDDEN: {
    httpStatus: 403,
    grpcStatus: GrpcStatus.PERMISSION_DENIED,
    message: (d: { user: string; action: string }) => `${d.user} may not ${d.action}`,
  },
  RATE_LIMITED: {
    httpStatus: 429,
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    message: (d: { limit: number; window: string }) =>
      `too many requests: at most ${d.limit} per ${d.window} for one token; try again later`,
  },
};
