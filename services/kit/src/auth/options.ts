// The options of every service that authenticates its callers (config-api, analytics), declared
// once; each spreads them into its own declaration.
import { option } from '../config.js';

export const AUTH_MODES = ['no-auth', 'cloud-admin', 'rbac'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export const authOptions = {
  authMode: option.oneOf(
    'WEFT_AUTH_MODE',
    "as Tungsten Fabric's aaa_mode: no-auth (every caller is admin; refused unless listening on loopback), cloud-admin (only cloud-admin tokens), rbac (roles per project, objects per tenant)",
    AUTH_MODES,
    'rbac',
  ),
  authTokensFile: {
    ...option.string(
      'WEFT_AUTH_TOKENS_FILE',
      'JSON tokens file ({"tokens": [{token, user, roles, projects}]}), read again when it changes; created with one cloud-admin token (and admin.token beside it) when missing and no JWKS is given',
      '',
    ),
    shownDefault: '<state dir>/tokens.json',
  },
  authJwks: option.string(
    'WEFT_AUTH_JWKS',
    'JWKS (file path, or http(s) URL) whose keys sign accepted JWTs; empty: no JWTs',
    '',
  ),
  authJwtIssuer: option.string('WEFT_AUTH_JWT_ISSUER', 'the iss a JWT must carry (required with WEFT_AUTH_JWKS)', ''),
  authJwtAudience: option.string(
    'WEFT_AUTH_JWT_AUDIENCE',
    'the aud a JWT must carry (required with WEFT_AUTH_JWKS)',
    'weft',
  ),
};
