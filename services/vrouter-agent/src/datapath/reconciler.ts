// Converges the datapath maps on the desired state that control sends (felix style): the state
// is handed over whole (replaceDesired, replaceBindings), then reconcile() compiles the whole
// desired state to map entries, compares them with what the kernel holds, and writes only the
// difference, in batches. Nothing is deleted before the first full sync with control
// (markSynced): a restarted agent keeps forwarding on the maps it adopted, and sweeps only what
// is no longer true once it knows everything that is (mark and sweep).
//
//   control messages ──► in-memory desired state ──► compile ──► desired entries per map
//                                                                      │ diff with the kernel
//   ACLs → VRFs, VNIs, config, peers → interfaces, tx ports, counters → floating IPs, services → routes
//   routes → floating IPs, services → counters, tx ports, interfaces → peers, VNIs, VRFs → ACLs
//   (writes on the first line, sweeps on the second, in this order)

import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { WeftError } from '@weft/kit';
import type { AccessControlList__Output } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { Interface__Output } from '@weft/proto/gen/weft/control/v1/Interface.js';
import type { NextHop__Output } from '@weft/proto/gen/weft/control/v1/NextHop.js';
import type { RoutingInstance__Output } from '@weft/proto/gen/weft/control/v1/RoutingInstance.js';
import { parsePrefix } from '../maps/codec.js';
import type { DatapathConfig } from '../maps/config.js';
import { VXLAN_PORT } from '../maps/constants.js';
import type { FloatingIp } from '../maps/floating-ips.js';
import type { PortAddress } from '../maps/floating-sources.js';
import type { NextHop } from '../maps/next-hop.js';
import type { L4Address, ServiceKey } from '../maps/services.js';
import { emptyStats } from '../maps/stats.js';
import type { VrfEntry } from '../maps/vrfs.js';
import { type CompileContext, compileAcl, compileNextHop } from './compile.js';
import type { Datapath } from './datapath.js';
import type { BpfMap } from './map.js';

export interface HostSettings {
  routerMac: string;
  underlay: { ifindex: number; address: string; mac: string; mtu: number };
  sampleRate: number;
  /**
   * The device tunnel next hops leave through: the underlay device itself when the XDP
   * program encapsulates (the default), the host's VXLAN device when the kernel does (TC mode).
   */
  tunnelIfindex?: number;
  /** The UDP port VXLAN arrives on (4789 unless the host's tunnel device uses another). */
  tunnelPort?: number;
}

export interface ReconcilerOptions {
  /** MAC of the underlay next hop towards a remote host (the neighbour table), once known. */
  underlayMacOf(address: string): string | undefined;
}

export interface ReconcileReport {
  written: number;
  deleted: number;
  conntrackFlushed: boolean;
  /** Inputs that could not be programmed, each naming its field; the rest was applied. */
  errors: Array<{ field: string; reason: string }>;
}

/** Desired entries of one map, by the hex of the encoded key. */
type Entries = Map<string, readonly [Buffer, Buffer]>;

/** What converging needs of a map, whatever its key and value types. */
type Convergeable = Pick<BpfMap<unknown, unknown>, 'snapshot' | 'updateEncoded' | 'deleteEncoded'>;

/** ACL names become stable 32-bit ids: a hash, probed past collisions in name order. */
export function aclIds(names: Iterable<string>): Map<string, number> {
  const ids = new Map<string, number>();
  const used = new Set<number>();
  for (const name of [...names].sort()) {
    let id = (createHash('sha256').update(name).digest().readUInt32BE(0) % 0xfffffffe) + 1;
    while (used.has(id)) id = (id % 0xfffffffe) + 1;
    used.add(id);
    ids.set(name, id);
  }
  return ids;
}

/** What control wants on this host: routing instances, interfaces, ACLs, routes per instance. */
export interface DesiredState {
  routingInstances: ReadonlyMap<string, RoutingInstance__Output>;
  interfaces: ReadonlyMap<string, Interface__Output>;
  acls: ReadonlyMap<string, AccessControlList__Output>;
  routes: ReadonlyMap<string, ReadonlyMap<string, NextHop__Output | null>>;
}

export class DatapathReconciler {
  private desired: DesiredState = {
    routingInstances: new Map(),
    interfaces: new Map(),
    acls: new Map(),
    routes: new Map(),
  };
  private readonly bound = new Map<string, number>();
  private synced = false;
  private policyDigest: string | undefined;

  constructor(
    private readonly datapath: Datapath,
    private readonly host: HostSettings,
    private readonly options: ReconcilerOptions,
  ) {}

  /**
   * The desired state to converge on: a complete view of what control sent (the agent's
   * HostState, or a HostSnapshot in tests), held as given, not copied.
   */
  replaceDesired(view: DesiredState): void {
    this.desired = view;
  }

