// The calculation graph: the one place where control's small compilers are wired together, in
// the manner of Calico felix's calc graph. Each config change is taken as it comes (onUpdate):
// the indexes are updated and what depends on the object is marked dirty. Once per batch
// (flush) the dirty nodes are compiled again, in the order of the drawing, each marking what
// depends on it in turn; the results are written into the compiled state in place, and the
// delta names the hosts, routing instances and routes that changed, so that every agent is
// sent only that. An output equal to the one it replaces is kept as it was (same object), and
// marks nothing. full-compile.ts compiles everything at once from the same inputs: a property
// test holds the two equal after every change.
//
//   config store (typed objects) ──onUpdate──► indexes (by fq_name, by reference), dirty marks
//
//   instance-ip, virtual-machine-interface
//     └─► group members ─────────────────────────────┐ a rule names the group
//         (member addresses as prefixes)              │
//   logical-router, its interfaces' networks          │
//     └─► router networks ──peers──┐                  │
//           │ pairs                 ▼                  ▼
//           │    virtual-network, network-policy ─► network ACLs (network-policies.ts)
//           ▼                         │ pass pairs    │ ACL name
//       connections (connections.ts) ◄┘               ▼
//           │                     virtual-network ─► routing instances (routing-instances.ts,
//           │                                         │  vrf-ids.ts): VRF id, VNI, targets, MTU
//           │                                         │ route targets exported and imported
//           └───────────────────────────────────────► imports: the instances whose routes each
//                                                      │  one carries (and so their carriers)
//                                                      │ name, MTU, subnets, port security
//   virtual-machine, virtual-machine-interface,        ▼
//   instance-ip, security-group, group members, ──► interfaces (interfaces.ts): addresses, order
//   floating-ip                                        │  in the pod, MTU, security-group ACL,
//                                                      │  floating addresses
//                                                      ▼
//                                                  hosts (host-index.ts): per host its
//                                                  interfaces and instances; per instance
//                                                  the hosts with interfaces in it
//                                                      │
//                                                      ▼
//                                  CompiledState + CompiledDelta ──► agents/ (per-host send)
import type { Service } from '@weft/proto/gen/weft/control/v1/Service.js';
import type { ConfigStore, StoreChange, StoredObject } from '../config-feed/store.js';
import { Connections } from './connections.js';
import { HostIndex } from './host-index.js';
import { type CompiledInterface, compileInterface, floatingIpPort, podOf, podOrder } from './interfaces.js';
import { attachedNetworks, routerPairs } from './logical-routers.js';
import { type CompiledNetworkAcl, compileNetworkAcl, type NetworkAclLookup } from './network-policies.js';
import { ReverseIndex } from './reverse-index.js';
import { type CompiledRoutingInstance, compileRoutingInstance, importedInstances } from './routing-instances.js';
import { memberPrefixes, namesInRules } from './security-groups.js';
import { servicesByNetwork } from './services.js';
import { type CompiledDelta, type CompiledState, emptyDelta, emptyState } from './state.js';
import { firstRefUuid, fqString, refUuids, routingInstanceName } from './vnc.js';
import { VrfIdAllocator } from './vrf-ids.js';

export type { CompiledDelta, CompiledState, HostSet } from './state.js';

const NONE: ReadonlySet<string> = new Set();

type Change<T extends StoreChange['type']> = Extract<StoreChange, { type: T }>;

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const value of a) if (!b.has(value)) return false;
  return true;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What an interface compiles from its routing instance; a change to it recompiles them all. */
function interfaceFacts(instance: CompiledRoutingInstance): string {
  return JSON.stringify([instance.name, instance.mtu, instance.portSecurity, instance.subnets]);
}

function sameInterface(a: CompiledInterface, b: CompiledInterface): boolean {
  return (
    a.host === b.host &&
    a.routingInstance === b.routingInstance &&
    a.networkUuid === b.networkUuid &&
    sameJson(a.message, b.message) &&
    sameJson(a.acl, b.acl)
  );
}

export class CompilationGraph {
  readonly state: CompiledState = emptyState();
  readonly vrfIds = new VrfIdAllocator();
  readonly #hosts = new HostIndex(this.state);
  #first = true;

