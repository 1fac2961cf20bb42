// A keyed work queue, as client-go's: a key queued while it waits is queued once; a key being
// worked on is never worked on twice at once (queued again, it runs after); a failure is retried
// with exponential backoff; `workers` keys run at a time. The reconcile function reads the
// current state itself, so only the key is queued (level-based).

export type Reconcile = (key: string) => Promise<void>;

export interface WorkQueueOptions {
  workers: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onError?: (key: string, error: unknown, attempt: number) => void;
}

export class WorkQueue {
  #waiting = new Set<string>();
  #order: string[] = [];
  #running = new Set<string>();
  #dirty = new Set<string>();
  #failures = new Map<string, number>();
  #retryTimers = new Map<string, NodeJS.Timeout>();
  #active = 0;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];

  constructor(
    private readonly reconcile: Reconcile,
    private readonly options: WorkQueueOptions,
  ) {}

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#running.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#waiting.has(key)) return;
    this.#waiting.add(key);
    this.#order.push(key);
    this.#pump();
  }

  get length(): number {
    return this.#waiting.size + this.#running.size + this.#retryTimers.size;
  }

  /** Resolves once nothing waits, runs or is due for a retry. */
  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#retryTimers.values()) clearTimeout(timer);
    this.#retryTimers.clear();
    this.#waiting.clear();
    this.#order = [];
  }

  #pump(): void {
    while (!this.#stopped && this.#active < this.options.workers && this.#order.length > 0) {
      const key = this.#order.shift()!;
      this.#waiting.delete(key);
      this.#running.add(key);
      this.#active++;
      void this.#run(key);
    }
    if (this.length === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #run(key: string): Promise<void> {
    try {
      await this.reconcile(key);
      this.#failures.delete(key);
    } catch (error) {
      const attempt = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, attempt);
      this.options.onError?.(key, error, attempt);
      const delay = Math.min((this.options.baseDelayMs ?? 100) * 2 ** (attempt - 1), this.options.maxDelayMs ?? 30_000);
      if (!this.#stopped && !this.#retryTimers.has(key)) {
        this.#retryTimers.set(
          key,
          setTimeout(() => {
            this.#retryTimers.delete(key);
            this.add(key);
          }, delay),
        );
      }
    } finally {
      this.#running.delete(key);
      this.#active--;
      if (this.#dirty.delete(key)) this.add(key);
      this.#pump();
    }
  }
}
