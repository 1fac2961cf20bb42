// Liveness and readiness. A daemon declares each dependency it needs (NATS, the store, a
// control replica) with a check; /readyz is ready only when every check passes, and names the
// ones that fail.

/** Resolves when the dependency is usable; throws (or returns a reason string) when not. */
export type ReadinessCheck = () => Promise<string | undefined> | string | undefined;

export interface ReadinessReport {
  ready: boolean;
  checks: { name: string; ok: boolean; reason?: string }[];
}

const CHECK_TIMEOUT_MS = 2_000;

export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();

  /** Declares a dependency; a second declaration of a name replaces the first. */
  declare(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  async report(): Promise<ReadinessReport> {
    const checks = await Promise.all(
      [...this.#checks].map(async ([name, check]) => {
        try {
          const reason = await withTimeout(Promise.resolve(check()), CHECK_TIMEOUT_MS);
          return typeof reason === 'string' ? { name, ok: false, reason } : { name, ok: true };
        } catch (error) {
          return { name, ok: false, reason: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    return { ready: checks.every((check) => check.ok), checks };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
