// Ports that agents reported up: the source of every route control distributes. A port is known
// by the uuid of its virtual-machine-interface; it belongs to the host that reported it, and is
// kept only when config binds the interface to that host (agents/hub.ts).
import { isIP } from 'node:net';

export interface Port {
  interfaceUuid: string;
  host: string;
  /** Where tunnels to the port's host end, as the host said in its hello. */
  underlay: string;
  mac: string;
  /**
   * Host routes of the addresses the agent reported (/32, /128, sorted): checked against config
   * when the claim comes, never made into routes (route-index.ts takes config's).
   */
  prefixes: string[];
  hostIfname: string;
}

/** "10.1.0.3/24" → "10.1.0.3/32"; undefined when it is not an address. */
export function hostRoute(cidr: string): string | undefined {
  const address = cidr.split('/')[0]!.trim();
  const version = isIP(address);
  if (version === 4) return `${address}/32`;
  if (version === 6) return `${address.toLowerCase()}/128`;
  return undefined;
}

const routesByMessage = new WeakMap<object, { list: string[]; set: ReadonlySet<string> }>();

/**
 * The host routes of the addresses config allocated to an interface, in their order, and as a
 * set: worked out once per compiled interface message (never changed in place, only replaced),
 * since every port-up of the interface, and every route it originates, asks again.
 */
export function allocatedRoutes(message: { addresses?: string[] | null }): {
  list: readonly string[];
  set: ReadonlySet<string>;
} {
  let routes = routesByMessage.get(message);
  if (!routes) {
    const list = (message.addresses ?? []).map(hostRoute).filter((prefix) => prefix !== undefined);
    routes = { list, set: new Set(list) };
    routesByMessage.set(message, routes);
  }
  return routes;
}

export class PortTable {
  readonly #ports = new Map<string, Port>();
  readonly #byHost = new Map<string, Set<string>>();

  get(interfaceUuid: string): Port | undefined {
    return this.#ports.get(interfaceUuid);
  }

  get size(): number {
    return this.#ports.size;
  }

  values(): IterableIterator<Port> {
    return this.#ports.values();
  }

  ofHost(host: string): string[] {
    return [...(this.#byHost.get(host) ?? [])];
  }

  /** Stores the port; returns what it replaced. */
  set(port: Port): Port | undefined {
    const before = this.delete(port.interfaceUuid);
    this.#ports.set(port.interfaceUuid, port);
    if (!this.#byHost.has(port.host)) this.#byHost.set(port.host, new Set());
    this.#byHost.get(port.host)!.add(port.interfaceUuid);
    return before;
  }

  delete(interfaceUuid: string): Port | undefined {
    const port = this.#ports.get(interfaceUuid);
    if (!port) return undefined;
    this.#ports.delete(interfaceUuid);
    const ofHost = this.#byHost.get(port.host);
    ofHost?.delete(interfaceUuid);
    if (ofHost?.size === 0) this.#byHost.delete(port.host);
    return port;
  }
}
