// Which hosts have interfaces in which routing instances, counted by interface and written
// into the compiled state's hosts and hostsOf, so that an interface coming or going updates
// both in constant time.
import type { CompiledState, HostSet } from './state.js';

export class HostIndex {
  /** host → routing instance → interfaces of the host in it. */
  readonly #counts = new Map<string, Map<string, number>>();

  constructor(private readonly state: CompiledState) {}

  /** Files an interface; true when the host is new in the instance's hostsOf. */
  add(host: string, uuid: string, routingInstance: string): boolean {
    let set = this.state.hosts.get(host);
    if (!set) {
      set = { interfaces: new Set(), routingInstances: new Set() } satisfies HostSet;
      this.state.hosts.set(host, set);
      this.#counts.set(host, new Map());
    }
    set.interfaces.add(uuid);
    const counts = this.#counts.get(host)!;
    const count = (counts.get(routingInstance) ?? 0) + 1;
    counts.set(routingInstance, count);
    if (count > 1) return false;
    set.routingInstances.add(routingInstance);
    let hosts = this.state.hostsOf.get(routingInstance);
    if (!hosts) {
      hosts = new Set();
      this.state.hostsOf.set(routingInstance, hosts);
    }
    hosts.add(host);
    return true;
  }

  /** Unfiles an interface; true when the host left the instance's hostsOf. */
  remove(host: string, uuid: string, routingInstance: string): boolean {
    const set = this.state.hosts.get(host);
    const counts = this.#counts.get(host);
    if (!set || !counts) return false;
    set.interfaces.delete(uuid);
    const count = (counts.get(routingInstance) ?? 0) - 1;
    let left = false;
    if (count > 0) counts.set(routingInstance, count);
    else {
      counts.delete(routingInstance);
      set.routingInstances.delete(routingInstance);
      const hosts = this.state.hostsOf.get(routingInstance);
      hosts?.delete(host);
      if (hosts?.size === 0) this.state.hostsOf.delete(routingInstance);
      left = true;
    }
    if (set.interfaces.size === 0) {
      this.state.hosts.delete(host);
      this.#counts.delete(host);
    }
    return left;
  }
}
