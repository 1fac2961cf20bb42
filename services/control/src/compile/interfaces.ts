// Virtual-machine-interfaces → the datapath's Interface messages: routing instance of its
// network, MAC, addresses (from the instance-ips that refer to it) with their subnet's prefix
// length, gateways and DNS servers, name and order inside the pod, MTU, the per-interface ACL
// its security groups compile into (security-groups.ts), and the floating IPs associated with it
// (1:1 NAT in the datapath of its host).
import { BlockList, isIP } from 'node:net';
import { HOST_BINDING_KEY, INTERFACE_NAME_ANNOTATION, INTERFACE_ORDER_ANNOTATION, keyValueOf } from '@weft/model';
import type { AccessControlList } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { FloatingAddress } from '@weft/proto/gen/weft/control/v1/FloatingAddress.js';
import type { Interface } from '@weft/proto/gen/weft/control/v1/Interface.js';
import type { StoredObject } from '../config-feed/store.js';
import type { CompiledRoutingInstance, NetworkSubnet } from './routing-instances.js';
import { compileSecurityGroupAcl, type NameLookup } from './security-groups.js';
import { firstRefUuid, fqString } from './vnc.js';

/** VXLAN over IPv4 takes 50 bytes of the underlay's MTU. */
export const TUNNEL_OVERHEAD = 50;
export const DEFAULT_MTU = 1500;

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
  vmi: StoredObject<'virtual-machine-interface'>;
  /** The routing instance of its network. */
  instance: CompiledRoutingInstance;
  vm: StoredObject<'virtual-machine'> | undefined;
  /** Its place among the pod's interfaces (podOrder). */
  order: number;
  /** The instance-ips that refer to it. */
  instanceIps: readonly StoredObject<'instance-ip'>[];
  /** The floating-ips associated with it (it is their first interface reference). */
  floatingIps: readonly StoredObject<'floating-ip'>[];
  /** The security groups it refers to that exist, in its reference order. */
  groups: readonly StoredObject<'security-group'>[];
  lookup: NameLookup;
}

/** The pod an interface belongs to: its virtual-machine. */
export function podOf(vmi: StoredObject<'virtual-machine-interface'>): string | undefined {
  const body = vmi.body;
  return (
    firstRefUuid(body.virtual_machine_refs) ?? (body.parent_type === 'virtual-machine' ? body.parent_uuid : undefined)
  );
}

export function hostOf(vmi: StoredObject<'virtual-machine-interface'>): string | undefined {
  return keyValueOf(vmi.body.virtual_machine_interface_bindings, HOST_BINDING_KEY) || undefined;
}

/** The addresses of an interface from its instance-ips, sorted. */
export function addressesOf(instanceIps: readonly StoredObject<'instance-ip'>[]): string[] {
  const addresses: string[] = [];
  for (const instanceIp of instanceIps) {
    const address = instanceIp.body.instance_ip_address;
    if (address) addresses.push(address);
  }
  return addresses.sort();
}

/** The interface a floating-ip is associated with: a 1:1 NAT maps it to one port, the first it refers to. */
export function floatingIpPort(fip: StoredObject<'floating-ip'> | undefined): string | undefined {
  return fip && firstRefUuid(fip.body.virtual_machine_interface_refs);
}

/**
 * The floating addresses of an interface, the oldest first, each with the interface's own
 * address it maps to: floating_ip_fixed_ip_address when that is one of them, else the first of
 * the floating address's family. One without an own address of its family maps to nothing.
 */
export function floatingAddressesOf(
  floatingIps: readonly StoredObject<'floating-ip'>[],
  addresses: readonly string[],
): FloatingAddress[] {
  const own = addresses.map((cidr) => cidr.split('/')[0]!);
  const sorted = [...floatingIps].sort(
    (a, b) =>
      (a.body.id_perms?.created ?? '').localeCompare(b.body.id_perms?.created ?? '') || a.uuid.localeCompare(b.uuid),
  );
  return sorted.flatMap((fip) => {
    const address = fip.body.floating_ip_address;
    if (!address) return [];
    const wanted = fip.body.floating_ip_fixed_ip_address;
    const fixed = wanted && own.includes(wanted) ? wanted : own.find((candidate) => isIP(candidate) === isIP(address));
    return fixed ? [{ address, fixed_address: fixed }] : [];
  });
}

/** The order of a pod's interfaces: annotation weft/interface-order, then creation, then uuid. */
export function podOrder(siblings: readonly StoredObject<'virtual-machine-interface'>[]): Map<string, number> {
  const keyed = siblings.map((vmi) => ({
    uuid: vmi.uuid,
    order: Number(keyValueOf(vmi.body.annotations, INTERFACE_ORDER_ANNOTATION) ?? Number.MAX_SAFE_INTEGER),
    created: vmi.body.id_perms?.created ?? '',
  }));
  keyed.sort((a, b) => a.order - b.order || a.created.localeCompare(b.created) || a.uuid.localeCompare(b.uuid));
  return new Map(keyed.map((entry, index) => [entry.uuid, index]));
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
// of a 50,000-interface compile. Built once per compiled routing instance.
const matcherCache = new WeakMap<CompiledRoutingInstance, SubnetMatcher[]>();
function matchers(instance: CompiledRoutingInstance): SubnetMatcher[] {
  let cached = matcherCache.get(instance);
  if (cached) return cached;
  cached = instance.subnets.flatMap((subnet): SubnetMatcher[] => {
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
  matcherCache.set(instance, cached);
  return cached;
}

export function compileInterface(input: InterfaceInput): CompiledInterface {
  const { vmi, instance, vm, order } = input;
  const body = vmi.body;
  const subnets = matchers(instance);
  const addresses: string[] = [];
  const gateways = new Set<string>();
  const dnsServers = new Set<string>();
  for (const address of addressesOf(input.instanceIps)) {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    const match = subnets.find((entry) => entry.family === family && entry.contains(address));
    addresses.push(`${address}/${match?.subnet.prefixLength ?? (family === 'ipv4' ? 32 : 128)}`);
    if (match?.subnet.gateway) gateways.add(match.subnet.gateway);
    if (match?.subnet.dnsServer) dnsServers.add(match.subnet.dnsServer);
  }

  const portSecurity = body.port_security_enabled ?? instance.portSecurity ?? true;
  const acl =
    portSecurity && input.groups.length > 0
      ? compileSecurityGroupAcl(`${fqString(vmi.fqName)}:security-groups`, input.groups, addresses, input.lookup)
      : undefined;

  return {
    uuid: vmi.uuid,
    host: hostOf(vmi),
    routingInstance: instance.name,
    networkUuid: instance.networkUuid,
    acl,
    message: {
      uuid: vmi.uuid,
      virtual_machine_uuid: podOf(vmi) ?? '',
      virtual_machine_name: vm ? (vm.body.display_name ?? vm.fqName.at(-1) ?? '') : '',
      routing_instance: instance.name,
      mac: body.virtual_machine_interface_mac_addresses?.mac_address?.[0] ?? '',
      addresses,
      gateways: [...gateways],
      dns_servers: [...dnsServers],
      name: keyValueOf(body.annotations, INTERFACE_NAME_ANNOTATION) ?? (order === 0 ? 'eth0' : `net${order}`),
      order,
      mtu: body.virtual_machine_interface_mtu ?? (instance.mtu || DEFAULT_MTU) - TUNNEL_OVERHEAD,
      acl_name: acl?.name ?? '',
      port_security_enabled: portSecurity,
      floating_addresses: floatingAddressesOf(input.floatingIps, addresses),
    },
  };
}
