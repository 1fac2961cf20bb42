// What control advertises to the gateways, kept in step with gobgpd: every floating IP, and every
// own address of a port of a network routed to the outside (router_external), as a /32, next hop
// the underlay address of the host that holds its port (as that host's agent reported the port). Level-based: each sync compares the paths wanted now with what gobgpd originates
// and adds or withdraws the difference, so a control restart (gobgpd keeps its paths) or a
// gobgpd restart converges the same way. A floating IP whose port no agent has reported yet
// keeps whatever gobgpd has for it: a restarted control withdraws nothing before the agents are
// back. Sessions, paths sent and received, and flaps are in metrics and introspection.
import { isIPv4 } from 'node:net';
import type { Logger, Metrics } from '@weft/kit';
import type { AgentHub } from '../agents/hub.js';
import type { BgpPath, BgpPeerStatus, Gobgp, LearntPath } from './gobgp.js';

export interface BgpPeerOption {
  address: string;
  asn: number;
}

export interface BgpOptions {
  asn: number;
  routerId: string;
  peers: BgpPeerOption[];
  /** Graceful restart time offered to the peers: how long they keep our paths while we restart. */
  restartTimeSeconds: number;
  /** How often the state is compared with gobgpd's even when nothing changed here. */
  syncIntervalMs: number;
}

export interface BgpStatus {
  speaker: string;
  asn: number;
  router_id: string;
  started: boolean;
  last_error: string | null;
  peers: BgpPeerStatus[];
  advertised: BgpPath[];
  learnt: LearntPath[];
}

/**
 * The floating IPs of every port, and the own IPv4 addresses of every port of a network routed
 * to the outside (router_external), each as a /32: prefix → the underlay address of the host
 * its agent reported the port on; undefined while no agent has: keep what gobgpd has.
 */
export function wantedPaths(hub: Pick<AgentHub, 'state' | 'ports'>): Map<string, string | undefined> {
  const wanted = new Map<string, string | undefined>();
  for (const [uuid, compiled] of hub.state.interfaces) {
    const floating = (compiled.message.floating_addresses ?? []).map((fip) => fip.address ?? '');
    // A /32 per port rather than the network's subnet, as Tungsten Fabric exports each port's
    // route: only the host holding a pod delivers to it from the underlay (no tunnel to the
    // gateway), and a pod that moves takes its route along.
    const routed = hub.state.routingInstances.get(compiled.routingInstance)?.message.router_external
      ? (compiled.message.addresses ?? []).map((cidr) => cidr.split('/')[0]!)
      : [];
    const addresses = [...floating, ...routed].filter((address) => isIPv4(address));
    if (addresses.length === 0) continue;
    const port = hub.ports.get(uuid);
    for (const address of addresses) wanted.set(`${address}/32`, port?.underlay);
  }
  return wanted;
}

export class BgpAdvertiser {
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | undefined;
  #again = false;
  #started = false;
  #lastError: string | null = null;
  #peers: BgpPeerStatus[] = [];
  #advertised: BgpPath[] = [];
  #learnt: LearntPath[] = [];
  readonly #flaps = new Map<string, number>();
  readonly #metrics;

  constructor(
    private readonly gobgp: Gobgp,
    /** The paths wanted now (wantedPaths over the hub, in control). */
    private readonly wanted: () => Map<string, string | undefined>,
    private readonly options: BgpOptions,
    private readonly logger: Logger,
    metrics: Metrics,
    /** Called after each sync with what the gateways offer (for the agents: AgentHub.gatewayRoutesLearnt). */
    private readonly onLearnt: (learnt: readonly LearntPath[]) => void = () => {},
  ) {
    this.#metrics = {
      sessions: metrics.gauge('bgp_sessions', 'BGP sessions with the gateways, by state', ['state']),
      sent: metrics.gauge('bgp_prefixes_sent', 'prefixes advertised to a BGP peer', ['peer']),
      received: metrics.gauge('bgp_prefixes_received', 'prefixes received from a BGP peer', ['peer']),
      flaps: metrics.counter('bgp_session_flaps_total', 'times a BGP session went down after it was up', ['peer']),
      changes: metrics.counter('bgp_path_changes_total', 'paths added to or withdrawn from the speaker', ['change']),
      errors: metrics.counter('bgp_sync_errors_total', 'syncs with the speaker that failed'),
    };
    this.#timer = setInterval(() => this.sync(), options.syncIntervalMs);
    this.#timer.unref();
  }

  /** Compares what is wanted with gobgpd and converges; runs one at a time, again if asked meanwhile. */
  sync(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#sync()
      .catch((error: Error) => {
        // A restarted gobgpd has forgotten its identity and peers: set them again next time.
        this.#started = false;
        this.#metrics.errors.inc();
        if (this.#lastError !== error.message) this.logger.warn({ err: error }, 'BGP sync with gobgpd failed');
        this.#lastError = error.message;
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          void this.sync();
        }
      });
    return this.#running;
  }

  async #sync(): Promise<void> {
    const { asn, routerId, peers, restartTimeSeconds } = this.options;
    if (!this.#started) {
      const how = await this.gobgp.start(asn, routerId);
      for (const peer of peers) await this.gobgp.ensurePeer(peer.address, peer.asn, restartTimeSeconds);
      this.#started = true;
      this.logger.info({ speaker: this.gobgp.address, asn, routerId, peers, how }, 'BGP speaker ready');
    }
    const wanted = this.wanted();
    const table = await this.gobgp.table();
    const have = new Map(table.local.map((path) => [path.prefix, path.nextHop]));
    for (const [prefix, nextHop] of wanted) {
      if (nextHop === undefined || have.get(prefix) === nextHop) continue;
      // A new next hop replaces the old path (same prefix, same origin).
      await this.gobgp.add({ prefix, nextHop });
      this.#metrics.changes.inc({ change: 'add' });
    }
    for (const [prefix, nextHop] of have) {
      if (wanted.has(prefix)) continue;
      await this.gobgp.withdraw({ prefix, nextHop });
      this.#metrics.changes.inc({ change: 'withdraw' });
    }
    const after = await this.gobgp.table();
    this.#advertised = after.local.sort((a, b) => a.prefix.localeCompare(b.prefix));
    this.#learnt = after.learnt.sort((a, b) => a.prefix.localeCompare(b.prefix));
    this.onLearnt(this.#learnt);
    this.#observePeers(await this.gobgp.peers());
    this.#lastError = null;
  }

  #observePeers(peers: BgpPeerStatus[]): void {
    this.#peers = peers;
    this.#metrics.sessions.reset();
    for (const peer of peers) {
      this.#metrics.sessions.inc({ state: peer.state });
      this.#metrics.sent.set({ peer: peer.address }, peer.advertised);
      this.#metrics.received.set({ peer: peer.address }, peer.received);
      const before = this.#flaps.get(peer.address) ?? peer.flaps;
      if (peer.flaps > before) this.#metrics.flaps.inc({ peer: peer.address }, peer.flaps - before);
      this.#flaps.set(peer.address, peer.flaps);
    }
  }

  /** Routes the gateways sent (a default route, external prefixes). */
  get learnt(): readonly LearntPath[] {
    return this.#learnt;
  }

  status(): BgpStatus {
    return {
      speaker: this.gobgp.address,
      asn: this.options.asn,
      router_id: this.options.routerId,
      started: this.#started,
      last_error: this.#lastError,
      peers: this.#peers,
      advertised: this.#advertised,
      learnt: this.#learnt,
    };
  }

  close(): void {
    clearInterval(this.#timer);
    this.gobgp.close();
  }
}