  /** Replaces the set of attached interfaces: interface uuid → ifindex of its host end. */
  replaceBindings(bindings: ReadonlyMap<string, number>): void {
    this.bound.clear();
    for (const [uuid, ifindex] of bindings) this.bound.set(uuid, ifindex);
  }

  /** Every tunnel endpoint the routes point at: the underlay neighbours to resolve. */
  tunnelEndpoints(): Set<string> {
    const endpoints = new Set<string>();
    for (const table of this.desired.routes.values()) {
      for (const nh of table.values())
        if (nh?.kind === 'tunnel' && nh.tunnel) endpoints.add(nh.tunnel.underlay_address);
    }
    return endpoints;
  }

  /** A pod interface's host end is attached to the datapath (by the CNI flow). */
  bindInterface(uuid: string, ifindex: number): void {
    this.bound.set(uuid, ifindex);
  }

  unbindInterface(uuid: string): void {
    this.bound.delete(uuid);
  }

  /** Control has sent everything (EndOfConfig and EndOfRoutes): sweeping is safe from now on. */
  markSynced(): void {
    this.synced = true;
  }

  get isSynced(): boolean {
    return this.synced;
  }

  /** Compiles the desired state and converges every map on it; returns what changed. */
  reconcile(): ReconcileReport {
    const report: ReconcileReport = { written: 0, deleted: 0, conntrackFlushed: false, errors: [] };
    const attempt = <T>(fn: () => T): T | undefined => {
      try {
        return fn();
      } catch (error) {
        if (!(error instanceof WeftError) || error.code !== 'INVALID_FIELD') throw error;
        report.errors.push({ field: String(error.details.field ?? ''), reason: error.message });
        return undefined;
      }
    };
    const m = this.datapath.maps;
    const aclIdOf = aclIds(this.desired.acls.keys());
    const aclId = (name: string) => (name ? (aclIdOf.get(name) ?? 0) : 0);
    const vrfOf = (name: string) => {
      const ri = this.desired.routingInstances.get(name);
      return ri?.vrf_id ? ri.vrf_id : undefined;
    };
    const ctx: CompileContext = {
      vrfOf,
      vrfOfVni: (vni) => [...this.desired.routingInstances.values()].find((ri) => ri.vni === vni)?.vrf_id,
      localInterface: (uuid) => {
        const ifindex = this.bound.get(uuid);
        const iface = this.desired.interfaces.get(uuid);
        const vrfId = iface && vrfOf(iface.routing_instance);
        return ifindex && iface && vrfId ? { ifindex, mac: iface.mac, vrfId } : undefined;
      },
      underlayIfindex: this.host.tunnelIfindex ?? this.host.underlay.ifindex,
      underlayMacOf: (address) => this.options.underlayMacOf(address),
    };
    const desired = <K, V>(map: BpfMap<K, V>, entries: Iterable<readonly [K, V]>, field: string): Entries => {
      const out: Entries = new Map();
      for (const [key, value] of entries) {
        const encoded = attempt(() => [map.spec.encodeKey(key), map.spec.encodeValue(value)] as const);
        if (encoded) out.set(encoded[0].toString('hex'), encoded);
        else report.errors.at(-1)!.field ||= field;
      }
      return out;
    };

    const acls = desired(
      m.acls,
      [...this.desired.acls.values()].flatMap((acl) => {
        const entry = attempt(() => compileAcl(acl, ctx));
        // An ACL that cannot be compiled stays absent; what refers to it then denies (fail closed).
        return entry ? [[aclId(acl.name), entry] as const] : [];
      }),
      'acl',
    );

    const gateways = new Map<string, { gateway4?: string; gateway6?: string }>();
    for (const iface of this.desired.interfaces.values()) {
      const known = gateways.get(iface.routing_instance) ?? {};
      for (const gateway of iface.gateways) {
        if (isIPv4(gateway)) known.gateway4 ??= gateway;
        else known.gateway6 ??= gateway;
      }
      gateways.set(iface.routing_instance, known);
    }
    const instances = [...this.desired.routingInstances.values()].filter((ri) => ri.vrf_id);
    const vrfs = desired(
      m.vrfs,
      instances.map(
        (ri) => [ri.vrf_id, { vni: ri.vni, aclId: aclId(ri.acl_name), ...gateways.get(ri.name) } as VrfEntry] as const,
      ),
      'routingInstance',
    );
    const vnis = desired(
      m.vnis,
      instances.filter((ri) => ri.vni).map((ri) => [ri.vni, ri.vrf_id] as const),
      'routingInstance.vni',
    );
    const config: DatapathConfig = {
      routerMac: this.host.routerMac,
      underlayMac: this.host.underlay.mac,
      underlayIfindex: this.host.underlay.ifindex,
      underlayAddress: this.host.underlay.address,
      underlayMtu: this.host.underlay.mtu,
      sampleRate: this.host.sampleRate,
      tunnelPort: this.host.tunnelPort ?? VXLAN_PORT,
    };
    const configEntries = desired(m.config, [[0, config] as const], 'config');
    // Every host a route points at, whether or not its neighbour is resolved yet: VXLAN from
    // any other address is dropped on the underlay.
    const peerRoutes = new Map<string, number>();
    for (const table of this.desired.routes.values()) {
      for (const nh of table.values()) {
        const address = nh?.kind === 'tunnel' ? nh.tunnel?.underlay_address : undefined;
        if (address) peerRoutes.set(address, (peerRoutes.get(address) ?? 0) + 1);
      }
    }
    const peers = desired(
      m.peers,
      [...peerRoutes].map(([address, routes]) => [address, { routes }] as const),
      'route.tunnel.underlay_address',
    );

    const boundInterfaces = [...this.bound].flatMap(([uuid, ifindex]) => {
      const iface = this.desired.interfaces.get(uuid);
      const vrfId = iface && vrfOf(iface.routing_instance);
      return iface && vrfId ? [{ iface, ifindex, vrfId }] : [];
    });
    const interfaces = desired(
      m.interfaces,
      boundInterfaces.map(
        ({ iface, ifindex, vrfId }) =>
          [
            ifindex,
            {
              vrfId,
              aclId: aclId(iface.acl_name),
              mtu: iface.mtu,
              mac: iface.mac,
              portSecurity: iface.port_security_enabled,
            },
          ] as const,
      ),
      'interface',
    );
    const devices = [
      ...new Set([
        this.host.underlay.ifindex,
        this.host.tunnelIfindex ?? this.host.underlay.ifindex,
        ...boundInterfaces.map(({ ifindex }) => ifindex),
      ]),
    ];
    const txPorts = desired(
      m.txPorts,
      devices.map((ifindex) => [ifindex, ifindex] as const),
      'txPort',
    );
    const stats = desired(
      m.stats,
      devices.map((ifindex) => [ifindex, emptyStats()] as const),
      'stats',
    );

    // Floating IPs of the bound interfaces (1:1 NAT, bpf/lib/nat.h): IPv4 only, as the datapath
    // translates; the first one per own address is that address's source towards the outside.
    // A port of a network routed to the outside is reached by its own IPv4 addresses and leaves
    // with them: the same path with each address mapped to itself (no rewrite), which comes
    // first, so its own address is its source even when it also has floating IPs.
    const floating: Array<readonly [string, FloatingIp]> = [];
    const sources: Array<readonly [PortAddress, string]> = [];
    for (const { iface, ifindex, vrfId } of boundInterfaces) {
      const own = new Set(iface.addresses.map((cidr) => cidr.split('/')[0]));
      if (!this.desired.routingInstances.get(iface.routing_instance)?.router_external) continue;
      for (const address of own) {
        if (!address || !isIPv4(address)) continue;
        floating.push([address, { fixedAddress: address, ifindex, vrfId }]);
        sources.push([{ vrfId, address }, address]);
      }
    }
    for (const { iface, ifindex, vrfId } of boundInterfaces) {
      const own = new Set(iface.addresses.map((cidr) => cidr.split('/')[0]));
      for (const [i, fip] of iface.floating_addresses.entries()) {
        const field = `interface "${iface.uuid}".floating_addresses[${i}]`;
        if (!isIPv4(fip.address) || !isIPv4(fip.fixed_address)) {
          report.errors.push({ field, reason: 'only IPv4 floating IPs are translated by the datapath' });
          continue;
        }
        if (!own.has(fip.fixed_address)) {
          report.errors.push({ field, reason: `fixed address ${fip.fixed_address} is not one of the interface's` });
          continue;
        }
        floating.push([fip.address, { fixedAddress: fip.fixed_address, ifindex, vrfId }]);
        if (!sources.some(([port]) => port.vrfId === vrfId && port.address === fip.fixed_address)) {
          sources.push([{ vrfId, address: fip.fixed_address }, fip.address]);
        }
      }
    }
    const floatingIps = desired(m.floatingIps, floating, 'floatingIp');
    const floatingSources = desired(m.floatingSources, sources, 'floatingSource');

    // Services of the routing instances (bpf/lib/service.h): each virtual IP, port and protocol
    // with its backends, one entry, so a change of backends is one map update. IPv4 TCP and UDP,
    // as the datapath balances.
    const serviceEntries: Array<readonly [ServiceKey, L4Address[]]> = [];
    for (const ri of instances) {
      for (const [i, service] of (ri.services ?? []).entries()) {
        const field = `routingInstance "${ri.name}".services[${i}]`;
        const { address, port, protocol } = service;
        if (!isIPv4(address) || (protocol !== 'tcp' && protocol !== 'udp')) {
          report.errors.push({ field, reason: 'only IPv4 TCP and UDP services are balanced by the datapath' });
          continue;
        }
        const backends = service.backends.map((backend) => ({ address: backend.address, port: backend.port }));
        serviceEntries.push([{ vrfId: ri.vrf_id, address, port, protocol }, backends]);
      }
    }
    const services = desired(m.services, serviceEntries, 'service');

    const host4: Array<readonly [{ vrfId: number; prefix: string }, NextHop]> = [];
    const host6: typeof host4 = [];
    const prefix4: typeof host4 = [];
    const prefix6: typeof host4 = [];
    for (const [riName, table] of this.desired.routes) {
      const vrfId = vrfOf(riName);
      if (!vrfId) continue;
      const gateway = gateways.get(riName);
      const all = new Map<string, NextHop__Output | null | 'receive'>(table);
      // The gateway itself is reached on the host, unless control routes it somewhere.
      for (const address of [gateway?.gateway4, gateway?.gateway6]) {
        const prefix = address && `${address}/${isIPv4(address) ? 32 : 128}`;
        if (prefix && !all.has(prefix)) all.set(prefix, 'receive');
      }
      for (const [prefixText, nh] of all) {
        const field = `routes["${riName}"]["${prefixText}"]`;
        const prefix = attempt(() => parsePrefix(prefixText, field));
        if (!prefix) continue;
        const nextHop: NextHop | undefined =
          nh === 'receive' ? { kind: 'receive', vrfId } : attempt(() => compileNextHop(nh, vrfId, field, ctx));
        if (!nextHop) continue;
        const bits = prefix.family === 4 ? 32 : 128;
        const list =
          prefix.length === bits ? (prefix.family === 4 ? host4 : host6) : prefix.family === 4 ? prefix4 : prefix6;
        list.push([{ vrfId, prefix: prefixText }, nextHop]);
      }
    }
    const routes = [
      [m.hostRoutes4, desired(m.hostRoutes4, host4, 'route')],
      [m.hostRoutes6, desired(m.hostRoutes6, host6, 'route')],
      [m.prefixRoutes4, desired(m.prefixRoutes4, prefix4, 'route')],
      [m.prefixRoutes6, desired(m.prefixRoutes6, prefix6, 'route')],
    ] as const;

    // Writes: what is referred to before what refers to it.
    const order: Array<readonly [Convergeable, Entries, boolean]> = [
      [m.acls, acls, false],
      [m.vrfs, vrfs, false],
      [m.vnis, vnis, false],
      [m.config, configEntries, false],
      [m.peers, peers, false],
      [m.interfaces, interfaces, false],
      [m.txPorts, txPorts, false],
      // Counters are created, never reset by a reconcile.
      [m.stats, stats, true],
      [m.floatingIps, floatingIps, false],
      [m.floatingSources, floatingSources, false],
      [m.services, services, false],
      ...routes.map(([map, entries]) => [map, entries, false] as const),
    ];
    const stale: Array<readonly [Convergeable, Buffer[]]> = [];
    for (const [map, entries, createOnly] of order) {
      const actual = map.snapshot();
      const writes = [...entries]
        .filter(([hex, [, value]]) => {
          const current = actual.get(hex);
          return !current || (!createOnly && !current.equals(value));
        })
        .map(([, entry]) => entry);
      report.written += map.updateEncoded(writes);
      stale.push([map, [...actual.keys()].filter((hex) => !entries.has(hex)).map((hex) => Buffer.from(hex, 'hex'))]);
    }
    if (this.synced) {
      for (const [map, keys] of stale.reverse()) {
        // The config is an array of one entry: it is rewritten, never deleted.
        if (map === m.config) continue;
        report.deleted += map.deleteEncoded(keys);
      }
    }

    // A policy change ends the flows conntrack let through under the old one: they are judged
    // again by their next packet. The first reconcile adopts the flows of a previous agent.
    const digest = createHash('sha256');
    for (const entries of [acls, vrfs, interfaces])
      for (const [hex, [, value]] of entries) digest.update(hex).update(value);
    const policyDigest = digest.digest('hex');
    if (this.policyDigest !== undefined && this.policyDigest !== policyDigest) {
      m.conntrack.clear();
      report.conntrackFlushed = true;
    }
    this.policyDigest = policyDigest;
    return report;
  }
}
