// How long a session waits before it reconnects to control: exponential backoff with full jitter
// (Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015): the wait is drawn
// uniformly from [0, ceiling), the ceiling doubling per failed attempt up to a cap. Without the
// draw, every agent cut off by one control restart retries at the same instants (100 ms, 200 ms,
// … 5 s after the cut), so a thousand of them meet the new replica in lockstep; drawn from the
// whole window they arrive spread over it.

/** A source of uniform numbers in [0, 1), as Math.random; injected so tests are deterministic. */
export type RandomSource = () => number;

/** A wait drawn uniformly from [0, ceilingMs): full jitter. */
export function fullJitter(ceilingMs: number, random: RandomSource = Math.random): number {
  return Math.min(Math.floor(random() * ceilingMs), Math.max(0, ceilingMs - 1));
}

/** The reconnect waits of one session: the ceiling doubles per attempt, and resets once connected. */
export class ReconnectBackoff {
  #ceilingMs: number;

  constructor(
    readonly firstMs: number,
    readonly capMs: number,
    readonly random: RandomSource = Math.random,
  ) {
    this.#ceilingMs = firstMs;
  }

  /** The wait before the next attempt. */
  next(): number {
    const wait = fullJitter(this.#ceilingMs, this.random);
    this.#ceilingMs = Math.min(this.#ceilingMs * 2, this.capMs);
    return wait;
  }

  reset(): void {
    this.#ceilingMs = this.firstMs;
  }
}
