// Ctrl-C (SIGINT) or SIGTERM is the normal end of `watch` and `flows --follow` (exit 0). The
// handler must be in place before the command prints its first line: a script that signals as
// soon as it sees output would otherwise meet the signal's default action, and weftctl would die
// by the signal instead of ending with 0.
export class Interrupt {
  #interrupted = false;
  #onInterrupt: (() => void) | undefined;
  readonly #handler = () => {
    this.#interrupted = true;
    this.#onInterrupt?.();
  };

  constructor() {
    process.once('SIGINT', this.#handler);
    process.once('SIGTERM', this.#handler);
  }

  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** Runs `stop` on the signal, or now if it has already come. */
  onInterrupt(stop: () => void): void {
    this.#onInterrupt = stop;
    if (this.#interrupted) stop();
  }

  dispose(): void {
    process.off('SIGINT', this.#handler);
    process.off('SIGTERM', this.#handler);
  }
}
