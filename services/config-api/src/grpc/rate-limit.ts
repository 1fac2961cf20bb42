// The rate of gRPC calls per tenant token: a token bucket per caller (limiter's TokenBucket), as
// large as a minute's allowance and refilled at that rate, so a tenant may burst up to it and
// then goes at the steady rate. REST has its own count (@fastify/rate-limit, in the kit) with the
// same option: a tenant gets the allowance on each API. cloud-admin is not limited, as on REST:
// its tokens are the operator's and the orchestrators'.
import { type Identity, isCloudAdmin } from '@weft/kit';
import { TokenBucket } from 'limiter';
import { errors } from '../errors.js';

/** How often idle buckets are forgotten: one left alone this long is full again anyway. */
const FORGET_EVERY_MS = 60_000;

export class CallRateLimit {
  readonly #buckets = new Map<string, TokenBucket>();
  #forgotAt = performance.now();

  /** `perMinute` calls a minute per tenant token; 0: no limit. */
  constructor(readonly perMinute: number) {}

  /** Takes one call from the caller's bucket, or refuses it with RATE_LIMITED (RESOURCE_EXHAUSTED). */
  take(identity: Identity): void {
    if (this.perMinute <= 0 || isCloudAdmin(identity)) return;
    this.#forgetIdle();
    let bucket = this.#buckets.get(identity.key);
    if (!bucket) {
      bucket = new TokenBucket({ bucketSize: this.perMinute, tokensPerInterval: this.perMinute, interval: 'minute' });
      // limiter starts a bucket empty; a caller first seen has his whole allowance.
      bucket.content = this.perMinute;
      this.#buckets.set(identity.key, bucket);
    }
    if (!bucket.tryRemoveTokens(1)) throw errors.RATE_LIMITED({ limit: this.perMinute, window: 'minute' });
  }

  /**
   * Forgets full buckets, which a new one would equal: memory follows the callers of the last
   * minute, not every JWT ever seen.
   */
  #forgetIdle(): void {
    const now = performance.now();
    if (now - this.#forgotAt < FORGET_EVERY_MS) return;
    this.#forgotAt = now;
    for (const [key, bucket] of this.#buckets) {
      bucket.drip();
      if (bucket.content >= bucket.bucketSize) this.#buckets.delete(key);
    }
  }
}
