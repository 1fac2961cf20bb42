// Virtual networks → routing instances: a VRF id (see vrf-ids.ts), the VNI of
// virtual_network_properties.vxlan_network_identifier, route targets, the network's ACL and MTU,
// and which other instances' routes each one imports.
//
// Importing follows route targets, as in Tungsten Fabric: every instance exports and imports its
// own automatic target plus the configured ones (route_target_list both ways,
// import_/export_route_target_list one way); a pass policy or a shared logical router between
// two networks adds each one's automatic target to the other's imports. Instance X imports Y
// when X imports a target Y exports.
import type { RoutingInstance } from '@weft/proto/gen/weft/control/v1/RoutingInstance.js';
import type { Service } from '@weft/proto/gen/weft/control/v1/Service.js';
import type { StoredObject } from '../config-feed/store.js';
import { fqString, routingInstanceName } from './vnc.js';

/** The ASN of the automatic route targets, Tungsten Fabric's default. */
export const AUTONOMOUS_SYSTEM = 64512;

export interface NetworkSubnet {
  prefix: string;
  prefixLength: number;
  gateway?: string;
  dnsServer?: string;
}

export interface CompiledRoutingInstance {
  name: string;
  networkUuid: string;
  vni: number;
  message: RoutingInstance;
  /** Names of the other routing instances whose routes this one carries, sorted. */
  imports: string[];
  subnets: NetworkSubnet[];
  /** MTU configured on the network, 0 when none. */
  mtu: number;
  /** The network's port_security_enabled; interfaces that do not say take it. */
  portSecurity: boolean | undefined;
  /** Its own target, which the instances it is connected to import. */
  automaticTarget: string;
  /** Targets it exports (the message's route_targets) and imports by configuration, sorted. */
  exportTargets: string[];
  importTargets: string[];
}

function subnetsOf(network: StoredObject<'virtual-network'>): NetworkSubnet[] {
  return (network.body.network_ipam_refs ?? []).flatMap((ref) =>
    (ref.attr?.ipam_subnets ?? []).flatMap((entry) =>
      entry.subnet?.ip_prefix !== undefined && entry.subnet.ip_prefix_len !== undefined
        ? [
            {
              prefix: entry.subnet.ip_prefix,
              prefixLength: entry.subnet.ip_prefix_len,
              gateway: entry.default_gateway,
              dnsServer: entry.dns_server_address,
            },
          ]
        : [],
    ),
  );
}

/** The routing instance of a network, without its imports (the graph resolves those). */
export function compileRoutingInstance(
  network: StoredObject<'virtual-network'>,
  vrfId: number,
  aclName: string,
  services: readonly Service[] = [],
): CompiledRoutingInstance {
  const { body } = network;
  const properties = body.virtual_network_properties;
  const vni = properties?.vxlan_network_identifier ?? body.virtual_network_network_id ?? vrfId & 0xffffff;
  const automaticTarget = `target:${AUTONOMOUS_SYSTEM}:${8_000_000 + vrfId}`;
  const both = body.route_target_list?.route_target ?? [];
  const exportTargets = [
    ...new Set([automaticTarget, ...both, ...(body.export_route_target_list?.route_target ?? [])]),
  ].sort();
  const importTargets = [
    ...new Set([automaticTarget, ...both, ...(body.import_route_target_list?.route_target ?? [])]),
  ].sort();
  const name = routingInstanceName(network.fqName);
  const mtu = properties?.mtu ?? 0;
  return {
    name,
    networkUuid: network.uuid,
    vni,
    imports: [],
    subnets: subnetsOf(network),
    mtu,
    portSecurity: body.port_security_enabled,
    automaticTarget,
    exportTargets,
    importTargets,
    message: {
      name,
      virtual_network_uuid: network.uuid,
      virtual_network: fqString(network.fqName),
      vrf_id: vrfId,
      vni,
      route_targets: exportTargets,
      acl_name: aclName,
      mtu,
      router_external: body.router_external === true,
      services: [...services],
    },
  };
}

/**
 * The names of the instances `networkUuid` imports: every other exporter of a target it
 * imports, its configured ones and the automatic targets of the networks it is connected to.
 */
export function importedInstances(
  instance: CompiledRoutingInstance,
  connected: Iterable<CompiledRoutingInstance>,
  exportersOf: (target: string) => Iterable<CompiledRoutingInstance>,
): { targets: Set<string>; imports: string[] } {
  const targets = new Set(instance.importTargets);
  for (const peer of connected) targets.add(peer.automaticTarget);
  const imported = new Set<string>();
  for (const target of targets) {
    for (const exporter of exportersOf(target))
      if (exporter.networkUuid !== instance.networkUuid) imported.add(exporter.name);
  }
  return { targets, imports: [...imported].sort() };
}
