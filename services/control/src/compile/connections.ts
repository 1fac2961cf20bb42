// The pairs of networks that exchange routes. Each source (the pass rules of one network's
// policies, one logical router) gives a set of pairs; a pair holds while any source gives it,
// so one source going away never cuts what another still connects.
import { ReverseIndex } from './reverse-index.js';

export class Connections {
  readonly #bySource = new Map<string, ReadonlySet<string>>();
  readonly #count = new Map<string, number>();
  readonly #peers = new ReverseIndex();

  /** The networks `network` exchanges routes with. */
  peers(network: string): Iterable<string> {
    return this.#peers.get(network);
  }

  /** Replaces what `source` connects (pairKey strings); returns the networks whose peers changed. */
  set(source: string, pairs: ReadonlySet<string>): string[] {
    const before = this.#bySource.get(source);
    if (pairs.size === 0) this.#bySource.delete(source);
    else this.#bySource.set(source, pairs);
    const changed: string[] = [];
    for (const pair of before ?? []) {
      if (pairs.has(pair)) continue;
      const count = this.#count.get(pair)! - 1;
      if (count > 0) this.#count.set(pair, count);
      else {
        this.#count.delete(pair);
        const [a, b] = pair.split(' ') as [string, string];
        this.#peers.delete(a, b);
        this.#peers.delete(b, a);
        changed.push(a, b);
      }
    }
    for (const pair of pairs) {
      if (before?.has(pair)) continue;
      const count = (this.#count.get(pair) ?? 0) + 1;
      this.#count.set(pair, count);
      if (count === 1) {
        const [a, b] = pair.split(' ') as [string, string];
        this.#peers.add(a, b);
        this.#peers.add(b, a);
        changed.push(a, b);
      }
    }
    return changed;
  }
}
