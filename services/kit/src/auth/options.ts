// The options of every service that authenticates its callers (config-api, analytics, and the
// vrouter-agent's introspection), declared once; each spreads them into its own declaration.
import { existsSync, readFileSync } from 'node:fs';
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

/**
 * The options of every service that calls config-api (control, kube-manager): the token it
 * sends. Named for the daemon in their descriptions by `who`.
 */
export function configApiTokenOptions(who: string) {
  return {
    configApiTokenFile: option.string(
      'WEFT_CONFIG_API_TOKEN_FILE',
      `file holding the token ${who} sends to config-api (read again at every connection); empty: none, for config-api's no-auth mode`,
      '',
    ),
    configApiToken: option.string(
      'WEFT_CONFIG_API_TOKEN',
      `the token ${who} sends to config-api, when WEFT_CONFIG_API_TOKEN_FILE is not given (the chart sets it from a Secret)`,
      '',
      { secret: true },
    ),
  };
}

/** The token to send to config-api now: the file's (read each time, so it can be rotated), else the given one. */
export function configApiTokenOf(source: {
  file?: string | undefined;
  token?: string | undefined;
}): string | undefined {
  const { file, token } = source;
  // A file not there (yet): no token; a config-api that wants one says so.
  if (file) return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
  return token || undefined;
}
