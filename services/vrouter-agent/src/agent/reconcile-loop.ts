// Applies the host's desired state to the datapath in batches: a burst of control messages is
// one reconcile, not one per message. Nothing is applied before the first full sync (the
// datapath keeps what an earlier agent left in it), and `applied()` resolves once everything
// known now is in the datapath, which is when the control session acknowledges.
import type { Logger } from '@weft/kit';
import type { HostState } from '../host-state/host-state.js';
import type { PortStore } from '../ports/port-store.js';
import type { Datapath } from './datapath.js';

export class ReconcileLoop {
  #running: Promise<void> | undefined;
  #again = false;
  /** Reconciles that failed in a row; the next retry waits longer. */
  #failures = 0;
  #lastError: unknown;
  reconciles = 0;

  constructor(
    private readonly state: HostState,
    private readonly ports: PortStore,
    private readonly datapath: Datapath,
    private readonly logger: Logger,
  ) {
    state.on('changed', () => this.kick());
  }

  /** Asks for a reconcile; coalesces with one already queued. */
  kick(): void {
    if (!this.state.synced) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  async #run(): Promise<void> {
    // Let the rest of a burst of messages land first.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      await this.datapath.reconcile(this.state.view(), this.ports.all());
      this.reconciles += 1;
      this.#failures = 0;
      this.#lastError = undefined;
    } catch (error) {
      this.#failures += 1;
      this.#lastError = error;
      this.logger.error({ err: error, failures: this.#failures }, 'datapath reconcile failed; retrying');
      const delay = Math.min(100 * 2 ** this.#failures, 5_000);
      setTimeout(() => this.kick(), delay).unref();
    }
  }

  /** Resolves once the state known now has been applied (rejects if that reconcile failed). */
  async applied(): Promise<void> {
    for (;;) {
      const running = this.#running;
      if (running) await running;
      else if (this.#again) this.kick();
      else break;
    }
    if (this.#lastError) throw this.#lastError;
  }
}
