// Authentication of a fastify app: the token checked on every route but the open ones (health,
// metrics, the API's own description), with the caller's identity on request.identity, then a
// rate limit per token for tenants. cloud-admin tokens are not limited: they are the operator's
// and the orchestrators' (control, kube-manager), whose bursts (a thousand pods at once) are the
// system's own work, and whom the limit is not there to hold back.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Authenticator, authErrors } from './authenticator.js';
import { type Identity, isCloudAdmin } from './identity.js';
import { digestOf } from './tokens-file.js';

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity;
  }
}

/** Routes every caller may use: probes and metrics, and the API's description. */
export const OPEN_ROUTES = /^\/(healthz|readyz|metrics|openapi\.json|docs)(\/|$)/;

/** The rate-limit key of a request: its token's digest, or its address. */
function callerKey(request: FastifyRequest): string {
  const token = request.headers['x-auth-token'] ?? request.headers.authorization;
  return token ? `t:${digestOf(String(token)).slice(0, 32)}` : `a:${request.ip}`;
}

export interface AuthenticationOptions {
  /** Requests per minute one caller may make; 0: no limit. */
  rateLimit?: number;
  open?: RegExp;
}

/** Checks the token of every request but the open routes; `authorize` may refuse an identity. */
export function authenticateRequests(
  app: FastifyInstance,
  authenticator: Authenticator,
  { open = OPEN_ROUTES, authorize }: { open?: RegExp; authorize?: (identity: Identity) => void } = {},
): void {
  app.decorateRequest('identity', undefined as unknown as Identity);
  app.addHook('onRequest', async (request) => {
    if (open.test(request.url)) return;
    request.identity = await authenticator.authenticate(request.headers);
    authorize?.(request.identity);
  });
}

/**
 * At most `perMinute` requests a minute per tenant token (per address without one). Counted once
 * the caller is known (preHandler, after authentication), so that cloud-admin is let through.
 */
export async function limitRate(app: FastifyInstance, perMinute: number, open = OPEN_ROUTES): Promise<void> {
  if (perMinute <= 0) return;
  await app.register(rateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    hook: 'preHandler',
    keyGenerator: callerKey,
    allowList: (request) =>
      open.test(request.url) || (request.identity !== undefined && isCloudAdmin(request.identity)),
    errorResponseBuilder: (_request, context) => authErrors.RATE_LIMITED({ limit: context.max, window: 'minute' }),
  });
}

export async function registerAuthentication(
  app: FastifyInstance,
  authenticator: Authenticator,
  { rateLimit: perMinute = 0, open = OPEN_ROUTES }: AuthenticationOptions = {},
): Promise<void> {
  await limitRate(app, perMinute, open);
  authenticateRequests(app, authenticator, { open });
}
