// Reports each routing instance and each agent connection as a UVE (kit's UvePublisher: type
// "routing-instance" named by instance, type "vrouter" named by host; this replica's part).
import type { UvePublisher } from '@weft/kit';
import type { AgentHub } from '../agents/hub.js';
import type { BgpAdvertiser } from '../bgp/advertiser.js';

export class ControlUves {
  readonly #instances = new Set<string>();
  readonly #refresh: NodeJS.Timeout;

  constructor(
    private readonly publisher: UvePublisher,
    private readonly hub: AgentHub,
    private readonly bgp?: BgpAdvertiser,
    refreshMs = 2_000,
  ) {
    // Route counts change with every port; publishing them on a timer keeps the bus quiet.
    this.#refresh = setInterval(() => {
      this.routingInstancesChanged();
      this.bgpChanged();
      this.#staleRoutesChanged();
    }, refreshMs);
    this.#refresh.unref();
  }

  /** Publishes the instances named (all when none are), and removes those that are gone. */
  routingInstancesChanged(names?: Iterable<string>): void {
    const state = this.hub.state;
    for (const name of names ?? state.routingInstances.keys()) {
      const instance = state.routingInstances.get(name);
      if (!instance) continue;
      const fields = {
        virtual_network_uuid: instance.networkUuid,
        vrf_id: instance.message.vrf_id,
        vni: instance.vni,
        route_targets: instance.message.route_targets,
        imports: instance.imports,
        acl_name: instance.message.acl_name,
        routes: this.hub.routes.countOf(name),
        hosts: [...(state.hostsOf.get(name) ?? [])].sort(),
      };
      const current = this.publisher.get('routing-instance', name);
      if (JSON.stringify(current) !== JSON.stringify(fields)) this.publisher.set('routing-instance', name, fields);
      this.#instances.add(name);
    }
    for (const name of names ? [...names] : [...this.#instances]) {
      if (this.#instances.has(name) && !state.routingInstances.has(name)) {
        this.publisher.remove('routing-instance', name);
        this.#instances.delete(name);
      }
    }
  }

  /** Each BGP peer as a "bgp-peer" UVE: session state, prefixes sent and received, flaps. */
  bgpChanged(): void {
    for (const peer of this.bgp?.status().peers ?? []) {
      const fields = {
        asn: peer.asn,
        state: peer.state,
        prefixes_sent: peer.advertised,
        prefixes_received: peer.received,
        flaps: peer.flaps,
      };
      const current = this.publisher.get('bgp-peer', peer.address);
      if (JSON.stringify(current) !== JSON.stringify(fields)) this.publisher.set('bgp-peer', peer.address, fields);
    }
  }

  agentChanged(host: string): void {
    const record = this.hub.agents().find((agent) => agent.host === host);
    if (!record) {
      this.publisher.remove('vrouter', host);
      return;
    }
    const session = this.hub.sessions.get(host);
    this.publisher.update('vrouter', host, {
      control_connected: record.connected,
      underlay_address: record.underlay,
      control_session_since_ms: record.since,
      hold_until_ms: record.holdUntil ?? null,
      // Past the hold time: headless, its routes kept as stale until stale_until_ms.
      stale_since_ms: record.staleSince ?? null,
      stale_until_ms: record.staleUntil ?? null,
      stale_routes: record.staleSince === undefined ? 0 : this.hub.routesOfHost(host),
      interfaces: this.hub.state.hosts.get(host)?.interfaces.size ?? 0,
      end_of_routes_sent: session?.endOfRoutesSent ?? false,
      // Read by analytics' "vrouter-refused-port-claims" alarm.
      refused_port_claims: record.refused?.count ?? 0,
      last_refused_port_claim: record.refused
        ? {
            interface_uuid: record.refused.last.interfaceUuid,
            reason: record.refused.last.reason,
            detail: record.refused.last.detail,
            at_ms: record.refused.last.atMs,
          }
        : null,
    });
  }

  /** A headless host's stale routes go one by one as config removes their interfaces. */
  #staleRoutesChanged(): void {
    for (const record of this.hub.agents()) {
      if (record.staleSince === undefined) continue;
      const published = this.publisher.get('vrouter', record.host)?.stale_routes;
      if (published !== this.hub.routesOfHost(record.host)) this.agentChanged(record.host);
    }
  }

  close(): void {
    clearInterval(this.#refresh);
  }
}
