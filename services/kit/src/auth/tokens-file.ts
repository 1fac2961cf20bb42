// The tokens file: tokens for bootstrap and for services, before (or instead of) an identity
// provider that signs JWTs. JSON: {"tokens": [{"token", "user", "roles"?, "projects"?}]}.
// Tokens are kept by their SHA-256, so a lookup compares digests, never the secrets.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Identity, rolesOf } from './identity.js';

export const digestOf = (token: string) => createHash('sha256').update(token).digest('hex');

export interface TokensFileEntry {
  token: string;
  user: string;
  roles?: string[];
  projects?: Record<string, string>;
}

/** Identities by the digest of their token; throws naming the entry and field that is wrong. */
export function parseTokensFile(text: string, path: string): Map<string, Identity> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: is not JSON (${(error as Error).message})`);
  }
  const tokens = (parsed as { tokens?: unknown })?.tokens;
  if (!Array.isArray(tokens)) throw new Error(`${path}: tokens: is a list of {token, user, roles, projects}`);
  const identities = new Map<string, Identity>();
  tokens.forEach((entry: Partial<TokensFileEntry>, index) => {
    const where = `${path}: tokens[${index}]`;
    if (typeof entry?.token !== 'string' || entry.token.length < 16 || /\s/.test(entry.token)) {
      throw new Error(`${where}.token: is a string of at least 16 characters without spaces`);
    }
    if (typeof entry.user !== 'string' || entry.user === '') throw new Error(`${where}.user: is a non-empty string`);
    const key = digestOf(entry.token);
    if (identities.has(key)) throw new Error(`${where}.token: is given twice`);
    identities.set(key, { user: entry.user, ...rolesOf(entry, where), via: 'tokens-file', key: key.slice(0, 16) });
  });
  return identities;
}

/** A new random token (256 bits, base64url). */
export const newToken = () => randomBytes(32).toString('base64url');

/** Where the admin token made by `ensureTokensFile` is written, beside the tokens file. */
export const adminTokenPathOf = (tokensFile: string) => join(dirname(tokensFile), 'admin.token');

/**
 * Creates the tokens file with one cloud-admin token when it does not exist yet, and writes that
 * token alone to admin.token beside it (both readable by their owner only). Returns whether it
 * made them.
 */
export function ensureTokensFile(path: string): boolean {
  if (existsSync(path)) return false;
  mkdirSync(dirname(path), { recursive: true });
  const token = newToken();
  const entries: TokensFileEntry[] = [{ token, user: 'admin', roles: ['cloud-admin'] }];
  writeFileSync(adminTokenPathOf(path), `${token}\n`, { mode: 0o600 });
  writeFileSync(path, `${JSON.stringify({ tokens: entries }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return true;
}

/** The tokens file, read again when it changes (checked at most once a second). */
export class TokensFile {
  #identities: Map<string, Identity>;
  #mtimeMs: number;
  #checkedAt = Date.now();

  constructor(readonly path: string) {
    this.#mtimeMs = statSync(path).mtimeMs;
    this.#identities = parseTokensFile(readFileSync(path, 'utf8'), path);
  }

  /** The identity of a token, or undefined; a file that became invalid keeps the last good one. */
  lookup(token: string): Identity | undefined {
    this.#refresh();
    return this.#identities.get(digestOf(token));
  }

  #refresh(): void {
    const now = Date.now();
    if (now - this.#checkedAt < 1_000) return;
    this.#checkedAt = now;
    try {
      const mtimeMs = statSync(this.path).mtimeMs;
      if (mtimeMs === this.#mtimeMs) return;
      this.#identities = parseTokensFile(readFileSync(this.path, 'utf8'), this.path);
      this.#mtimeMs = mtimeMs;
    } catch {
      // Half-written or removed: keep the tokens that were valid.
    }
  }
}