  // Indexes over the config.
  readonly #networkByFq = new Map<string, string>();
  readonly #groupByFq = new Map<string, string>();
  readonly #networksOfPolicy = new ReverseIndex();
  readonly #policiesNamingNetwork = new ReverseIndex();
  readonly #policiesNamingGroup = new ReverseIndex();
  readonly #groupsNamingNetwork = new ReverseIndex();
  readonly #groupsNamingGroup = new ReverseIndex();
  readonly #interfacesOfNetwork = new ReverseIndex();
  readonly #interfacesOfPod = new ReverseIndex();
  readonly #interfacesOfGroup = new ReverseIndex();
  readonly #instanceIpsOfInterface = new ReverseIndex();
  readonly #floatingIpsOfInterface = new ReverseIndex();
  readonly #routersOfInterface = new ReverseIndex();

  // Compiled nodes.
  readonly #groupMembers = new Map<string, string[]>();
  readonly #routerNetworks = new Map<string, ReadonlySet<string>>();
  readonly #routersOfNetwork = new ReverseIndex();
  readonly #networkAcls = new Map<string, CompiledNetworkAcl>();
  readonly #connections = new Connections();
  readonly #instances = new Map<string, CompiledRoutingInstance>();
  readonly #exporters = new ReverseIndex();
  readonly #importers = new ReverseIndex();
  readonly #importTargets = new Map<string, ReadonlySet<string>>();
  /** The services of each network (services.ts), and the ports holding their virtual IPs. */
  #services = new Map<string, Service[]>();
  #servicePorts: ReadonlySet<string> = new Set();
  #servicesDirty = false;

