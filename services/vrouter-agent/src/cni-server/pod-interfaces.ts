// Turns the host's config for one pod into what the CNI plugin needs per interface: addresses
// with their gateways, routes, DNS and an MTU that leaves room for the tunnel header.
import type { PodInterface } from '@weft/proto/gen/weft/agent/v1/PodInterface.js';
import type { HostView } from '../host-state/host-state.js';
import type { Interface } from '../host-state/snapshot.js';

/** Outer Ethernet (14) + IPv4 (20) + UDP (8) + VXLAN (8) headers that encapsulation adds. */
export const VXLAN_OVERHEAD = 50;

function gatewayFor(address: string, gateways: string[]): string {
  const ipv6 = address.includes(':');
  return gateways.find((gateway) => gateway.includes(':') === ipv6) ?? '';
}

/** Whether `item` sits on the network the caller names (fq_name, or its last part). */
export function onNetwork(item: Interface, network: string): boolean {
  const instance = item.routing_instance;
  return instance === network || instance.startsWith(`${network}:`) || instance.split(':').includes(network);
}

export function toPodInterface(item: Interface, isDefault: boolean, view: HostView, underlayMtu: number): PodInterface {
  const instance = view.routingInstances.get(item.routing_instance);
  const networkMtu = instance?.mtu || underlayMtu;
  const addresses = item.addresses.map((cidr) => ({ cidr, gateway: gatewayFor(cidr, item.gateways) }));
  // The default network carries the pod's default routes; the others reach their subnets only.
  const routes = isDefault
    ? item.gateways.map((gateway) => ({ destination: gateway.includes(':') ? '::/0' : '0.0.0.0/0', gateway }))
    : [];
  return {
    interface_uuid: item.uuid,
    network: item.routing_instance,
    mac: item.mac,
    addresses,
    routes,
    dns_servers: item.dns_servers,
    mtu: item.mtu || networkMtu - VXLAN_OVERHEAD,
    name: item.name,
    is_default: isDefault,
  };
}
