// Loadbalancers → the services of each routing instance (RoutingInstance.services), balanced by
// the datapath of every host with a port in the network (the agent's weft_svc4_v1).
//
// Tungsten Fabric's LBaaS v2 shape, as its kube-manager writes it for a Kubernetes Service: a
// loadbalancer holds the virtual IP (loadbalancer_properties.vip_address) and refers to the port
// that holds it, whose network is the one the service is balanced in; a listener per
// (protocol, port) refers to the loadbalancer; a pool refers to the listener; the pool's
// loadbalancer-member children are the backends (address and protocol_port). What is not
// administratively up (loadbalancer, listener, pool or member with admin_state false) is not
// balanced: a member that is down is not a backend, a listener that is down is no service.
// IPv4 TCP and UDP only (the datapath's reach); the rest compiles to nothing.
import { isIPv4 } from 'node:net';
import type { Service } from '@weft/proto/gen/weft/control/v1/Service.js';
import type { ServiceBackend } from '@weft/proto/gen/weft/control/v1/ServiceBackend.js';
import type { ConfigStore } from '../config-feed/store.js';
import { firstRefUuid, refUuids } from './vnc.js';

const PROTOCOLS: Record<string, string> = { TCP: 'tcp', UDP: 'udp' };

const up = (adminState: boolean | undefined) => adminState !== false;

/** The services of every network that has any, by network uuid, each list sorted. */
export function servicesByNetwork(store: ConfigStore): Map<string, Service[]> {
  const membersOfPool = new Map<string, ServiceBackend[]>();
  for (const member of store.all('loadbalancer-member')) {
    const pool = member.body.parent_uuid;
    const properties = member.body.loadbalancer_member_properties;
    if (!pool || !properties || !up(properties.admin_state)) continue;
    const { address, protocol_port: port } = properties;
    if (!address || !isIPv4(address) || !port) continue;
    if (!membersOfPool.has(pool)) membersOfPool.set(pool, []);
    membersOfPool.get(pool)!.push({ address, port });
  }
  const poolsOfListener = new Map<string, string[]>();
  for (const pool of store.all('loadbalancer-pool')) {
    if (!up(pool.body.loadbalancer_pool_properties?.admin_state)) continue;
    for (const listener of refUuids(pool.body.loadbalancer_listener_refs)) {
      if (!poolsOfListener.has(listener)) poolsOfListener.set(listener, []);
      poolsOfListener.get(listener)!.push(pool.uuid);
    }
  }
  const byNetwork = new Map<string, Map<string, Service>>();
  for (const listener of store.all('loadbalancer-listener')) {
    const properties = listener.body.loadbalancer_listener_properties;
    const protocol = PROTOCOLS[properties?.protocol ?? ''];
    const port = properties?.protocol_port;
    if (!properties || !up(properties.admin_state) || !protocol || !port) continue;
    const lbUuid = firstRefUuid(listener.body.loadbalancer_refs);
    const lb = lbUuid === undefined ? undefined : store.get('loadbalancer', lbUuid);
    const address = lb?.body.loadbalancer_properties?.vip_address;
    if (!lb || !address || !isIPv4(address) || !up(lb.body.loadbalancer_properties?.admin_state)) continue;
    const vipPort = firstRefUuid(lb.body.virtual_machine_interface_refs);
    const vmi = vipPort === undefined ? undefined : store.get('virtual-machine-interface', vipPort);
    const network = firstRefUuid(vmi?.body.virtual_network_refs);
    if (network === undefined) continue;
    const backends = new Map<string, ServiceBackend>();
    for (const pool of poolsOfListener.get(listener.uuid) ?? []) {
      for (const backend of membersOfPool.get(pool) ?? []) backends.set(`${backend.address} ${backend.port}`, backend);
    }
    if (!byNetwork.has(network)) byNetwork.set(network, new Map());
    // Two listeners of one (address, port, protocol) in a network: their backends are one set.
    const key = `${address} ${port} ${protocol}`;
    const same = byNetwork.get(network)!.get(key);
    for (const backend of same?.backends ?? []) backends.set(`${backend.address} ${backend.port}`, backend);
    byNetwork.get(network)!.set(key, {
      address,
      port,
      protocol,
      backends: [...backends.values()].sort(compareBackends),
    });
  }
  return new Map([...byNetwork].map(([network, services]) => [network, [...services.values()].sort(compareServices)]));
}

function compareAddresses(a: string, b: string): number {
  const number = (address: string) => address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
  return number(a) - number(b);
}

function compareBackends(a: ServiceBackend, b: ServiceBackend): number {
  return compareAddresses(a.address!, b.address!) || a.port! - b.port!;
}

function compareServices(a: Service, b: Service): number {
  return compareAddresses(a.address!, b.address!) || a.port! - b.port! || a.protocol!.localeCompare(b.protocol!);
}
