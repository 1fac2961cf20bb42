// Virtual networks → routing instances: a VRF id (see vrf-ids.ts), the VNI of
// virtual_network_properties.vxlan_network_identifier, route targets, the network's ACL and MTU,
// and which other instances' routes each one imports.
//
// Importing follows route targets, as in Tungsten Fabric: every instance exports and imports its
// own automatic target plus the configured ones (route_target_list both ways,
// import_/export_route_target_list one way); a pass policy between two networks adds each one's
// automatic target to the other's imports. Instance X imports Y when X imports a target Y exports.
import type { AccessControlList } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { RoutingInstance } from '@weft/proto/gen/weft/control/v1/RoutingInstance.js';
import type { StoredObject } from '../config-feed/store.js';
import { type IpamSubnet, property, refs, routingInstanceName } from './vnc.js';
import type { VrfIdAllocator } from './vrf-ids.js';

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
}

export interface RoutingInstanceInput {
  networks: readonly StoredObject[];
  vrfIds: VrfIdAllocator;
  acls: ReadonlyMap<string, AccessControlList>;
  connections: ReadonlyMap<string, ReadonlySet<string>>;
}

function targets(network: StoredObject, field: string): string[] {
  return property<string[]>(network.body, field, 'route_target') ?? [];
}

function subnetsOf(network: StoredObject): NetworkSubnet[] {
  return refs(network.body, 'network_ipam_refs').flatMap((ref) =>
    ((ref.attr?.ipam_subnets ?? []) as IpamSubnet[])
      .filter((entry) => entry.subnet)
      .map((entry) => ({
        prefix: entry.subnet!.ip_prefix,
        prefixLength: entry.subnet!.ip_prefix_len,
        gateway: entry.default_gateway,
        dnsServer: entry.dns_server_address,
      })),
  );
}

/** Routing instances by network uuid. */
export function compileRoutingInstances(input: RoutingInstanceInput): Map<string, CompiledRoutingInstance> {
  const byNetwork = new Map<string, CompiledRoutingInstance>();
  const automatic = new Map<string, string>();
  const exportsOf = new Map<string, Set<string>>();
  const importsOf = new Map<string, Set<string>>();

  for (const network of input.networks) {
    const networkId = property<number>(network.body, 'virtual_network_network_id');
    const vrfId = input.vrfIds.idOf(network.uuid, networkId);
    const vni =
      property<number>(network.body, 'virtual_network_properties', 'vxlan_network_identifier') ??
      networkId ??
      vrfId & 0xffffff;
    const own = `target:${AUTONOMOUS_SYSTEM}:${8_000_000 + vrfId}`;
    automatic.set(network.uuid, own);
    const both = targets(network, 'route_target_list');
    exportsOf.set(network.uuid, new Set([own, ...both, ...targets(network, 'export_route_target_list')]));
    importsOf.set(network.uuid, new Set([own, ...both, ...targets(network, 'import_route_target_list')]));
    const name = routingInstanceName(network.fqName);
    const mtu = property<number>(network.body, 'virtual_network_properties', 'mtu') ?? 0;
    byNetwork.set(network.uuid, {
      name,
      networkUuid: network.uuid,
      vni,
      imports: [],
      subnets: subnetsOf(network),
      mtu,
      message: {
        name,
        virtual_network_uuid: network.uuid,
        vrf_id: vrfId,
        vni,
        route_targets: [...exportsOf.get(network.uuid)!].sort(),
        acl_name: input.acls.get(network.uuid)?.name ?? '',
        mtu,
      },
    });
  }

  for (const [networkUuid, peers] of input.connections) {
    const imports = importsOf.get(networkUuid);
    if (!imports) continue;
    for (const peer of peers) {
      const target = automatic.get(peer);
      if (target) imports.add(target);
    }
  }

  const exporters = new Map<string, string[]>();
  for (const [networkUuid, exported] of exportsOf) {
    for (const target of exported) {
      if (!exporters.has(target)) exporters.set(target, []);
      exporters.get(target)!.push(networkUuid);
    }
  }
  for (const [networkUuid, instance] of byNetwork) {
    const imported = new Set<string>();
    for (const target of importsOf.get(networkUuid) ?? []) {
      for (const exporter of exporters.get(target) ?? []) {
        if (exporter !== networkUuid) imported.add(byNetwork.get(exporter)!.name);
      }
    }
    instance.imports = [...imported].sort();
  }
  return byNetwork;
}
