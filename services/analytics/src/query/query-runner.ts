// Runs queries on query worker threads, each with a deadline: a query past it has its worker
// ended (and a fresh one started), so a runaway scan costs its caller an error, not the service
// its responsiveness. A QueryRunner is one lane (one worker, queries in arrival order); the
// QueryPool spreads queries over several, so that a slow query holds up only its own lane.
// Each worker's heap is bounded: a query that would hold more fails alone (QUERY_TOO_LARGE).
import { Worker } from 'node:worker_threads';
import { errors } from '../errors.js';
import type { AnalyticsStore } from '../store/store.js';
import type { QueryRequest, QueryResponse } from './query-worker.js';
import type { QueryPlan } from './validate.js';

interface Pending {
  resolve: (response: QueryResponse) => void;
  reject: (error: Error) => void;
}

/** Heap of one query worker, in MiB: what a query's rows may take before it fails. */
export const QUERY_WORKER_HEAP_MB = 256;

export class QueryRunner {
  /** Queries given to this lane and not answered yet. */
  inFlight = 0;
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(
    private readonly store: AnalyticsStore,
    private readonly timeoutMs: number,
  ) {}

  /** Answers a checked plan; QUERY_TIMEOUT past the deadline. */
  run(plan: QueryPlan): Promise<Record<string, unknown>[]> {
    this.inFlight++;
    const result = this.#queue.then(() => this.#runNow(plan)).finally(() => this.inFlight--);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #runNow(plan: QueryPlan): Promise<Record<string, unknown>[]> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.#send(this.store.buildQuery(plan));
      if ('rows' in response) return response.rows;
      if (response.missingTable && attempt < 2) continue;
      throw new Error(`query failed: ${response.error}`);
    }
  }

  #send(built: { sql: string; params: (string | number)[] }): Promise<QueryResponse> {
    if (this.#closed) return Promise.reject(errors.NOT_READY({ reason: 'closing' }));
    const worker = this.#workerNow();
    const id = this.#nextId++;
    return new Promise<QueryResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        // The only way to stop a running SQLite statement from outside is to end its thread.
        void this.#endWorker();
        reject(errors.QUERY_TIMEOUT({ timeoutMs: this.timeoutMs }));
      }, this.timeoutMs);
      this.#pending.set(id, {
        resolve: (response) => {
          clearTimeout(timer);
          resolve(response);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      worker.postMessage({ id, ...built } satisfies QueryRequest);
    });
  }

  #workerNow(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./query-worker.js', import.meta.url), {
      workerData: { path: this.store.path },
      resourceLimits: { maxOldGenerationSizeMb: QUERY_WORKER_HEAP_MB, maxYoungGenerationSizeMb: 32 },
    });
    worker.on('message', (response: QueryResponse) => {
      const pending = this.#pending.get(response.id);
      this.#pending.delete(response.id);
      pending?.resolve(response);
    });
    // Only the current worker's end fails what is pending: one ended at a deadline had its
    // query answered already, and what is pending now belongs to its successor.
    worker.on('error', (error: Error & { code?: string }) => {
      if (this.#worker !== worker) return;
      this.#failAll(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? errors.QUERY_TOO_LARGE({ heapMb: QUERY_WORKER_HEAP_MB }) : error,
      );
    });
    worker.on('exit', () => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#failAll(new Error('query worker ended'));
    });
    this.#worker = worker;
    return worker;
  }

  #failAll(error: Error) {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  async #endWorker() {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#endWorker();
  }
}

/** Several lanes: each query goes to the lane with the fewest queries in flight. */
export class QueryPool {
  readonly #lanes: QueryRunner[];

  constructor(store: AnalyticsStore, timeoutMs: number, lanes = 2) {
    this.#lanes = Array.from({ length: Math.max(1, lanes) }, () => new QueryRunner(store, timeoutMs));
  }

  run(plan: QueryPlan): Promise<Record<string, unknown>[]> {
    const lane = this.#lanes.reduce((least, next) => (next.inFlight < least.inFlight ? next : least));
    return lane.run(plan);
  }

  async close(): Promise<void> {
    await Promise.all(this.#lanes.map((lane) => lane.close()));
  }
}
