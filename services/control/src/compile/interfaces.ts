// Virtual-machine-interfaces → the datapath's Interface messages: routing instance of its
// network, MAC, addresses (from the instance-ips that refer to it) with their subnet's prefix
// length, gateways and DNS servers, name and order inside the pod, MTU, and the per-interface
// ACL its security groups compile into (security-groups.ts).
import { BlockList, isIP } from 'node:net';
import type { AccessControlList } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { Interface } from '@weft/proto/gen/weft/control/v1/Interface.js';
import type { StoredObject } from '../config-feed/store.js';
import type { CompiledRoutingInstance, NetworkSubnet } from './routing-instances.js';
import { compileSecurityGroupAcl } from './security-groups.js';
import { firstRefUuid, keyValue, property, refs } from './vnc.js';

/** VXLAN over IPv4 takes 50 bytes of the underlay's MTU. */
export const TUNNEL_OVERHEAD = 50;
export const DEFAULT_MTU = 1500;
/** Annotations on a virtual-machine-interface that name it inside the pod and order it. */
export const INTERFACE_NAME_ANNOTATION = 'weft/interface-name';
export const INTERFACE_ORDER_ANNOTATION = 'weft/interface-order';

export interface CompiledInterface {
  uuid: string;
  /** virtual-router name from bindings host_id; undefined while unbound. */
  host: string | undefined;
  routingInstance: string;
  networkUuid: string;
  message: Interface;
  acl: AccessControlList | undefined;
}

export interface InterfaceInput {
  interfaces: readonly StoredObject[];
  instanceIps: readonly StoredObject[];
  routingInstanceByNetwork: ReadonlyMap<string, CompiledRoutingInstance>;
  network(uuid: string): StoredObject | undefined;
  virtualMachine(uuid: string): StoredObject | undefined;
  securityGroup(uuid: string): StoredObject | undefined;
  networkByFqName(fqName: string): StoredObject | undefined;
  securityGroupIdByFqName(fqName: string): number | undefined;
  /** Changes whenever a security group or network is written: security-group rules name both. */
  referencedGeneration: string;
  /** Interfaces compiled last time, reused when nothing they depend on changed. */
  cache: Map<string, { key: string; value: CompiledInterface }>;
}

interface SubnetMatcher {
  subnet: NetworkSubnet;
  family: 'ipv4' | 'ipv6';
  contains(address: string): boolean;
}

