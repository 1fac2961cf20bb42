// What one control replica has told this host: its routing instances, interfaces, ACLs and
// routes. A session fills a fresh snapshot after each (re)connect; it becomes complete at the
// end-of-config and end-of-routes markers, and only then replaces the previous one, so that
// nothing still true is withdrawn while a replica resends its state (mark and sweep).
import type { AccessControlList__Output as AccessControlList } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { ConfigUpdate__Output as ConfigUpdate } from '@weft/proto/gen/weft/control/v1/ConfigUpdate.js';
import type { Interface__Output as Interface } from '@weft/proto/gen/weft/control/v1/Interface.js';
import type { NextHop__Output as NextHop } from '@weft/proto/gen/weft/control/v1/NextHop.js';
import type { RouteUpdate__Output as RouteUpdate } from '@weft/proto/gen/weft/control/v1/RouteUpdate.js';
import type { RoutingInstance__Output as RoutingInstance } from '@weft/proto/gen/weft/control/v1/RoutingInstance.js';

export type { AccessControlList, Interface, NextHop, RoutingInstance };

export class HostSnapshot {
  readonly routingInstances = new Map<string, RoutingInstance>();
  readonly interfaces = new Map<string, Interface>();
  readonly acls = new Map<string, AccessControlList>();
  /** routing instance name → prefix → next hop */
  readonly routes = new Map<string, Map<string, NextHop>>();
  configComplete = false;
  routesComplete = false;

  get complete(): boolean {
    return this.configComplete && this.routesComplete;
  }

  applyConfig(update: ConfigUpdate): void {
    for (const instance of update.routing_instances) this.routingInstances.set(instance.name, instance);
    for (const item of update.interfaces) this.interfaces.set(item.uuid, item);
    for (const acl of update.acls) this.acls.set(acl.name, acl);
    for (const name of update.deleted_routing_instances) {
      this.routingInstances.delete(name);
      this.routes.delete(name);
    }
    for (const uuid of update.deleted_interfaces) this.interfaces.delete(uuid);
    for (const name of update.deleted_acls) this.acls.delete(name);
  }

  applyRoutes(update: RouteUpdate): void {
    let table = this.routes.get(update.routing_instance);
    if (!table) {
      table = new Map();
      this.routes.set(update.routing_instance, table);
    }
    for (const prefix of update.withdraw) table.delete(prefix);
    for (const route of update.add) if (route.next_hop) table.set(route.prefix, route.next_hop);
  }
}
