// The whole config compiled at once, from nothing: the same small compilers as the graph, fed
// every object in one pass with indexes built for the occasion, and no dirty marks. It is the
// check of the incremental graph (the property test compares the two after every change), and
// reads like the definition of what the graph must keep up to date.
import type { ConfigStore, StoredObject } from '../config-feed/store.js';
import { Connections } from './connections.js';
import { HostIndex } from './host-index.js';
import { compileInterface, floatingIpPort, podOf, podOrder } from './interfaces.js';
import { attachedNetworks, routerPairs } from './logical-routers.js';
import { compileNetworkAcl, type NetworkAclLookup } from './network-policies.js';
import { ReverseIndex } from './reverse-index.js';
import { type CompiledRoutingInstance, compileRoutingInstance, importedInstances } from './routing-instances.js';
import { memberPrefixes } from './security-groups.js';
import { servicesByNetwork } from './services.js';
import { type CompiledState, emptyState } from './state.js';
import { firstRefUuid, fqString, refUuids, routingInstanceName } from './vnc.js';

/** The VRF id of a network (the graph's allocator, so that both give the same ids). */
export type VrfIdOf = (networkUuid: string, networkId: number | undefined) => number;

export function compileFromScratch(store: ConfigStore, vrfIdOf: VrfIdOf): CompiledState {
  const state = emptyState();
  const networks = [...store.all('virtual-network')];
  const interfaces = [...store.all('virtual-machine-interface')];
  const networkByFq = new Map(networks.map((network) => [fqString(network.fqName), network.uuid]));
  const groupByFq = new Map([...store.all('security-group')].map((group) => [fqString(group.fqName), group.uuid]));

  const instanceIpsOf = new Map<string, StoredObject<'instance-ip'>[]>();
  for (const instanceIp of store.all('instance-ip')) {
    for (const vmi of new Set(refUuids(instanceIp.body.virtual_machine_interface_refs))) {
      if (!instanceIpsOf.has(vmi)) instanceIpsOf.set(vmi, []);
      instanceIpsOf.get(vmi)!.push(instanceIp);
    }
  }

  const floatingIpsOf = new Map<string, StoredObject<'floating-ip'>[]>();
  for (const fip of store.all('floating-ip')) {
    const vmi = floatingIpPort(fip);
    if (vmi === undefined) continue;
    if (!floatingIpsOf.has(vmi)) floatingIpsOf.set(vmi, []);
    floatingIpsOf.get(vmi)!.push(fip);
  }

  const memberAddresses = new Map<string, string[]>();
  for (const vmi of interfaces) {
    for (const group of new Set(refUuids(vmi.body.security_group_refs))) {
      if (!memberAddresses.has(group)) memberAddresses.set(group, []);
      for (const instanceIp of instanceIpsOf.get(vmi.uuid) ?? []) {
        if (instanceIp.body.instance_ip_address) memberAddresses.get(group)!.push(instanceIp.body.instance_ip_address);
      }
    }
  }
  const members = new Map([...memberAddresses].map(([group, addresses]) => [group, memberPrefixes(addresses)]));

  const connections = new Connections();
  const routersOf = new ReverseIndex();
  const routerNetworks = new Map<string, Set<string>>();
  const networkOf = (vmi: string) => {
    const network = firstRefUuid(store.get('virtual-machine-interface', vmi)?.body.virtual_network_refs);
    return network && store.get('virtual-network', network) ? network : undefined;
  };
  for (const router of store.all('logical-router')) {
    const attached = attachedNetworks(router, networkOf);
    routerNetworks.set(router.uuid, attached);
    for (const network of attached) routersOf.add(network, router.uuid);
    connections.set(`router ${router.uuid}`, routerPairs(attached));
  }

  const lookup: NetworkAclLookup = {
    policy: (uuid) => store.get('network-policy', uuid),
    networkByFqName: (fqName) => networkByFq.get(fqName),
    networkExists: (fqName) => networkByFq.has(fqName),
    groupMembers: (fqName) => {
      const group = groupByFq.get(fqName);
      return group === undefined ? undefined : (members.get(group) ?? []);
    },
    routerPeers: (networkUuid) => {
      const peers = new Set<string>();
      for (const router of routersOf.get(networkUuid)) {
        for (const peer of routerNetworks.get(router)!) {
          if (peer !== networkUuid) peers.add(routingInstanceName(store.get('virtual-network', peer)!.fqName));
        }
      }
      return [...peers].sort();
    },
  };

  const aclNames = new Map<string, string>();
  const services = servicesByNetwork(store);
  for (const network of networks) {
    const compiled = compileNetworkAcl(network, lookup);
    if (!compiled) continue;
    state.acls.set(compiled.acl.name!, compiled.acl);
    aclNames.set(network.uuid, compiled.acl.name!);
    connections.set(`policy ${network.uuid}`, compiled.connections);
  }

  const instances = new Map<string, CompiledRoutingInstance>();
  const exporters = new ReverseIndex();
  for (const network of networks) {
    const vrfId = vrfIdOf(network.uuid, network.body.virtual_network_network_id);
    const instance = compileRoutingInstance(
      network,
      vrfId,
      aclNames.get(network.uuid) ?? '',
      services.get(network.uuid),
    );
    instances.set(network.uuid, instance);
    for (const target of instance.exportTargets) exporters.add(target, network.uuid);
  }
  for (const instance of instances.values()) {
    const peers = [...connections.peers(instance.networkUuid)].map((peer) => instances.get(peer)!);
    instance.imports = importedInstances(instance, peers, (target) =>
      [...exporters.get(target)].map((uuid) => instances.get(uuid)!),
    ).imports;
    state.routingInstances.set(instance.name, instance);
    state.carriers.set(instance.name, new Set([instance.name]));
  }
  for (const instance of instances.values()) {
    for (const imported of instance.imports) state.carriers.get(imported)!.add(instance.name);
  }

  const siblings = new Map<string, StoredObject<'virtual-machine-interface'>[]>();
  for (const vmi of interfaces) {
    const pod = podOf(vmi);
    if (pod === undefined) continue;
    if (!siblings.has(pod)) siblings.set(pod, []);
    siblings.get(pod)!.push(vmi);
  }
  const orders = new Map([...siblings].map(([pod, list]) => [pod, podOrder(list)]));
  const hosts = new HostIndex(state);
  for (const vmi of interfaces) {
    const network = firstRefUuid(vmi.body.virtual_network_refs);
    const instance = network ? instances.get(network) : undefined;
    if (!instance) continue;
    const pod = podOf(vmi);
    const compiled = compileInterface({
      vmi,
      instance,
      vm: pod ? store.get('virtual-machine', pod) : undefined,
      order: pod ? (orders.get(pod)!.get(vmi.uuid) ?? 0) : 0,
      instanceIps: instanceIpsOf.get(vmi.uuid) ?? [],
      floatingIps: floatingIpsOf.get(vmi.uuid) ?? [],
      groups: refUuids(vmi.body.security_group_refs)
        .map((group) => store.get('security-group', group))
        .filter((group) => group !== undefined),
      lookup,
    });
    state.interfaces.set(vmi.uuid, compiled);
    if (compiled.acl) state.acls.set(compiled.acl.name!, compiled.acl);
    if (compiled.host) hosts.add(compiled.host, vmi.uuid, compiled.routingInstance);
  }
  return state;
}