function ipv4ToNumber(address: string): number {
  const [a, b, c, d] = address.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

// IPv4 by integer arithmetic: BlockList makes an object per check, which showed up as a third
// of a 50,000-interface compile.
function matchers(instance: CompiledRoutingInstance): SubnetMatcher[] {
  return instance.subnets.flatMap((subnet): SubnetMatcher[] => {
    const version = isIP(subnet.prefix);
    if (version === 4) {
      const mask = subnet.prefixLength === 0 ? 0 : (~0 << (32 - subnet.prefixLength)) >>> 0;
      const base = (ipv4ToNumber(subnet.prefix) & mask) >>> 0;
      return [{ subnet, family: 'ipv4', contains: (address) => (ipv4ToNumber(address) & mask) >>> 0 === base }];
    }
    if (version === 6) {
      const blocks = new BlockList();
      blocks.addSubnet(subnet.prefix, subnet.prefixLength, 'ipv6');
      return [{ subnet, family: 'ipv6', contains: (address) => blocks.check(address, 'ipv6') }];
    }
    return [];
  });
}

function byPodOrder(a: StoredObject, b: StoredObject): number {
  const order = (object: StoredObject) =>
    Number(keyValue(object.body, 'annotations', INTERFACE_ORDER_ANNOTATION) ?? Number.MAX_SAFE_INTEGER);
  const created = (object: StoredObject) => property<string>(object.body, 'id_perms', 'created') ?? '';
  return order(a) - order(b) || created(a).localeCompare(created(b)) || a.uuid.localeCompare(b.uuid);
}

export function compileInterfaces(input: InterfaceInput): Map<string, CompiledInterface> {
  const instanceIpsOf = new Map<string, StoredObject[]>();
  for (const instanceIp of input.instanceIps) {
    if (!property<string>(instanceIp.body, 'instance_ip_address')) continue;
    for (const ref of refs(instanceIp.body, 'virtual_machine_interface_refs')) {
      if (!instanceIpsOf.has(ref.uuid)) instanceIpsOf.set(ref.uuid, []);
      instanceIpsOf.get(ref.uuid)!.push(instanceIp);
    }
  }

  const podOf = new Map<string, StoredObject[]>();
  for (const vmi of input.interfaces) {
    const vm = firstRefUuid(vmi.body, 'virtual_machine_refs') ?? vmi.body.parent_uuid;
    if (typeof vm !== 'string') continue;
    if (!podOf.has(vm)) podOf.set(vm, []);
    podOf.get(vm)!.push(vmi);
  }
  const orderOf = new Map<string, number>();
  for (const siblings of podOf.values()) {
    siblings.sort(byPodOrder);
    for (const [index, vmi] of siblings.entries()) orderOf.set(vmi.uuid, index);
  }

  const subnetCache = new Map<string, SubnetMatcher[]>();
  const networkKeys = new Map<string, string>();
  const compiled = new Map<string, CompiledInterface>();
  for (const vmi of input.interfaces) {
    const networkUuid = firstRefUuid(vmi.body, 'virtual_network_refs');
    const instance = networkUuid ? input.routingInstanceByNetwork.get(networkUuid) : undefined;
    if (!networkUuid || !instance) continue;
    const vmUuid = firstRefUuid(vmi.body, 'virtual_machine_refs') ?? '';
    const vm = vmUuid ? input.virtualMachine(vmUuid) : undefined;
    const order = orderOf.get(vmi.uuid) ?? 0;
    const network = input.network(networkUuid);
    const instanceIps = instanceIpsOf.get(vmi.uuid) ?? [];
    const groupRefs = refs(vmi.body, 'security_group_refs');

    // Everything the interface is compiled from; the same key gives the same (reused) object,
    // so a change to one interface recompiles one, and sessions diff by identity.
    let networkKey = networkKeys.get(networkUuid);
    if (networkKey === undefined) {
      networkKey = `${instance.name}|${instance.mtu}|${network?.revision}|${JSON.stringify(instance.subnets)}`;
      networkKeys.set(networkUuid, networkKey);
    }
    const key = [
      vmi.revision,
      vm?.revision ?? '',
      order,
      networkKey,
      instanceIps.map((instanceIp) => `${instanceIp.uuid}:${instanceIp.revision}`).join(','),
      groupRefs.length > 0 ? input.referencedGeneration : '',
    ].join('|');
    const cached = input.cache.get(vmi.uuid);
    if (cached?.key === key) {
      compiled.set(vmi.uuid, cached.value);
      continue;
    }

    let subnets = subnetCache.get(networkUuid);
    if (!subnets) {
      subnets = matchers(instance);
      subnetCache.set(networkUuid, subnets);
    }
    const addresses: string[] = [];
    const gateways = new Set<string>();
    const dnsServers = new Set<string>();
    const addressList = instanceIps.map((instanceIp) => property<string>(instanceIp.body, 'instance_ip_address')!);
    for (const address of addressList.sort()) {
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      const match = subnets.find((entry) => entry.family === family && entry.contains(address));
      addresses.push(`${address}/${match?.subnet.prefixLength ?? (family === 'ipv4' ? 32 : 128)}`);
      if (match?.subnet.gateway) gateways.add(match.subnet.gateway);
      if (match?.subnet.dnsServer) dnsServers.add(match.subnet.dnsServer);
    }

    const portSecurity =
      property<boolean>(vmi.body, 'port_security_enabled') ??
      (network ? property<boolean>(network.body, 'port_security_enabled') : undefined) ??
      true;
    const groups = groupRefs
      .map((ref) => input.securityGroup(ref.uuid))
      .filter((group): group is StoredObject => group !== undefined);
    const acl =
      portSecurity && groups.length > 0
        ? compileSecurityGroupAcl({
            name: `${vmi.fqName.join(':')}:security-groups`,
            groups,
            ownAddresses: addresses,
            networkByFqName: input.networkByFqName,
            securityGroupIdByFqName: input.securityGroupIdByFqName,
          })
        : undefined;

    const value: CompiledInterface = {
      uuid: vmi.uuid,
      host: keyValue(vmi.body, 'virtual_machine_interface_bindings', 'host_id') || undefined,
      routingInstance: instance.name,
      networkUuid,
      acl,
      message: {
        uuid: vmi.uuid,
        virtual_machine_uuid: vmUuid,
        virtual_machine_name: vm ? (property<string>(vm.body, 'display_name') ?? vm.fqName.at(-1) ?? '') : '',
        routing_instance: instance.name,
        mac: property<string[]>(vmi.body, 'virtual_machine_interface_mac_addresses', 'mac_address')?.[0] ?? '',
        addresses,
        gateways: [...gateways],
        dns_servers: [...dnsServers],
        name: keyValue(vmi.body, 'annotations', INTERFACE_NAME_ANNOTATION) ?? (order === 0 ? 'eth0' : `net${order}`),
        order,
        mtu:
          property<number>(vmi.body, 'virtual_machine_interface_mtu') ??
          (instance.mtu || DEFAULT_MTU) - TUNNEL_OVERHEAD,
        acl_name: acl?.name ?? '',
        port_security_enabled: portSecurity,
      },
    };
    compiled.set(vmi.uuid, value);
    input.cache.set(vmi.uuid, { key, value });
  }
  for (const uuid of input.cache.keys()) if (!compiled.has(uuid)) input.cache.delete(uuid);
  return compiled;
}
