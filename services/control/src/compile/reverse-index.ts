// A key → set-of-values index the graph keeps beside the config, to find what depends on a
// changed object without a scan: the networks that apply a policy, the interfaces of a
// network, the instance-ips of an interface, and so on.
const NONE: ReadonlySet<string> = new Set();

export class ReverseIndex {
  readonly #sets = new Map<string, Set<string>>();

  get(key: string): ReadonlySet<string> {
    return this.#sets.get(key) ?? NONE;
  }

  add(key: string, value: string): void {
    let set = this.#sets.get(key);
    if (!set) {
      set = new Set();
      this.#sets.set(key, set);
    }
    set.add(value);
  }

  delete(key: string, value: string): void {
    const set = this.#sets.get(key);
    if (!set) return;
    set.delete(value);
    if (set.size === 0) this.#sets.delete(key);
  }

  /** Files `value` under the keys `after` instead of `before`. */
  move(value: string, before: Iterable<string>, after: Iterable<string>): void {
    for (const key of before) this.delete(key, value);
    for (const key of after) this.add(key, value);
  }
}
