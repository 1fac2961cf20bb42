// A stand-in identity provider for tests: it signs JWTs with its own keys and publishes them as
// a JWKS file, and it rotates keys the way a real one does (a new key first, the old one gone
// later). Tokens that must be refused are made here too: expired, for another audience or
// issuer, or signed by a key the JWKS does not hold.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

type Key = { kid: string; privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; publicJwk: JWK };

export interface TokenClaims {
  sub?: string;
  roles?: string[];
  projects?: Record<string, string>;
  /** Seconds from now; negative: already expired. */
  expiresIn?: number;
  audience?: string;
  issuer?: string;
}

export class IdentityProvider {
  readonly jwksFile: string;
  #keys: Key[] = [];
  #next = 0;

  private constructor(
    dir: string,
    readonly issuer: string,
    readonly audience: string,
  ) {
    this.jwksFile = join(dir, 'jwks.json');
  }

  static async start(dir: string, { issuer = 'https://idp.test', audience = 'weft' } = {}): Promise<IdentityProvider> {
    const provider = new IdentityProvider(dir, issuer, audience);
    await provider.addKey();
    return provider;
  }

  async #newKey(): Promise<Key> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = `key-${++this.#next}`;
    return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
  }

  /** Adds a signing key (the newest signs from now on) and publishes the JWKS. */
  async addKey(): Promise<void> {
    this.#keys.push(await this.#newKey());
    this.#publish();
  }

  /** Drops the oldest key from the JWKS: tokens it signed are refused from now on. */
  retireOldestKey(): void {
    this.#keys.shift();
    this.#publish();
  }

  #publish(): void {
    writeFileSync(this.jwksFile, JSON.stringify({ keys: this.#keys.map((key) => key.publicJwk) }));
  }

  /** A token signed by the newest key (or by `foreignKey`: one the JWKS never held). */
  async sign(claims: TokenClaims = {}, { foreignKey = false } = {}): Promise<string> {
    const key = foreignKey ? await this.#newKey() : this.#keys[this.#keys.length - 1]!;
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {};
    if (claims.roles) payload.roles = claims.roles;
    if (claims.projects) payload.projects = claims.projects;
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setSubject(claims.sub ?? 'alice')
      .setIssuer(claims.issuer ?? this.issuer)
      .setAudience(claims.audience ?? this.audience)
      .setIssuedAt(now - 60)
      .setExpirationTime(now + (claims.expiresIn ?? 300))
      .sign(key.privateKey);
  }
}
