// The routes each routing instance originates: one per address of every port that is up and
// whose interface the config puts in that instance. Kept as an index (instance → prefix →
// port) so that one port going up or down touches only its own prefixes.
import type { CompiledState } from '../compile/state.js';
import type { Port, PortTable } from './ports.js';

export interface RouteKey {
  routingInstance: string;
  prefix: string;
}

export class RouteIndex {
  readonly #byInstance = new Map<string, Map<string, Port>>();

  constructor(private readonly ports: PortTable) {}

  /** The port that originates `prefix` in `routingInstance`. */
  get(routingInstance: string, prefix: string): Port | undefined {
    return this.#byInstance.get(routingInstance)?.get(prefix);
  }

  instance(routingInstance: string): ReadonlyMap<string, Port> {
    return this.#byInstance.get(routingInstance) ?? new Map();
  }

  countOf(routingInstance: string): number {
    return this.#byInstance.get(routingInstance)?.size ?? 0;
  }

  instances(): IterableIterator<string> {
    return this.#byInstance.keys();
  }

  #put(routingInstance: string, prefix: string, port: Port): void {
    let table = this.#byInstance.get(routingInstance);
    if (!table) {
      table = new Map();
      this.#byInstance.set(routingInstance, table);
    }
    table.set(prefix, port);
  }

  #remove(routingInstance: string, prefix: string, port: Port): boolean {
    const table = this.#byInstance.get(routingInstance);
    if (table?.get(prefix) !== port) return false;
    table.delete(prefix);
    if (table.size === 0) this.#byInstance.delete(routingInstance);
    return true;
  }

  /** Applies one port change; returns the keys whose route changed. */
  portChanged(state: CompiledState, before: Port | undefined, after: Port | undefined): RouteKey[] {
    const changed: RouteKey[] = [];
    if (before) {
      const instance = state.interfaces.get(before.interfaceUuid)?.routingInstance;
      if (instance) {
        for (const prefix of before.prefixes) {
          if (this.#remove(instance, prefix, before)) changed.push({ routingInstance: instance, prefix });
        }
      }
    }
    if (after) {
      const instance = state.interfaces.get(after.interfaceUuid)?.routingInstance;
      if (instance) {
        for (const prefix of after.prefixes) {
          this.#put(instance, prefix, after);
          changed.push({ routingInstance: instance, prefix });
        }
      }
    }
    return changed;
  }

  /**
   * An interface moved from one routing instance to another (or into config, or out of it):
   * its port's prefixes move with it. Returns the keys whose route changed.
   */
  interfaceMoved(interfaceUuid: string, before: string | undefined, after: string | undefined): RouteKey[] {
    const port = this.ports.get(interfaceUuid);
    if (!port) return [];
    const changed: RouteKey[] = [];
    if (before) {
      for (const prefix of port.prefixes) {
        if (this.#remove(before, prefix, port)) changed.push({ routingInstance: before, prefix });
      }
    }
    if (after) {
      for (const prefix of port.prefixes) {
        this.#put(after, prefix, port);
        changed.push({ routingInstance: after, prefix });
      }
    }
    return changed;
  }

  /** Rebuilds from every port against the whole config; returns the keys whose route changed. */
  rebuild(state: CompiledState): RouteKey[] {
    const next = new Map<string, Map<string, Port>>();
    for (const port of this.ports.values()) {
      const instance = state.interfaces.get(port.interfaceUuid)?.routingInstance;
      if (!instance) continue;
      let table = next.get(instance);
      if (!table) {
        table = new Map();
        next.set(instance, table);
      }
      for (const prefix of port.prefixes) table.set(prefix, port);
    }
    const changed: RouteKey[] = [];
    for (const [routingInstance, table] of next) {
      const old = this.#byInstance.get(routingInstance);
      for (const [prefix, port] of table) {
        if (old?.get(prefix) !== port) changed.push({ routingInstance, prefix });
      }
    }
    for (const [routingInstance, old] of this.#byInstance) {
      const table = next.get(routingInstance);
      for (const prefix of old.keys()) if (!table?.has(prefix)) changed.push({ routingInstance, prefix });
    }
    this.#byInstance.clear();
    for (const [key, value] of next) this.#byInstance.set(key, value);
    return changed;
  }
}
