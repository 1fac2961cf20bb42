// A key → set-of-values index the graph keeps beside the config, to find what depends on a
// changed object without a scan: the networks that apply a policy, the interfaces of a
// network, the instance-ips of an interface, and so on. Most keys have one value (a pod's one
// interface, an interface's one address), which is kept as it is: a Set for each would cost a
// quarter of a kilobyte, times every interface.
const NONE: readonly string[] = [];

export class ReverseIndex {
  readonly #values = new Map<string, string | Set<string>>();

  get(key: string): Iterable<string> {
    const values = this.#values.get(key);
    return values === undefined ? NONE : typeof values === 'string' ? [values] : values;
  }

  count(key: string): number {
    const values = this.#values.get(key);
    return values === undefined ? 0 : typeof values === 'string' ? 1 : values.size;
  }

  add(key: string, value: string): void {
    const values = this.#values.get(key);
    if (values === undefined) this.#values.set(key, value);
    else if (typeof values !== 'string') values.add(value);
    else if (values !== value) this.#values.set(key, new Set([values, value]));
  }

  delete(key: string, value: string): void {
    const values = this.#values.get(key);
    if (values === value) this.#values.delete(key);
    else if (typeof values === 'object') {
      values.delete(value);
      if (values.size === 1) this.#values.set(key, values.values().next().value!);
    }
  }

  /** Files `value` under the keys `after` instead of `before`. */
  move(value: string, before: Iterable<string>, after: Iterable<string>): void {
    for (const key of before) this.delete(key, value);
    for (const key of after) this.add(key, value);
  }
}
