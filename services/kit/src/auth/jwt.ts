// Signed JWTs from an identity provider, verified with jose: signature against a JWKS (a file,
// read again when it changes, or a URL, fetched again for a key id it does not know: either way
// keys rotate without a restart), then issuer, audience, expiry and not-before.
import { readFileSync, statSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { type Identity, rolesOf } from './identity.js';
import { digestOf } from './tokens-file.js';

/** Why a token was refused; each is an error of the catalog (./errors.ts). */
export type TokenRefusal =
  | 'TOKEN_EXPIRED'
  | 'TOKEN_BAD_SIGNATURE'
  | 'TOKEN_WRONG_AUDIENCE'
  | 'TOKEN_WRONG_ISSUER'
  | 'TOKEN_MALFORMED';

export class TokenRefused extends Error {
  constructor(
    readonly refusal: TokenRefusal,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export interface JwtOptions {
  /** A JWKS file path, or an http(s) URL that serves one. */
  jwks: string;
  issuer: string;
  audience: string;
}

type KeySet = (
  header: JWSHeaderParameters,
  token: FlattenedJWSInput,
) => ReturnType<ReturnType<typeof createLocalJWKSet>>;

/** A JWKS file, parsed again when its modification time moves. */
function fileKeySet(path: string): KeySet {
  let mtimeMs = -1;
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  const load = () => {
    const now = statSync(path).mtimeMs;
    if (keys && now === mtimeMs) return keys;
    const parsed = JSON.parse(readFileSync(path, 'utf8'));
    if (!Array.isArray(parsed?.keys)) throw new Error(`${path}: keys: is a list of JSON Web Keys`);
    keys = createLocalJWKSet(parsed);
    mtimeMs = now;
    return keys;
  };
  load();
  return (header, token) => {
    try {
      return load()(header, token);
    } catch (error) {
      if (keys && !(error instanceof errors.JOSEError)) return keys(header, token);
      throw error;
    }
  };
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export class JwtVerifier {
  readonly #keys: KeySet;

  constructor(readonly options: JwtOptions) {
    this.#keys = /^https?:\/\//.test(options.jwks)
      ? createRemoteJWKSet(new URL(options.jwks), { timeoutDuration: 5_000, cooldownDuration: 30_000 })
      : fileKeySet(options.jwks);
  }

  async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw refusalOf(error);
    }
    try {
      const { roles, projects } = rolesOf(payload as { roles?: unknown; projects?: unknown }, 'token');
      return { user: String(payload.sub), roles, projects, via: 'jwt', key: digestOf(token).slice(0, 16) };
    } catch (error) {
      throw new TokenRefused('TOKEN_MALFORMED', (error as Error).message);
    }
  }
}

function refusalOf(error: unknown): TokenRefused {
  if (error instanceof errors.JWTExpired) return new TokenRefused('TOKEN_EXPIRED', 'the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud')
      return new TokenRefused('TOKEN_WRONG_AUDIENCE', `the token is not for this audience (${error.reason})`);
    if (error.claim === 'iss')
      return new TokenRefused('TOKEN_WRONG_ISSUER', `the token was not issued by the trusted issuer (${error.reason})`);
    return new TokenRefused('TOKEN_MALFORMED', `claim ${error.claim}: ${error.reason}`);
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return new TokenRefused('TOKEN_BAD_SIGNATURE', 'the token is not signed by a trusted key');
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new TokenRefused('TOKEN_BAD_SIGNATURE', 'the token is signed with an algorithm that is not accepted');
  if (error instanceof errors.JWKSTimeout || (error instanceof errors.JOSEError && error.code === 'ERR_JWKS_INVALID')) {
    return new TokenRefused('TOKEN_BAD_SIGNATURE', 'the signing keys could not be fetched');
  }
  return new TokenRefused('TOKEN_MALFORMED', 'the token is not a well-formed JWT');
}
