// Routes learnt from the gateways over BGP (a default route, external prefixes): prefix → the
// gateway that offered it. They go into the routing instances of networks routed to the outside
// (router_external), as Tungsten Fabric imports the gateway's routes into its public network's
// instance: the pods there reach those prefixes through their host's underlay, to that gateway.
// A prefix a port of the instance originates stays the port's.
import { isIPv4 } from 'node:net';
import type { EncodedRoute } from '../agents/wire.js';
import { encodeRoute } from '../agents/wire.js';

export interface GatewayRoute {
  /** The gateway's IPv4 address, the next hop on the underlay. */
  gateway: string;
  /** The route's bytes, made once and shared by every host that gets it. */
  route: EncodedRoute;
}

export class GatewayRoutes {
  readonly #routes = new Map<string, GatewayRoute>();

  get(prefix: string): GatewayRoute | undefined {
    return this.#routes.get(prefix);
  }

  prefixes(): IterableIterator<string> {
    return this.#routes.keys();
  }

  /**
   * Takes what the gateways offer now (IPv4 prefixes and next hops; the first offer of a prefix
   * wins); returns the prefixes whose route changed.
   */
  replace(learnt: Iterable<{ prefix: string; nextHop: string }>): string[] {
    const next = new Map<string, string>();
    for (const { prefix, nextHop } of learnt) {
      if (next.has(prefix) || !isIPv4(prefix.split('/')[0]!) || !isIPv4(nextHop)) continue;
      next.set(prefix, nextHop);
    }
    const changed: string[] = [];
    for (const prefix of this.#routes.keys()) {
      if (next.has(prefix)) continue;
      this.#routes.delete(prefix);
      changed.push(prefix);
    }
    for (const [prefix, gateway] of next) {
      if (this.#routes.get(prefix)?.gateway === gateway) continue;
      this.#routes.set(prefix, { gateway, route: encodeRoute({ prefix, next_hop: { underlay_gateway: gateway } }) });
      changed.push(prefix);
    }
    return changed;
  }
}
