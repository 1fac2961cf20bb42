// Who is calling: the token of a request (X-Auth-Token, as Tungsten Fabric's clients send it, or
// Authorization: Bearer) checked against the tokens file, or verified as a JWT, by the mode.
import { defineErrors, type ErrorCatalog, WeftError } from '../errors.js';
import type { Logger } from '../logger.js';
import { authErrorDefinitions } from './errors.js';
import { type Identity, isCloudAdmin, NO_AUTH_IDENTITY, readsAll } from './identity.js';
import { JwtVerifier, TokenRefused } from './jwt.js';
import type { AuthMode } from './options.js';
import { ensureTokensFile, TokensFile } from './tokens-file.js';

export const authErrors: ErrorCatalog<typeof authErrorDefinitions> = defineErrors(authErrorDefinitions);

/** Longest token taken: a JWT with many project roles fits; anything longer is refused unread. */
const MAX_TOKEN_LENGTH = 8 * 1024;
/** A token is printable ASCII without spaces (what RFC 6750 allows, and base64url JWTs). */
const TOKEN_CHARACTERS = /^[\x21-\x7e]+$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface AuthSettings {
  mode: AuthMode;
  /** Tokens file; created with an admin token when missing (unless a JWKS is given). */
  tokensFile?: string;
  jwks?: string;
  issuer?: string;
  audience?: string;
}

export interface AuthConfig {
  authMode: AuthMode;
  authTokensFile: string;
  authJwks: string;
  authJwtIssuer: string;
  authJwtAudience: string;
  stateDir: string;
}

/** A daemon's settings from its options (the tokens file defaults into its state dir). */
export function authSettingsOf(config: AuthConfig): AuthSettings {
  return {
    mode: config.authMode,
    tokensFile: config.authTokensFile || (config.authJwks ? undefined : `${config.stateDir}/tokens.json`),
    ...(config.authJwks
      ? { jwks: config.authJwks, issuer: config.authJwtIssuer, audience: config.authJwtAudience }
      : {}),
  };
}

/** Listen addresses that only this machine reaches. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The headers that may carry a token, as fastify and gRPC metadata give them. */
export interface Credentials {
  'x-auth-token'?: string | string[];
  authorization?: string | string[];
}

export class Authenticator {
  readonly #tokens: TokensFile | undefined;
  readonly #jwt: JwtVerifier | undefined;

  constructor(
    readonly settings: AuthSettings,
    { logger, host }: { logger: Logger; host: string },
  ) {
    if (settings.mode === 'no-auth') {
      if (!isLoopback(host)) {
        throw new Error(
          `WEFT_AUTH_MODE=no-auth is refused on ${host}: it lets anyone who reaches the port do anything; listen on 127.0.0.1 or use cloud-admin or rbac`,
        );
      }
      logger.warn({ host }, 'authentication is off (WEFT_AUTH_MODE=no-auth): every local caller is cloud-admin');
      return;
    }
    if (settings.jwks) {
      if (!settings.issuer) throw new Error('WEFT_AUTH_JWT_ISSUER: is required with WEFT_AUTH_JWKS');
      if (!settings.audience) throw new Error('WEFT_AUTH_JWT_AUDIENCE: is required with WEFT_AUTH_JWKS');
      this.#jwt = new JwtVerifier({ jwks: settings.jwks, issuer: settings.issuer, audience: settings.audience });
    }
    if (settings.tokensFile) {
      if (!settings.jwks && ensureTokensFile(settings.tokensFile)) {
        logger.warn(
          { tokensFile: settings.tokensFile },
          'made a tokens file with one cloud-admin token (admin.token beside it)',
        );
      }
      this.#tokens = new TokensFile(settings.tokensFile);
    }
  }

  get mode(): AuthMode {
    return this.settings.mode;
  }

  /** The identity of a request, or a 401 error naming the reason. */
  async authenticate(credentials: Credentials): Promise<Identity> {
    if (this.settings.mode === 'no-auth') return NO_AUTH_IDENTITY;
    const token = tokenOf(credentials);
    let identity = this.#tokens?.lookup(token);
    if (!identity && this.#jwt && JWT_SHAPE.test(token)) {
      try {
        identity = await this.#jwt.verify(token);
      } catch (error) {
        if (error instanceof TokenRefused) throw authErrors[error.refusal]({ reason: error.reason });
        throw error;
      }
    }
    if (!identity) {
      throw authErrors.TOKEN_UNKNOWN({
        reason: this.#jwt ? 'neither a known token nor a JWT' : 'not a token of the tokens file',
      });
    }
    if (this.settings.mode === 'cloud-admin' && !readsAll(identity)) {
      throw authErrors.FORBIDDEN({
        user: identity.user,
        action: 'use this API (WEFT_AUTH_MODE=cloud-admin: cloud-admin only)',
      });
    }
    return identity;
  }

  /** In cloud-admin mode a global reader may read, nothing more; rbac decides per object. */
  mayWrite(identity: Identity): boolean {
    return this.settings.mode !== 'cloud-admin' || isCloudAdmin(identity);
  }
}

function single(value: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(value)) {
    if (value.length > 1) throw authErrors.TOKEN_MALFORMED({ reason: `${name} is given more than once` });
    return value[0];
  }
  return value;
}

/** The token of the headers: X-Auth-Token, or Authorization: Bearer; both must agree. */
export function tokenOf(credentials: Credentials): string {
  const header = single(credentials['x-auth-token'], 'X-Auth-Token');
  const authorization = single(credentials.authorization, 'Authorization');
  let bearer: string | undefined;
  if (authorization !== undefined) {
    const match = /^Bearer[ ]+(.*)$/i.exec(authorization.trim());
    if (!match) throw authErrors.TOKEN_MALFORMED({ reason: 'Authorization is not "Bearer <token>"' });
    bearer = match[1]!.trim();
  }
  const token = header?.trim() ?? bearer;
  if (token === undefined || token === '') {
    throw authErrors.TOKEN_MISSING({ reason: 'send a token as X-Auth-Token or Authorization: Bearer' });
  }
  if (bearer !== undefined && header !== undefined && bearer !== header.trim()) {
    throw authErrors.TOKEN_MALFORMED({ reason: 'X-Auth-Token and Authorization carry different tokens' });
  }
  if (token.length > MAX_TOKEN_LENGTH)
    throw authErrors.TOKEN_MALFORMED({ reason: `longer than ${MAX_TOKEN_LENGTH} characters` });
  if (!TOKEN_CHARACTERS.test(token)) throw authErrors.TOKEN_MALFORMED({ reason: 'has characters a token cannot have' });
  return token;
}

export { WeftError };
