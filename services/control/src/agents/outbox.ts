// What one agent still has to be sent, coalesced by key: a newer value of a config object or a
// route replaces the queued one, so the queue is bounded by the size of the host's state, never
// by the number of changes. A slow agent therefore costs memory in proportion to its state and
// never holds up another agent (the discipline of Calico's Typha).
import type { AccessControlList } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { ConfigUpdate } from '@weft/proto/gen/weft/control/v1/ConfigUpdate.js';
import type { Interface } from '@weft/proto/gen/weft/control/v1/Interface.js';
import type { Route } from '@weft/proto/gen/weft/control/v1/Route.js';
import type { RoutingInstance } from '@weft/proto/gen/weft/control/v1/RoutingInstance.js';

/** Most objects in one ConfigUpdate, and routes in one RouteUpdate: keeps messages small. */
export const CONFIG_BATCH = 256;
export const ROUTE_BATCH = 512;

/** R: what a route is queued as (control queues its routes encoded, see wire.ts). */
export class Outbox<R = Route> {
  readonly routingInstances = new Map<string, RoutingInstance | null>();
  readonly interfaces = new Map<string, Interface | null>();
  readonly acls = new Map<string, AccessControlList | null>();
  readonly routes = new Map<string, Map<string, R | null>>();
  #routeCount = 0;

  get depth(): number {
    return this.routingInstances.size + this.interfaces.size + this.acls.size + this.#routeCount;
  }

  get hasConfig(): boolean {
    return this.routingInstances.size + this.interfaces.size + this.acls.size > 0;
  }

  get hasRoutes(): boolean {
    return this.#routeCount > 0;
  }

  putRoute(routingInstance: string, prefix: string, route: R | null): void {
    let table = this.routes.get(routingInstance);
    if (!table) {
      table = new Map();
      this.routes.set(routingInstance, table);
    }
    if (!table.has(prefix)) this.#routeCount += 1;
    table.set(prefix, route);
  }

  dropRoutes(routingInstance: string): void {
    this.#routeCount -= this.routes.get(routingInstance)?.size ?? 0;
    this.routes.delete(routingInstance);
  }

  /** The next ConfigUpdate, at most CONFIG_BATCH objects; routing instances go first. */
  takeConfig(): ConfigUpdate {
    const update: Required<
      Pick<
        ConfigUpdate,
        | 'routing_instances'
        | 'interfaces'
        | 'acls'
        | 'deleted_routing_instances'
        | 'deleted_interfaces'
        | 'deleted_acls'
      >
    > = {
      routing_instances: [],
      interfaces: [],
      acls: [],
      deleted_routing_instances: [],
      deleted_interfaces: [],
      deleted_acls: [],
    };
    let room = CONFIG_BATCH;
    const drain = <T>(from: Map<string, T | null>, upserts: T[], deletes: string[]) => {
      for (const [key, value] of from) {
        if (room === 0) return;
        from.delete(key);
        room -= 1;
        if (value === null) deletes.push(key);
        else upserts.push(value);
      }
    };
    // Instances and ACLs before the interfaces that name them.
    drain(this.routingInstances, update.routing_instances, update.deleted_routing_instances);
    drain(this.acls, update.acls, update.deleted_acls);
    drain(this.interfaces, update.interfaces, update.deleted_interfaces);
    return update;
  }

  /** The next RouteUpdate: routes of one routing instance, at most ROUTE_BATCH of them. */
  takeRoutes(): { routing_instance: string; add: R[]; withdraw: string[] } | undefined {
    for (const [routingInstance, table] of this.routes) {
      const add: R[] = [];
      const withdraw: string[] = [];
      for (const [prefix, route] of table) {
        if (add.length + withdraw.length === ROUTE_BATCH) break;
        table.delete(prefix);
        this.#routeCount -= 1;
        if (route === null) withdraw.push(prefix);
        else add.push(route);
      }
      if (table.size === 0) this.routes.delete(routingInstance);
      return { routing_instance: routingInstance, add, withdraw };
    }
    return undefined;
  }
}
