// The calculation graph: the one place where control's small compilers are wired together.
// Each batch of config changes recompiles the whole graph from the store (level-based: the
// output depends only on the config, never on the order changes came in); the agent sessions
// then send each host only what differs from what it already has.
//
//   ConfigStore (config-feed)
//     │
//     ├─ virtual-network ──────────┬──────────────────────────────┐
//     │                            ▼                              │
//     ├─ network-policy ───► network-policies.ts                  │
//     │                       │ ACL per network                   │
//     ├─ security-group ─┐    │ connected network pairs           │
//     │   (ids by fq_name)    ▼                                   ▼
//     │                  │  routing-instances.ts ◄── vrf-ids.ts (stable VRF id per network)
//     │                  │    │ routing instance: VRF id, VNI, route targets, ACL name, MTU
//     │                  │    │ imports (route leaking by target and by pass policy)
//     │                  ▼    ▼
//     ├─ virtual-machine-interface, instance-ip, virtual-machine
//     │                  └──► interfaces.ts ◄── security-groups.ts (per-interface ACL)
//     │                         │ Interface per vmi, with its host (bindings host_id)
//     │                         ▼
//     └──────────────────► hosts (below): per host its interfaces, routing instances, ACLs;
//                          per routing instance the instances that carry its routes and the
//                          hosts that have interfaces in it
//                                │
//                                ▼
//                          CompiledState ──► agents/ (per-host diff and send)
import type { AccessControlList } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { ConfigStore, StoredObject } from '../config-feed/store.js';
import { type CompiledInterface, compileInterfaces } from './interfaces.js';
import { compileNetworkPolicies } from './network-policies.js';
import { type CompiledRoutingInstance, compileRoutingInstances } from './routing-instances.js';
import { property } from './vnc.js';
import { VrfIdAllocator } from './vrf-ids.js';

export interface HostSet {
  interfaces: Set<string>;
  routingInstances: Set<string>;
  acls: Set<string>;
}

export interface CompiledState {
  /** Routing instances by name. */
  routingInstances: Map<string, CompiledRoutingInstance>;
  /** Network ACLs and per-interface security-group ACLs by name. */
  acls: Map<string, AccessControlList>;
  interfaces: Map<string, CompiledInterface>;
  /** What each host (virtual-router name) needs. */
  hosts: Map<string, HostSet>;
  /** For each routing instance, the instances whose tables carry its routes (itself included). */
  carriers: Map<string, Set<string>>;
  /** For each routing instance, the hosts with an interface in it. */
  hostsOf: Map<string, Set<string>>;
}

export const EMPTY_STATE: CompiledState = {
  routingInstances: new Map(),
  acls: new Map(),
  interfaces: new Map(),
  hosts: new Map(),
  carriers: new Map(),
  hostsOf: new Map(),
};

function indexByFqName(objects: Iterable<StoredObject>): Map<string, StoredObject> {
  const index = new Map<string, StoredObject>();
  for (const object of objects) index.set(object.fqName.join(':'), object);
  return index;
}

/** Changes whenever an object of these types is written or removed. */
function generation(...tables: Iterable<StoredObject>[]): string {
  let newest = 0;
  let count = 0;
  for (const table of tables) {
    for (const object of table) {
      newest = Math.max(newest, object.revision);
      count += 1;
    }
  }
  return `${newest}:${count}`;
}

export class CompilationGraph {
  readonly #vrfIds = new VrfIdAllocator();
  readonly #interfaceCache: Map<string, { key: string; value: CompiledInterface }> = new Map();

  constructor(private readonly store: ConfigStore) {}

  compile(): CompiledState {
    const store = this.store;
    const networks = [...store.all('virtual-network')];
    const networkByFq = indexByFqName(networks);
    const groupByFq = indexByFqName(store.all('security-group'));
    const securityGroupIdByFqName = (fqName: string) => {
      const group = groupByFq.get(fqName);
      return group ? property<number>(group.body, 'security_group_id') : undefined;
    };
    const networkByFqName = (fqName: string) => networkByFq.get(fqName);

    const policies = compileNetworkPolicies({
      networks,
      policy: (uuid) => store.get('network-policy', uuid),
      networkByFqName,
      securityGroupIdByFqName,
    });
    this.#vrfIds.retain(new Set(networks.map((network) => network.uuid)));
    const instancesByNetwork = compileRoutingInstances({
      networks,
      vrfIds: this.#vrfIds,
      acls: policies.acls,
      connections: policies.connections,
    });
    const interfaces = compileInterfaces({
      interfaces: [...store.all('virtual-machine-interface')],
      instanceIps: [...store.all('instance-ip')],
      routingInstanceByNetwork: instancesByNetwork,
      network: (uuid) => store.get('virtual-network', uuid),
      virtualMachine: (uuid) => store.get('virtual-machine', uuid),
      securityGroup: (uuid) => store.get('security-group', uuid),
      networkByFqName,
      securityGroupIdByFqName,
      referencedGeneration: generation(store.all('security-group'), networks),
      cache: this.#interfaceCache,
    });

    const routingInstances = new Map<string, CompiledRoutingInstance>();
    const acls = new Map<string, AccessControlList>();
    for (const instance of instancesByNetwork.values()) routingInstances.set(instance.name, instance);
    for (const acl of policies.acls.values()) acls.set(acl.name!, acl);

    const carriers = new Map<string, Set<string>>();
    for (const instance of routingInstances.values()) carriers.set(instance.name, new Set([instance.name]));
    for (const instance of routingInstances.values()) {
      for (const imported of instance.imports) carriers.get(imported)?.add(instance.name);
    }

    const hosts = new Map<string, HostSet>();
    const hostsOf = new Map<string, Set<string>>();
    for (const compiled of interfaces.values()) {
      if (compiled.acl) acls.set(compiled.acl.name!, compiled.acl);
      if (!compiled.host) continue;
      let host = hosts.get(compiled.host);
      if (!host) {
        host = { interfaces: new Set(), routingInstances: new Set(), acls: new Set() };
        hosts.set(compiled.host, host);
      }
      host.interfaces.add(compiled.uuid);
      host.routingInstances.add(compiled.routingInstance);
      if (compiled.acl) host.acls.add(compiled.acl.name!);
      const networkAcl = routingInstances.get(compiled.routingInstance)?.message.acl_name;
      if (networkAcl) host.acls.add(networkAcl);
      if (!hostsOf.has(compiled.routingInstance)) hostsOf.set(compiled.routingInstance, new Set());
      hostsOf.get(compiled.routingInstance)!.add(compiled.host);
    }
    return { routingInstances, acls, interfaces, hosts, carriers, hostsOf };
  }
}
