// Graceful shutdown. On SIGTERM or SIGINT a daemon stops accepting work, lets what is in
// flight finish within a deadline, closes its connections, and exits 0. Closers run in the
// reverse order of registration, so what was opened first (the bus, the store) closes last.
import type { Logger } from './logger.js';

type Closer = { name: string; close: () => Promise<void> | void };

export class Lifecycle {
  readonly #closers: Closer[] = [];
  #stopping: Promise<boolean> | undefined;

  constructor(
    private readonly logger: Logger,
    /** How long the whole stop may take before what is left is abandoned. */
    private readonly drainTimeoutMs = 10_000,
  ) {}

  /** Registers something to close on stop. */
  onStop(name: string, close: () => Promise<void> | void): void {
    this.#closers.push({ name, close });
  }

  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /** Runs every closer once; true when all finished within the deadline. */
  stop(reason = 'stop requested'): Promise<boolean> {
    this.#stopping ??= this.#runClosers(reason);
    return this.#stopping;
  }

  async #runClosers(reason: string): Promise<boolean> {
    this.logger.info({ reason, drainTimeoutMs: this.drainTimeoutMs }, 'stopping');
    const deadline = Date.now() + this.drainTimeoutMs;
    let clean = true;
    for (const closer of [...this.#closers].reverse()) {
      const left = deadline - Date.now();
      try {
        const finished = await Promise.race([
          Promise.resolve(closer.close()).then(() => true),
          new Promise<false>((resolve) => setTimeout(() => resolve(false), Math.max(left, 0)).unref()),
        ]);
        if (!finished) {
          clean = false;
          this.logger.error({ closer: closer.name }, 'did not stop before the deadline');
        }
      } catch (error) {
        clean = false;
        this.logger.error({ closer: closer.name, err: error }, 'failed to stop');
      }
    }
    this.logger.info({ clean }, 'stopped');
    return clean;
  }

  /** Stops on SIGTERM or SIGINT, then exits: 0 when everything drained, 1 when not. */
  exitOnSignals(): void {
    const handle = (signal: NodeJS.Signals) => {
      void this.stop(`received ${signal}`).then((clean) => {
        // Let pino flush its last lines before the process goes.
        setImmediate(() => process.exit(clean ? 0 : 1));
      });
    };
    process.once('SIGTERM', handle);
    process.once('SIGINT', handle);
  }
}
