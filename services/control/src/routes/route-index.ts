// The routes each routing instance originates: one per address that config allocated to an
// interface (its instance-ips), while a port is up for it on the host config binds it to. What
// the agent reported is never a route: a claim decides only whether the port is up, config
// decides where it is and what it carries. Kept as an index (instance → prefix → port) so that
// one port or one interface changing touches only its own prefixes.
import type { CompiledState } from '../compile/state.js';
import { allocatedRoutes, type Port, type PortTable } from './ports.js';

export interface RouteKey {
  routingInstance: string;
  prefix: string;
}

interface Originated {
  port: Port;
  routingInstance: string;
  prefixes: readonly string[];
}

/** The routes config gives `port`: none unless config binds its interface to the port's host. */
export function configuredRoutes(
  state: CompiledState,
  port: Port,
): { routingInstance: string; prefixes: readonly string[] } | undefined {
  const iface = state.interfaces.get(port.interfaceUuid);
  if (!iface || iface.host !== port.host) return undefined;
  return { routingInstance: iface.routingInstance, prefixes: allocatedRoutes(iface.message).list };
}

export class RouteIndex {
  readonly #byInstance = new Map<string, Map<string, Port>>();
  /** What each interface's port originates now, as config said when it was put. */
  readonly #originated = new Map<string, Originated>();

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

  /** How many routes the port of `interfaceUuid` originates now. */
  originatedBy(interfaceUuid: string): number {
    const originated = this.#originated.get(interfaceUuid);
    if (!originated) return 0;
    const table = this.#byInstance.get(originated.routingInstance);
    return originated.prefixes.filter((prefix) => table?.get(prefix) === originated.port).length;
  }

  instances(): IterableIterator<string> {
    return this.#byInstance.keys();
  }

  #withdraw(interfaceUuid: string, changed: RouteKey[]): void {
    const originated = this.#originated.get(interfaceUuid);
    if (!originated) return;
    this.#originated.delete(interfaceUuid);
    const { routingInstance, port } = originated;
    const table = this.#byInstance.get(routingInstance);
    for (const prefix of originated.prefixes) {
      if (table?.get(prefix) !== port) continue;
      table.delete(prefix);
      changed.push({ routingInstance, prefix });
    }
    if (table?.size === 0) this.#byInstance.delete(routingInstance);
  }

  #originate(state: CompiledState, port: Port, changed: RouteKey[]): void {
    const routes = configuredRoutes(state, port);
    if (!routes) return;
    this.#originated.set(port.interfaceUuid, { port, ...routes });
    let table = this.#byInstance.get(routes.routingInstance);
    if (!table) {
      table = new Map();
      this.#byInstance.set(routes.routingInstance, table);
    }
    for (const prefix of routes.prefixes) {
      table.set(prefix, port);
      changed.push({ routingInstance: routes.routingInstance, prefix });
    }
  }

  /** Applies one port change; returns the keys whose route changed. */
  portChanged(state: CompiledState, before: Port | undefined, after: Port | undefined): RouteKey[] {
    const changed: RouteKey[] = [];
    if (before) this.#withdraw(before.interfaceUuid, changed);
    if (after) this.#originate(state, after, changed);
    return changed;
  }

  /**
   * Config changed an interface: its instance, its host binding or its addresses. The routes of
   * its port follow. Returns the keys whose route changed.
   */
  interfaceChanged(state: CompiledState, interfaceUuid: string): RouteKey[] {
    const changed: RouteKey[] = [];
    this.#withdraw(interfaceUuid, changed);
    const port = this.ports.get(interfaceUuid);
    if (port) this.#originate(state, port, changed);
    return changed;
  }

  /** Rebuilds from every port against the whole config; returns the keys whose route changed. */
  rebuild(state: CompiledState): RouteKey[] {
    const old = new Map(this.#byInstance);
    this.#byInstance.clear();
    this.#originated.clear();
    for (const port of this.ports.values()) this.#originate(state, port, []);
    const changed: RouteKey[] = [];
    for (const [routingInstance, table] of this.#byInstance) {
      const before = old.get(routingInstance);
      for (const [prefix, port] of table) {
        if (before?.get(prefix) !== port) changed.push({ routingInstance, prefix });
      }
    }
    for (const [routingInstance, before] of old) {
      const table = this.#byInstance.get(routingInstance);
      for (const prefix of before.keys()) if (!table?.has(prefix)) changed.push({ routingInstance, prefix });
    }
    return changed;
  }
}