  // Marked by onUpdate and by earlier stages of a flush.
  readonly #dirty = {
    groups: new Set<string>(),
    routers: new Set<string>(),
    acls: new Set<string>(),
    instances: new Set<string>(),
    imports: new Set<string>(),
    interfaces: new Set<string>(),
  };
  #delta: CompiledDelta = emptyDelta(true);
  /** Instances whose hosts, and instances whose carriers' hosts, need their config again. */
  readonly #hostsOfInstances = new Set<string>();
  readonly #hostsOfCarriers = new Set<string>();

  readonly #lookup: NetworkAclLookup = {
    policy: (uuid) => this.store.get('network-policy', uuid),
    networkByFqName: (fqName) => this.#networkByFq.get(fqName),
    networkExists: (fqName) => this.#networkByFq.has(fqName),
    groupMembers: (fqName) => {
      const group = this.#groupByFq.get(fqName);
      return group === undefined ? undefined : (this.#groupMembers.get(group) ?? []);
    },
    routerPeers: (networkUuid) => {
      const peers = new Set<string>();
      for (const router of this.#routersOfNetwork.get(networkUuid)) {
        for (const peer of this.#routerNetworks.get(router) ?? NONE) {
          const network = peer === networkUuid ? undefined : this.store.get('virtual-network', peer);
          if (network) peers.add(routingInstanceName(network.fqName));
        }
      }
      return [...peers].sort();
    },
  };

  constructor(private readonly store: ConfigStore) {
    store.listen((change) => this.onUpdate(change));
    for (const type of ['virtual-network', 'network-policy', 'security-group', 'logical-router'] as const) {
      for (const after of store.all(type)) this.onUpdate({ type, uuid: after.uuid, after } as StoreChange);
    }
    this.#servicesDirty = true;
    for (const type of ['virtual-machine', 'virtual-machine-interface', 'instance-ip', 'floating-ip'] as const) {
      for (const after of store.all(type)) this.onUpdate({ type, uuid: after.uuid, after } as StoreChange);
    }
  }

  // ── onUpdate: indexes and dirty marks ──────────────────────────────────────────────────

  onUpdate(change: StoreChange): void {
    switch (change.type) {
      case 'virtual-network':
        this.#networkChanged(change);
        break;
      case 'network-policy':
        this.#policyChanged(change);
        break;
      case 'security-group':
        this.#groupChanged(change);
        break;
      case 'logical-router':
        this.#routerChanged(change);
        break;
      case 'virtual-machine':
        for (const uuid of this.#interfacesOfPod.get(change.uuid)) this.#dirty.interfaces.add(uuid);
        break;
      case 'virtual-machine-interface':
        this.#interfaceChanged(change);
        break;
      case 'instance-ip':
        this.#instanceIpChanged(change);
        break;
      case 'floating-ip':
        this.#floatingIpChanged(change);
        break;
      case 'loadbalancer':
      case 'loadbalancer-listener':
      case 'loadbalancer-pool':
      case 'loadbalancer-member':
        this.#servicesDirty = true;
        break;
    }
    // A port holding a virtual IP moved to another network: so did its services.
    if (change.type === 'virtual-machine-interface' && this.#servicePorts.has(change.uuid)) this.#servicesDirty = true;
  }

  #networkChanged({ uuid, before, after }: Change<'virtual-network'>): void {
    const fqBefore = before && fqString(before.fqName);
    const fqAfter = after && fqString(after.fqName);
    if (fqBefore !== fqAfter) {
      if (fqBefore !== undefined && this.#networkByFq.get(fqBefore) === uuid) this.#networkByFq.delete(fqBefore);
      if (fqAfter !== undefined) this.#networkByFq.set(fqAfter, uuid);
      for (const fq of [fqBefore, fqAfter]) if (fq !== undefined) this.#networkNamed(fq);
    }
    if (!before !== !after) {
      // Routers attach a network only while it exists.
      for (const vmi of this.#interfacesOfNetwork.get(uuid)) {
        for (const router of this.#routersOfInterface.get(vmi)) this.#dirty.routers.add(router);
      }
    }
    this.#networksOfPolicy.move(
      uuid,
      refUuids(before?.body.network_policy_refs),
      refUuids(after?.body.network_policy_refs),
    );
    this.#dirty.acls.add(uuid);
    this.#dirty.instances.add(uuid);
  }

  /** A network with this fq_name appeared or went: the rules that name it resolve differently. */
  #networkNamed(fq: string): void {
    for (const policy of this.#policiesNamingNetwork.get(fq)) {
      for (const network of this.#networksOfPolicy.get(policy)) this.#dirty.acls.add(network);
    }
    for (const group of this.#groupsNamingNetwork.get(fq)) this.#markMembers(group);
  }

  /** A group's members changed, or a group with this fq_name appeared or went. */
  #groupNamed(fq: string): void {
    for (const policy of this.#policiesNamingGroup.get(fq)) {
      for (const network of this.#networksOfPolicy.get(policy)) this.#dirty.acls.add(network);
    }
    for (const group of this.#groupsNamingGroup.get(fq)) this.#markMembers(group);
  }

  /** The interfaces of a group compile its rules into their ACLs. */
  #markMembers(group: string): void {
    for (const uuid of this.#interfacesOfGroup.get(group)) this.#dirty.interfaces.add(uuid);
  }

  #policyChanged({ uuid, before, after }: Change<'network-policy'>): void {
    const namesBefore = namesInRules(before?.body.network_policy_entries);
    const namesAfter = namesInRules(after?.body.network_policy_entries);
    this.#policiesNamingNetwork.move(uuid, namesBefore.networks, namesAfter.networks);
    this.#policiesNamingGroup.move(uuid, namesBefore.groups, namesAfter.groups);
    for (const network of this.#networksOfPolicy.get(uuid)) this.#dirty.acls.add(network);
  }

  #groupChanged({ uuid, before, after }: Change<'security-group'>): void {
    const fqBefore = before && fqString(before.fqName);
    const fqAfter = after && fqString(after.fqName);
    if (fqBefore !== fqAfter) {
      if (fqBefore !== undefined && this.#groupByFq.get(fqBefore) === uuid) this.#groupByFq.delete(fqBefore);
      if (fqAfter !== undefined) this.#groupByFq.set(fqAfter, uuid);
      for (const fq of [fqBefore, fqAfter]) if (fq !== undefined) this.#groupNamed(fq);
    }
    const namesBefore = namesInRules(before?.body.security_group_entries);
    const namesAfter = namesInRules(after?.body.security_group_entries);
    this.#groupsNamingNetwork.move(uuid, namesBefore.networks, namesAfter.networks);
    this.#groupsNamingGroup.move(uuid, namesBefore.groups, namesAfter.groups);
    this.#markMembers(uuid);
  }

  #routerChanged({ uuid, before, after }: Change<'logical-router'>): void {
    this.#routersOfInterface.move(
      uuid,
      refUuids(before?.body.virtual_machine_interface_refs),
      refUuids(after?.body.virtual_machine_interface_refs),
    );
    this.#dirty.routers.add(uuid);
  }

  #interfaceChanged({ uuid, before, after }: Change<'virtual-machine-interface'>): void {
    const networkBefore = before && firstRefUuid(before.body.virtual_network_refs);
    const networkAfter = after && firstRefUuid(after.body.virtual_network_refs);
    this.#interfacesOfNetwork.move(uuid, networkBefore ? [networkBefore] : [], networkAfter ? [networkAfter] : []);
    if (networkBefore !== networkAfter || !before !== !after) {
      for (const router of this.#routersOfInterface.get(uuid)) this.#dirty.routers.add(router);
    }

    // Siblings are ordered among each other: all of both pods' interfaces compile again.
    const podBefore = before && podOf(before);
    const podAfter = after && podOf(after);
    for (const pod of [podBefore, podAfter]) {
      if (pod !== undefined) for (const sibling of this.#interfacesOfPod.get(pod)) this.#dirty.interfaces.add(sibling);
    }
    this.#interfacesOfPod.move(uuid, podBefore ? [podBefore] : [], podAfter ? [podAfter] : []);

    const groupsBefore = new Set(refUuids(before?.body.security_group_refs));
    const groupsAfter = new Set(refUuids(after?.body.security_group_refs));
    this.#interfacesOfGroup.move(uuid, groupsBefore, groupsAfter);
    if (this.#instanceIpsOfInterface.count(uuid) > 0) {
      for (const group of groupsBefore) if (!groupsAfter.has(group)) this.#dirty.groups.add(group);
      for (const group of groupsAfter) if (!groupsBefore.has(group)) this.#dirty.groups.add(group);
    }
    this.#dirty.interfaces.add(uuid);
  }

  /** A floating-ip associated, moved or gone: the interfaces on both sides carry it or not. */
  #floatingIpChanged({ uuid, before, after }: Change<'floating-ip'>): void {
    const portBefore = floatingIpPort(before);
    const portAfter = floatingIpPort(after);
    this.#floatingIpsOfInterface.move(uuid, portBefore ? [portBefore] : [], portAfter ? [portAfter] : []);
    for (const vmi of [portBefore, portAfter]) if (vmi !== undefined) this.#dirty.interfaces.add(vmi);
  }

  #instanceIpChanged({ uuid, before, after }: Change<'instance-ip'>): void {
    const interfacesBefore = refUuids(before?.body.virtual_machine_interface_refs);
    const interfacesAfter = refUuids(after?.body.virtual_machine_interface_refs);
    this.#instanceIpsOfInterface.move(uuid, interfacesBefore, interfacesAfter);
    const addressChanged = before?.body.instance_ip_address !== after?.body.instance_ip_address;
    for (const vmi of new Set([...interfacesBefore, ...interfacesAfter])) {
      this.#dirty.interfaces.add(vmi);
      if (addressChanged || !interfacesBefore.includes(vmi) || !interfacesAfter.includes(vmi)) {
        const groups = this.store.get('virtual-machine-interface', vmi)?.body.security_group_refs;
        for (const group of refUuids(groups)) this.#dirty.groups.add(group);
      }
    }
  }

  // ── flush: compile what is dirty, in the order of the drawing ───────────────────────────

  /** Compiles every change taken since the last flush; returns what changed. */
  flush(): CompiledDelta {
    const delta = emptyDelta(this.#first);
    this.#first = false;
    this.#delta = delta;
    this.#compileGroupMembers();
    this.#compileRouterNetworks();
    this.#compileNetworkAcls();
    this.#compileServices();
    this.#compileRoutingInstances();
    this.#compileImports();
    this.#compileInterfaces();
    for (const name of this.#hostsOfInstances)
      for (const host of this.state.hostsOf.get(name) ?? NONE) delta.hosts.add(host);
    for (const name of this.#hostsOfCarriers) {
      for (const carrier of this.state.carriers.get(name) ?? [name]) {
        for (const host of this.state.hostsOf.get(carrier) ?? NONE) delta.hosts.add(host);
      }
    }
    this.#hostsOfInstances.clear();
    this.#hostsOfCarriers.clear();
    return delta;
  }

  #compileGroupMembers(): void {
    for (const uuid of this.#dirty.groups) {
      const addresses: string[] = [];
      for (const vmi of this.#interfacesOfGroup.get(uuid)) {
        for (const instanceIp of this.#instanceIpsOfInterface.get(vmi)) {
          const address = this.store.get('instance-ip', instanceIp)?.body.instance_ip_address;
          if (address) addresses.push(address);
        }
      }
      const prefixes = memberPrefixes(addresses);
      if (sameList(this.#groupMembers.get(uuid) ?? [], prefixes)) continue;
      if (prefixes.length > 0) this.#groupMembers.set(uuid, prefixes);
      else this.#groupMembers.delete(uuid);
      const group = this.store.get('security-group', uuid);
      if (group) this.#groupNamed(fqString(group.fqName));
    }
    this.#dirty.groups.clear();
  }

  #compileRouterNetworks(): void {
    const networkOf = (vmi: string) => {
      const network = firstRefUuid(this.store.get('virtual-machine-interface', vmi)?.body.virtual_network_refs);
      return network && this.store.get('virtual-network', network) ? network : undefined;
    };
    for (const uuid of this.#dirty.routers) {
      const networks = attachedNetworks(this.store.get('logical-router', uuid), networkOf);
      const before = this.#routerNetworks.get(uuid) ?? NONE;
      if (sameSet(before, networks)) continue;
      if (networks.size > 0) this.#routerNetworks.set(uuid, networks);
      else this.#routerNetworks.delete(uuid);
      this.#routersOfNetwork.move(uuid, before, networks);
      // Every attached network's ACL passes its peers: all of them change.
      for (const network of [...before, ...networks]) this.#dirty.acls.add(network);
      for (const network of this.#connections.set(`router ${uuid}`, routerPairs(networks))) {
        this.#dirty.imports.add(network);
      }
    }
    this.#dirty.routers.clear();
  }

  #compileNetworkAcls(): void {
    for (const uuid of this.#dirty.acls) {
      const network = this.store.get('virtual-network', uuid);
      const next = network ? compileNetworkAcl(network, this.#lookup) : undefined;
      for (const peer of this.#connections.set(`policy ${uuid}`, next?.connections ?? NONE)) {
        this.#dirty.imports.add(peer);
      }
      const before = this.#networkAcls.get(uuid);
      if (!before && !next) continue;
      if (before && next && before.acl.name === next.acl.name && sameJson(before.acl, next.acl)) continue;
      if (before) this.state.acls.delete(before.acl.name!);
      if (next) {
        this.#networkAcls.set(uuid, next);
        this.state.acls.set(next.acl.name!, next.acl);
      } else this.#networkAcls.delete(uuid);
      // The instance names its ACL: a new or a vanished one changes the instance's message.
      if (before?.acl.name !== next?.acl.name) this.#dirty.instances.add(uuid);
      const instance = this.#instances.get(uuid);
      if (instance) this.#hostsOfInstances.add(instance.name);
    }
    this.#dirty.acls.clear();
  }

  /**
   * Services are compiled whole when any loadbalancer object changed (a Kubernetes cluster has
   * few enough Services that this costs less than indexes for four types would); only the
   * networks whose services differ are compiled again.
   */
  #compileServices(): void {
    if (!this.#servicesDirty) return;
    this.#servicesDirty = false;
    const next = servicesByNetwork(this.store);
    for (const network of new Set([...this.#services.keys(), ...next.keys()])) {
      if (!sameJson(this.#services.get(network) ?? [], next.get(network) ?? [])) this.#dirty.instances.add(network);
    }
    this.#services = next;
    const ports = new Set<string>();
    for (const lb of this.store.all('loadbalancer'))
      for (const port of refUuids(lb.body.virtual_machine_interface_refs)) ports.add(port);
    this.#servicePorts = ports;
  }

  #compileRoutingInstances(): void {
    for (const uuid of this.#dirty.instances) {
      const network = this.store.get('virtual-network', uuid);
      let before = this.#instances.get(uuid);
      if (!network) {
        if (before) this.#removeInstance(before);
        this.vrfIds.forget(uuid);
        continue;
      }
      const vrfId = this.vrfIds.idOf(uuid, network.body.virtual_network_network_id);
      const next = compileRoutingInstance(
        network,
        vrfId,
        this.#networkAcls.get(uuid)?.acl.name ?? '',
        this.#services.get(uuid),
      );
      if (before && before.name !== next.name) {
        this.#removeInstance(before);
        before = undefined;
      }
      let messageChanged = true;
      if (before) {
        next.imports = before.imports;
        messageChanged = !sameJson(before.message, next.message);
        if (!messageChanged) next.message = before.message;
        const same =
          !messageChanged &&
          sameList(before.importTargets, next.importTargets) &&
          interfaceFacts(before) === interfaceFacts(next);
        if (same) continue;
      }
      this.#instances.set(uuid, next);
      this.state.routingInstances.set(next.name, next);
      // (Connections name only networks that exist, so a new instance's peers are marked with
      // the pairs that the same change made.)
      if (!before) this.state.carriers.set(next.name, new Set([next.name]));
      const exportsBefore = before?.exportTargets ?? [];
      if (!sameList(exportsBefore, next.exportTargets)) {
        this.#exporters.move(uuid, exportsBefore, next.exportTargets);
        const changed = new Set([...exportsBefore, ...next.exportTargets]);
        for (const target of changed) {
          if (exportsBefore.includes(target) && next.exportTargets.includes(target)) continue;
          for (const importer of this.#importers.get(target)) this.#dirty.imports.add(importer);
        }
      }
      if (!before || !sameList(before.importTargets, next.importTargets)) this.#dirty.imports.add(uuid);
      if (messageChanged) {
        this.#hostsOfCarriers.add(next.name);
        this.#delta.instances.add(next.name);
      }
      if (before && before.vni !== next.vni) {
        for (const carrier of this.state.carriers.get(next.name) ?? NONE) this.#delta.routeContexts.set(carrier, 'vni');
      }
      if (!before || interfaceFacts(before) !== interfaceFacts(next)) {
        for (const vmi of this.#interfacesOfNetwork.get(uuid)) this.#dirty.interfaces.add(vmi);
      }
    }
    this.#dirty.instances.clear();
  }

  #removeInstance(instance: CompiledRoutingInstance): void {
    // Its hosts hear of it through its interfaces, which go with it; the hosts of the instances
    // that imported it, through their imports, which change.
    const { name, networkUuid } = instance;
    this.#instances.delete(networkUuid);
    this.state.routingInstances.delete(name);
    this.state.carriers.delete(name);
    for (const imported of instance.imports) this.state.carriers.get(imported)?.delete(name);
    this.#exporters.move(networkUuid, instance.exportTargets, []);
    for (const target of instance.exportTargets) {
      for (const importer of this.#importers.get(target)) this.#dirty.imports.add(importer);
    }
    this.#importers.move(networkUuid, this.#importTargets.get(networkUuid) ?? NONE, []);
    this.#importTargets.delete(networkUuid);
    for (const vmi of this.#interfacesOfNetwork.get(networkUuid)) this.#dirty.interfaces.add(vmi);
    this.#delta.instances.add(name);
  }

  #compileImports(): void {
    const exportersOf = (target: string) =>
      [...this.#exporters.get(target)].map((uuid) => this.#instances.get(uuid)!).filter(Boolean);
    for (const uuid of this.#dirty.imports) {
      const instance = this.#instances.get(uuid);
      if (!instance) continue;
      const peers = [...this.#connections.peers(uuid)]
        .map((peer) => this.#instances.get(peer))
        .filter((peer) => peer !== undefined);
      const { targets, imports } = importedInstances(instance, peers, exportersOf);
      this.#importers.move(uuid, this.#importTargets.get(uuid) ?? NONE, targets);
      this.#importTargets.set(uuid, targets);
      if (sameList(instance.imports, imports)) continue;
      const { name } = instance;
      for (const imported of instance.imports)
        if (!imports.includes(imported)) this.state.carriers.get(imported)?.delete(name);
      for (const imported of imports) this.state.carriers.get(imported)?.add(name);
      const next = { ...instance, imports };
      this.#instances.set(uuid, next);
      this.state.routingInstances.set(name, next);
      if (!this.#delta.routeContexts.has(name)) this.#delta.routeContexts.set(name, 'imports');
      this.#hostsOfInstances.add(name);
      this.#delta.instances.add(name);
    }
    this.#dirty.imports.clear();
  }

  #compileInterfaces(): void {
    const orders = new Map<string, Map<string, number>>();
    const orderIn = (pod: string) => {
      let order = orders.get(pod);
      if (!order) {
        const siblings = [...this.#interfacesOfPod.get(pod)]
          .map((uuid) => this.store.get('virtual-machine-interface', uuid))
          .filter((vmi) => vmi !== undefined);
        order = podOrder(siblings);
        orders.set(pod, order);
      }
      return order;
    };
    for (const uuid of this.#dirty.interfaces) {
      const before = this.state.interfaces.get(uuid);
      const next = this.#compileInterface(uuid, orderIn);
      if (!before && !next) continue;
      if (before && next && sameInterface(before, next)) continue;
      this.#replaceInterface(uuid, before, next);
    }
    this.#dirty.interfaces.clear();
  }

  #compileInterface(uuid: string, orderIn: (pod: string) => Map<string, number>): CompiledInterface | undefined {
    const vmi = this.store.get('virtual-machine-interface', uuid);
    if (!vmi) return undefined;
    const network = firstRefUuid(vmi.body.virtual_network_refs);
    const instance = network ? this.#instances.get(network) : undefined;
    if (!instance) return undefined;
    const pod = podOf(vmi);
    const instanceIps: StoredObject<'instance-ip'>[] = [];
    for (const instanceIp of this.#instanceIpsOfInterface.get(uuid)) {
      const stored = this.store.get('instance-ip', instanceIp);
      if (stored) instanceIps.push(stored);
    }
    return compileInterface({
      vmi,
      instance,
      vm: pod ? this.store.get('virtual-machine', pod) : undefined,
      order: pod ? (orderIn(pod).get(uuid) ?? 0) : 0,
      instanceIps,
      floatingIps: [...this.#floatingIpsOfInterface.get(uuid)]
        .map((fip) => this.store.get('floating-ip', fip))
        .filter((fip) => fip !== undefined),
      groups: refUuids(vmi.body.security_group_refs)
        .map((group) => this.store.get('security-group', group))
        .filter((group) => group !== undefined),
      lookup: this.#lookup,
    });
  }

  #replaceInterface(uuid: string, before: CompiledInterface | undefined, next: CompiledInterface | undefined): void {
    const delta = this.#delta;
    if (before) {
      this.state.interfaces.delete(uuid);
      if (before.acl) this.state.acls.delete(before.acl.name!);
      if (before.host) {
        if (this.#hosts.remove(before.host, uuid, before.routingInstance)) delta.instances.add(before.routingInstance);
        delta.hosts.add(before.host);
      }
    }
    if (next) {
      this.state.interfaces.set(uuid, next);
      if (next.acl) this.state.acls.set(next.acl.name!, next.acl);
      if (next.host) {
        if (this.#hosts.add(next.host, uuid, next.routingInstance)) delta.instances.add(next.routingInstance);
        delta.hosts.add(next.host);
      }
    }
    if (before?.routingInstance !== next?.routingInstance) {
      const first = delta.moved.get(uuid)?.before ?? before?.routingInstance;
      delta.moved.set(uuid, { before: first, after: next?.routingInstance });
    }
    if (
      before?.routingInstance !== next?.routingInstance ||
      before?.host !== next?.host ||
      before?.message.addresses?.join() !== next?.message.addresses?.join()
    ) {
      delta.rerouted.add(uuid);
    }
  }
}
