// GET /datapath: this host's datapath as the kernel holds it, read from the BPF maps (not from
// what the agent meant to write): every interface with its counters and drops by reason, the
// routing instances with their VNI and ACL, every route with its next hop, the floating IPs with
// the port behind each, the services with their backends, and the totals.

import { aclIds } from '../datapath/reconciler.js';
import type { HostView } from '../host-state/host-state.js';
import { DROP_REASON_NAMES, type InterfaceStats, type NextHop } from '../maps/index.js';
import type { PortRecord } from '../ports/port-store.js';
import type { DatapathInspection } from './inspection.js';

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function counters(stats: InterfaceStats | undefined) {
  if (!stats) return undefined;
  return {
    rx_packets: Number(stats.rxPackets),
    rx_bytes: Number(stats.rxBytes),
    tx_local: Number(stats.txLocal),
    tx_tunnel: Number(stats.txTunnel),
    to_host: Number(stats.toHost),
    arp_replies: Number(stats.arpReplies),
    drops: Object.fromEntries(DROP_REASON_NAMES.map((reason) => [snake(reason), Number(stats.drops[reason])])),
  };
}

function nextHop(nh: NextHop) {
  if (nh.kind === 'tunnel')
    return { kind: nh.kind, remote: nh.remoteAddress, vni: nh.vni, mac: nh.mac, vrf_id: nh.vrfId };
  if (nh.kind === 'local') return { kind: nh.kind, ifindex: nh.ifindex, mac: nh.mac, vrf_id: nh.vrfId };
  if (nh.kind === 'outside') return { kind: nh.kind, gateway: nh.gateway, vrf_id: nh.vrfId };
  return { kind: nh.kind, vrf_id: nh.vrfId };
}

export function datapathView(inspection: DatapathInspection, view: HostView, ports: PortRecord[]) {
  const { maps } = inspection.datapath;
  const stats = new Map(maps.stats.entries());
  const byIfindex = new Map([...inspection.bindings].map(([uuid, ifindex]) => [ifindex, uuid]));
  const instanceOfVrf = new Map(
    [...view.routingInstances.values()].map((instance) => [instance.vrf_id, instance.name]),
  );
  const aclNames = new Map([...aclIds(view.acls.keys())].map(([name, id]) => [id, name]));
  const interfaces = maps.interfaces.entries().map(([ifindex, entry]) => {
    const uuid = byIfindex.get(ifindex);
    const port = ports.find((item) => item.interface_uuid === uuid);
    const iface = uuid ? view.interfaces.get(uuid) : undefined;
    return {
      ifindex,
      device: port?.host_ifname ?? '',
      interface_uuid: uuid ?? '',
      pod: iface?.virtual_machine_name ?? '',
      name: iface?.name ?? port?.ifname ?? '',
      addresses: iface?.addresses ?? port?.addresses ?? [],
      mac: entry.mac,
      vrf_id: entry.vrfId,
      routing_instance: instanceOfVrf.get(entry.vrfId) ?? '',
      security_group_acl: entry.portSecurity && entry.aclId ? (aclNames.get(entry.aclId) ?? String(entry.aclId)) : '',
      mtu: entry.mtu,
      counters: counters(stats.get(ifindex)),
    };
  });
  const routes = [
    ...maps.hostRoutes4.entries(),
    ...maps.hostRoutes6.entries(),
    ...maps.prefixRoutes4.entries(),
    ...maps.prefixRoutes6.entries(),
  ].map(([key, nh]) => ({
    vrf_id: key.vrfId,
    routing_instance: instanceOfVrf.get(key.vrfId) ?? '',
    prefix: key.prefix,
    next_hop: nextHop(nh),
  }));
  routes.sort((a, b) => a.routing_instance.localeCompare(b.routing_instance) || a.prefix.localeCompare(b.prefix));
  const vrfs = maps.vrfs.entries().map(([vrfId, entry]) => ({
    vrf_id: vrfId,
    routing_instance: instanceOfVrf.get(vrfId) ?? '',
    vni: entry.vni,
    policy_acl: entry.aclId ? (aclNames.get(entry.aclId) ?? String(entry.aclId)) : '',
  }));
  // Floating IPs (1:1 NAT): the port and address behind each, and whether the port's own
  // connections to the outside leave with it.
  const sources = new Set(maps.floatingSources.entries().map(([, address]) => address));
  const floatingIps = maps.floatingIps.entries().map(([address, entry]) => ({
    address,
    fixed_address: entry.fixedAddress,
    interface_uuid: byIfindex.get(entry.ifindex) ?? '',
    ifindex: entry.ifindex,
    routing_instance: instanceOfVrf.get(entry.vrfId) ?? '',
    source: sources.has(address),
  }));
  floatingIps.sort((a, b) => a.address.localeCompare(b.address));
  // Services (virtual IPs balanced over backends): what new connections choose from now.
  const services = maps.services.entries().map(([key, backends]) => ({
    routing_instance: instanceOfVrf.get(key.vrfId) ?? '',
    address: key.address,
    port: key.port,
    protocol: key.protocol,
    backends: backends.map((backend) => `${backend.address}:${backend.port}`),
  }));
  services.sort((a, b) => `${a.address} ${a.port} ${a.protocol}`.localeCompare(`${b.address} ${b.port} ${b.protocol}`));
  // Every device a program counts on: pod ports, and the underlay or tunnel device.
  const devices = [...stats].map(([ifindex, value]) => ({
    ifindex,
    device:
      ports.find((port) => port.interface_uuid === byIfindex.get(ifindex))?.host_ifname ??
      (ifindex === inspection.underlayIfindex ? 'underlay' : ''),
    counters: counters(value),
  }));
  const drops = Object.fromEntries(DROP_REASON_NAMES.map((reason) => [snake(reason), 0]));
  for (const device of devices)
    for (const [reason, count] of Object.entries(device.counters?.drops ?? {})) drops[reason]! += count;
  return {
    host: inspection.hostName,
    mode: inspection.mode,
    interfaces,
    vrfs,
    routes,
    floating_ips: floatingIps,
    services,
    devices,
    drops,
  };
}
