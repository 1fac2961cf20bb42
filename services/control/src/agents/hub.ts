// The agents' side of control: every session on this replica, the ports agents reported, the
// routes those ports make, and the rules of a restart without loss.
//
// - A host's ports stay while it is away, for the hold time; a host that comes back within it
//   keeps them (and re-reports them). Past the hold time they stay as stale for the stale time
//   (BGP's long-lived graceful restart, RFC 9494): a host cut off from control keeps forwarding
//   on its last state (headless), and so must its peers towards it. Stale routes still reach the
//   other agents; they go when config removes their interface (routes are made from config), when
//   the host returns and does not report them again (the sweep below), or when the stale time
//   ends, and only then do its peers' tables lose them.
// - After control (re)starts, an agent gets EndOfRoutes only when the routes it needs are known:
//   every host with an interface in the instances it carries has reported its ports (acked its
//   own EndOfConfig, before which an agent reports every port it has), or control has been up
//   for the hold time. So no agent sweeps a route that a host just has not re-reported yet.
// - When a host reconnects, the ports it had are marked; those it does not report again before
//   acking EndOfConfig are swept.
// - An agent is believed only where config agrees: a port-up counts only for an interface config
//   binds to that agent's host, naming only addresses config allocated to it; and the routes are
//   made from config (route-index.ts), never from the claim. A claim config does not back changes
//   nothing: it is held (a bounded number per session) and judged again whenever config changes
//   that interface, because a replica whose config lags behind the other's (a pod just created,
//   or moved to this host) must accept it once it catches up. One still unbacked after the grace
//   time is refused: counted, logged, and kept on the host's record, which control's UVE turns
//   into an alarm. So a lag of a few milliseconds raises nothing, and a lie is caught.
// - When config deletes an interface, its port and any claim held for it go. Its host's agent
//   keeps the port until the pod's CNI DEL and reports it again meanwhile (after a reconnect):
//   that is no lie, so only the fact that the host still has it is kept, until the host lets go
//   of it, and such a report makes nothing and raises nothing.
import { Gauge, type Logger, type Metrics } from '@weft/kit';
import type { PortStatus__Output } from '@weft/proto/gen/weft/control/v1/PortStatus.js';
import { type CompiledDelta, type CompiledState, emptyState } from '../compile/state.js';
import { errors } from '../errors.js';
import { type GatewayRoute, GatewayRoutes } from '../routes/gateway-routes.js';
import { allocatedRoutes, hostRoute, type Port, PortTable } from '../routes/ports.js';
import { RouteIndex, type RouteKey } from '../routes/route-index.js';
import type { AgentSession, SessionContext } from './session.js';
import { type EncodedRoute, encodeRoute } from './wire.js';

export interface AgentHubOptions {
  holdTimeMs: number;
  /**
   * How long a host still away at the end of its hold time keeps its routes, as stale, before
   * they are withdrawn; 0 or none: withdrawn at the end of the hold time.
   */
  staleTimeMs?: number;
  logger: Logger;
  metrics: Metrics;
  /** Told when an agent connects, disconnects, is dropped after the hold time, or has a claim refused. */
  onAgentChange?: (host: string) => void;
  /** How long a port claim config does not back waits for config before it is refused; 0: at once. */
  claimGraceMs?: number;
}

/** The default grace: replicas of control follow config-api within milliseconds of each other. */
export const CLAIM_GRACE_MS = 5_000;

interface HeldClaim {
  status: PortStatus__Output;
  /** Until the claim is refused (counted) or taken. */
  grace?: NodeJS.Timeout;
  /** Counted as refused already: judged again on config changes, never counted twice. */
  refused?: boolean;
}

interface Refusal {
  reason: RefusedClaimReason;
  detail: string;
}

/** Why a port claim was refused: the label of the refusal counter. */
export type RefusedClaimReason = 'host' | 'address';

export interface RefusedClaims {
  /** Claims refused since this replica started. */
  count: number;
  last: { interfaceUuid: string; reason: RefusedClaimReason; detail: string; atMs: number };
}

export interface AgentRecord {
  host: string;
  underlay: string;
  /** The agent's software version from its hello, for skew checks. */
  version: string;
  connected: boolean;
  since: number;
  /** When the hold time of a disconnected host ends. */
  holdUntil?: number;
  /** Past the hold time, the host is headless: its routes are kept as stale, since then… */
  staleSince?: number;
  /** …and until then, when they are withdrawn unless it returns first. */
  staleUntil?: number;
  /** Port claims of this host that config did not back. */
  refused?: RefusedClaims;
}

/** The VNI under which a port's route to its own host is kept encoded (VNIs are never negative). */
const LOCAL = -1;

/** Port-ups config does not back that control keeps per session, to judge again when config changes. */
export const MAX_HELD_CLAIMS = 4096;

export class AgentHub implements SessionContext {
  #state: CompiledState = emptyState();
  #ready = false;
  readonly startedAt = Date.now();
  readonly sessions = new Map<string, AgentSession>();
  readonly ports = new PortTable();
  readonly routes = new RouteIndex(this.ports);
  readonly gatewayRoutes = new GatewayRoutes();
  /** The routing instances of networks routed to the outside, which carry the gateway routes. */
  #routedOut = new Set<string>();
  readonly #records = new Map<string, AgentRecord>();
  readonly #reported = new Set<string>();
  readonly #stale = new Map<string, Set<string>>();
  /** Per disconnected host: the end of its hold time, then the end of its stale time. */
  readonly #holdTimers = new Map<string, NodeJS.Timeout>();
  readonly #dirty = new Set<AgentSession>();
  /** Port-ups config did not back (yet), by session and interface, judged again when it changes. */
  readonly #held = new Map<AgentSession, Map<string, HeldClaim>>();
  /** The host of each port whose interface config deleted while the host still had the port. */
  readonly #orphaned = new Map<string, string>();
  readonly #encodedRoutes = new WeakMap<Port, { prefix: string; vni: number; bytes: EncodedRoute }[]>();
  #flushScheduled = false;
  #gateTimer: NodeJS.Timeout | undefined;
  readonly #logger: Logger;
  readonly #messagesOut;
  readonly #rejected;
  readonly #refused;
  readonly #sessionsRefused;

  constructor(private readonly options: AgentHubOptions) {
    this.#logger = options.logger.child({ component: 'agents' });
    const { metrics } = options;
    this.#messagesOut = metrics.counter('agent_messages_out_total', 'messages sent to agents, by body', ['body']);
    this.#rejected = metrics.counter('agent_messages_rejected_total', 'agent messages refused, by reason', ['reason']);
    this.#refused = metrics.counter(
      'port_claims_refused_total',
      'port-ups refused because config does not bind the interface to the host, or did not allocate an address',
      ['reason'],
    );
    this.#sessionsRefused = metrics.counter(
      'agent_sessions_refused_total',
      "agent sessions refused because the client certificate does not prove the hello's host name",
      ['reason'],
    );
    const hub = this;
    const { registry, prefix } = metrics;
    new Gauge({
      name: `${prefix}agents_connected`,
      help: 'agent sessions open on this replica',
      registers: [registry],
      collect() {
        this.set(hub.sessions.size);
      },
    });
    new Gauge({
      name: `${prefix}agent_queue_depth`,
      help: 'entries waiting in agent outboxes: summed over agents, and the largest',
      labelNames: ['of'],
      registers: [registry],
      collect() {
        let sum = 0;
        let max = 0;
        for (const session of hub.sessions.values()) {
          sum += session.outbox.depth;
          max = Math.max(max, session.outbox.depth);
        }
        this.set({ of: 'sum' }, sum);
        this.set({ of: 'max' }, max);
      },
    });
    new Gauge({
      name: `${prefix}routes`,
      help: 'routes each routing instance originates',
      labelNames: ['routing_instance'],
      registers: [registry],
      collect() {
        this.reset();
        for (const name of hub.routes.instances()) this.set({ routing_instance: name }, hub.routes.countOf(name));
      },
    });
    new Gauge({
      name: `${prefix}stale_routes`,
      help: 'routes of hosts away past the hold time, kept as stale until the stale time ends',
      registers: [registry],
      collect() {
        let stale = 0;
        for (const record of hub.agents()) if (record.staleSince !== undefined) stale += hub.routesOfHost(record.host);
        this.set(stale);
      },
    });
    // Hosts that never come back stop holding others' EndOfRoutes once the hold time has passed.
    this.#gateTimer = setTimeout(() => this.#markAll(), options.holdTimeMs + 10);
    this.#gateTimer.unref();
  }

  get state(): CompiledState {
    return this.#state;
  }

  agents(): AgentRecord[] {
    return [...this.#records.values()];
  }

  // ── config ─────────────────────────────────────────────────────────────────────────────

  /**
   * A batch of compiled changes: the sessions of the hosts it names get the difference; the
   * routes of ports whose interfaces moved move with them. The first one syncs every session.
   */
  apply(state: CompiledState, delta: CompiledDelta): void {
    this.#state = state;
    this.#routedOutChanged(state);
    if (delta.first || !this.#ready) {
      this.#ready = true;
      for (const session of this.sessions.values()) {
        session.startSync();
        session.reconcileConfig(state);
        this.#dirty.add(session);
      }
      this.#markKeys(this.routes.rebuild(state));
      for (const [session, claims] of [...this.#held]) {
        for (const uuid of [...claims.keys()]) this.#judgeAgain(session, uuid);
      }
      this.#scheduleFlush();
      return;
    }
    for (const host of delta.hosts) {
      const session = this.sessions.get(host);
      if (!session) continue;
      session.reconcileConfig(state);
      this.#dirty.add(session);
    }
    for (const [name, context] of delta.routeContexts) {
      for (const host of state.hostsOf.get(name) ?? []) {
        const session = this.sessions.get(host);
        if (!session) continue;
        session.markRoutes(name, context === 'vni' ? 'resend' : 'all');
        this.#dirty.add(session);
      }
    }
    for (const uuid of delta.rerouted) {
      if (!state.interfaces.has(uuid)) this.#interfaceDeleted(uuid);
      this.#markKeys(this.routes.interfaceChanged(state, uuid));
    }
    for (const [session, claims] of [...this.#held]) {
      for (const uuid of delta.rerouted) if (claims.has(uuid)) this.#judgeAgain(session, uuid);
    }
    this.#scheduleFlush();
  }

  /**
   * No claim made for the interface before backs a later one of the same uuid: its port and held
   * claims go, and a host still having the port is remembered, so that its report is no lie.
   */
  #interfaceDeleted(uuid: string): void {
    const port = this.ports.delete(uuid);
    if (port) this.#orphaned.set(uuid, port.host);
    for (const session of [...this.#held.keys()]) this.#hold(session, uuid, undefined);
  }

  // ── sessions ───────────────────────────────────────────────────────────────────────────

  attach(session: AgentSession): void {
    const previous = this.sessions.get(session.host);
    if (previous) {
      this.#logger.info({ host: session.host }, 'a new session replaces the open one');
      this.detach(previous, errors.REPLACED({ host: session.host }));
    }
    clearTimeout(this.#holdTimers.get(session.host));
    this.#holdTimers.delete(session.host);
    const headless = this.#records.get(session.host)?.staleSince;
    this.sessions.set(session.host, session);
    this.#records.set(session.host, {
      host: session.host,
      underlay: session.underlay,
      version: session.version,
      connected: true,
      since: Date.now(),
      refused: this.#records.get(session.host)?.refused,
    });
    this.#reported.delete(session.host);
    this.#stale.set(session.host, new Set([...this.ports.ofHost(session.host), ...this.#orphansOf(session.host)]));
    if (this.#ready) {
      session.startSync();
      session.reconcileConfig(this.#state);
    }
    this.#dirty.add(session);
    this.#scheduleFlush();
    this.#logger.info(
      {
        host: session.host,
        underlay: session.underlay,
        hasState: session.hasState,
        ...(headless === undefined ? {} : { staleForMs: Date.now() - headless }),
      },
      headless === undefined ? 'agent connected' : 'headless agent back: its stale routes stay if it reports them',
    );
    this.options.onAgentChange?.(session.host);
  }

  /** The session ended; its host's routes stay for the hold time, then as stale for the stale time. */
  detach(session: AgentSession, reason?: Error): void {
    session.close(reason);
    this.#dirty.delete(session);
    for (const claim of this.#held.get(session)?.values() ?? []) clearTimeout(claim.grace);
    this.#held.delete(session);
    if (this.sessions.get(session.host) !== session) return;
    this.sessions.delete(session.host);
    this.#stale.delete(session.host);
    const holdUntil = Date.now() + this.options.holdTimeMs;
    this.#records.set(session.host, {
      host: session.host,
      underlay: session.underlay,
      version: session.version,
      connected: false,
      since: Date.now(),
      holdUntil,
      refused: this.#records.get(session.host)?.refused,
    });
    const timer = setTimeout(() => this.#holdExpired(session.host), this.options.holdTimeMs);
    timer.unref();
    this.#holdTimers.set(session.host, timer);
    this.#logger.info(
      { host: session.host, holdTimeMs: this.options.holdTimeMs, reason: reason?.message },
      'agent disconnected',
    );
    this.options.onAgentChange?.(session.host);
  }

  /** The hold time is over: the host's routes are kept as stale, or withdrawn with no stale time. */
  #holdExpired(host: string): void {
    this.#holdTimers.delete(host);
    if (this.sessions.has(host)) return;
    const staleTimeMs = this.options.staleTimeMs ?? 0;
    const record = this.#records.get(host);
    if (staleTimeMs <= 0 || !record) {
      this.#withdrawHost(host, 'hold time over; withdrawing the host routes');
      return;
    }
    const now = Date.now();
    record.staleSince = now;
    record.staleUntil = now + staleTimeMs;
    this.#logger.warn(
      { host, ports: this.ports.ofHost(host).length, staleRoutes: this.routesOfHost(host), staleTimeMs },
      'hold time over; the host is headless: keeping its routes as stale',
    );
    this.#armStaleTimer(host, record.staleUntil);
    this.options.onAgentChange?.(host);
  }

  /** Timers run at most 2^31-1 ms (about 24.8 days): a longer stale time takes several. */
  #armStaleTimer(host: string, until: number): void {
    const timer = setTimeout(
      () => {
        this.#holdTimers.delete(host);
        if (this.sessions.has(host)) return;
        if (Date.now() < until) return this.#armStaleTimer(host, until);
        this.#withdrawHost(host, 'stale time over; withdrawing the headless host routes');
      },
      Math.min(Math.max(until - Date.now(), 0), 2 ** 31 - 1),
    );
    timer.unref();
    this.#holdTimers.set(host, timer);
  }

  #withdrawHost(host: string, why: string): void {
    const uuids = this.ports.ofHost(host);
    this.#logger.info({ host, ports: uuids.length }, why);
    for (const uuid of uuids) this.#portChanged(this.ports.delete(uuid), undefined);
    for (const uuid of this.#orphansOf(host)) this.#orphaned.delete(uuid);
    this.#reported.delete(host);
    this.#records.delete(host);
    this.#scheduleFlush();
    this.options.onAgentChange?.(host);
  }

  hostReported(session: AgentSession): void {
    const stale = this.#stale.get(session.host);
    this.#stale.delete(session.host);
    for (const uuid of stale ?? []) {
      const port = this.ports.get(uuid);
      if (port?.host === session.host) this.#portChanged(this.ports.delete(uuid), undefined);
      if (this.#orphaned.get(uuid) === session.host) this.#orphaned.delete(uuid);
    }
    this.#reported.add(session.host);
    // The hosts that may have waited on this one for their EndOfRoutes: those carrying its
    // instances' routes.
    const state = this.#state;
    for (const name of state.hosts.get(session.host)?.routingInstances ?? []) {
      for (const carrier of state.carriers.get(name) ?? [name]) {
        for (const host of state.hostsOf.get(carrier) ?? []) {
          const waiting = this.sessions.get(host);
          if (waiting && !waiting.endOfRoutesSent) this.#dirty.add(waiting);
        }
      }
    }
    this.#scheduleFlush();
  }

  routesComplete(session: AgentSession): boolean {
    if (Date.now() - this.startedAt >= this.options.holdTimeMs) return true;
    const state = this.#state;
    for (const name of state.hosts.get(session.host)?.routingInstances ?? []) {
      const instance = state.routingInstances.get(name);
      for (const origin of [name, ...(instance?.imports ?? [])]) {
        for (const host of state.hostsOf.get(origin) ?? []) if (!this.#reported.has(host)) return false;
      }
    }
    return true;
  }

  /** The routes the ports of `host` originate now (config may have taken some away). */
  routesOfHost(host: string): number {
    let count = 0;
    for (const uuid of this.ports.ofHost(host)) count += this.routes.originatedBy(uuid);
    return count;
  }

  #orphansOf(host: string): string[] {
    return [...this.#orphaned].filter(([, orphanHost]) => orphanHost === host).map(([uuid]) => uuid);
  }

  #markAll(): void {
    for (const session of this.sessions.values()) if (!session.endOfRoutesSent) this.#dirty.add(session);
    this.#scheduleFlush();
  }

  // ── ports and routes ───────────────────────────────────────────────────────────────────

  portStatus(session: AgentSession, status: PortStatus__Output): void {
    if (!status.interface_uuid) {
      this.#reject(session, 'port.interface_uuid', 'is required');
      return;
    }
    if (status.state === 'PORT_STATE_DOWN') {
      this.#hold(session, status.interface_uuid, undefined);
      if (this.#orphaned.get(status.interface_uuid) === session.host) this.#orphaned.delete(status.interface_uuid);
      if (!this.#ready) return;
      this.#stale.get(session.host)?.delete(status.interface_uuid);
      const port = this.ports.get(status.interface_uuid);
      if (port?.host === session.host) this.#portChanged(this.ports.delete(status.interface_uuid), undefined);
      this.#scheduleFlush();
    } else if (status.state === 'PORT_STATE_UP') {
      for (const [index, address] of status.addresses.entries()) {
        if (hostRoute(address)) continue;
        this.#reject(session, `port.addresses[${index}]`, `${JSON.stringify(address)} is not an address in CIDR form`);
        return;
      }
      const refusal = this.#ready ? this.#take(session, status) : undefined;
      if (this.#ready && !refusal) this.#hold(session, status.interface_uuid, undefined);
      else this.#hold(session, status.interface_uuid, status, refusal);
    } else {
      this.#reject(session, 'port.state', 'must be PORT_STATE_UP or PORT_STATE_DOWN');
    }
  }

  /**
   * Takes a port-up that config backs, or lets one for a port whose interface config deleted
   * pass as no lie, making nothing (undefined); else says why not, and nothing changes.
   */
  #take(session: AgentSession, status: PortStatus__Output): Refusal | undefined {
    const uuid = status.interface_uuid;
    const bound = this.#state.interfaces.get(uuid);
    if (!bound && this.#orphaned.get(uuid) === session.host) {
      this.#stale.get(session.host)?.delete(uuid);
      return undefined;
    }
    if (!bound) return { reason: 'host', detail: 'config has no such interface' };
    if (bound.host !== session.host) return { reason: 'host', detail: 'config binds the interface to another host' };
    const allocated = allocatedRoutes(bound.message).set;
    const prefixes = status.addresses.map((address) => hostRoute(address)!);
    const foreign = prefixes.filter((prefix) => !allocated.has(prefix));
    if (foreign.length > 0) return { reason: 'address', detail: `config did not allocate ${foreign.join(', ')}` };
    this.#stale.get(session.host)?.delete(uuid);
    const port: Port = {
      interfaceUuid: uuid,
      host: session.host,
      underlay: session.underlay,
      mac: status.mac,
      prefixes: prefixes.sort(),
      hostIfname: status.host_ifname,
    };
    const before = this.ports.get(uuid);
    if (before && samePort(before, port)) return undefined;
    this.ports.set(port);
    this.#portChanged(before, port);
    this.#scheduleFlush();
    return undefined;
  }

  /**
   * Holds a session's port-up that config does not back (or, with no claim, forgets it). With
   * a refusal and no grace time, it is refused at once; otherwise when the grace time ends.
   */
  #hold(session: AgentSession, interfaceUuid: string, status: PortStatus__Output | undefined, refusal?: Refusal): void {
    let claims = this.#held.get(session);
    const before = claims?.get(interfaceUuid);
    const graceMs = this.options.claimGraceMs ?? CLAIM_GRACE_MS;
    if (before && status) {
      // The same port claimed again: its grace keeps running from the first claim, so an agent
      // that repeats a claim cannot keep it from being refused; a different claim counts anew.
      const changed = JSON.stringify(before.status) !== JSON.stringify(status);
      before.status = status;
      if (changed) before.refused = false;
      if (graceMs === 0) {
        if (refusal) this.#refuse(session, interfaceUuid, before, refusal);
      } else if (changed && before.grace === undefined) {
        this.#startGrace(session, interfaceUuid, before, graceMs);
      }
      return;
    }
    clearTimeout(before?.grace);
    claims?.delete(interfaceUuid);
    if (!status) {
      if (claims?.size === 0) this.#held.delete(session);
      return;
    }
    if (!claims) {
      claims = new Map();
      this.#held.set(session, claims);
    }
    const claim: HeldClaim = { status };
    claims.set(interfaceUuid, claim);
    if (graceMs > 0) this.#startGrace(session, interfaceUuid, claim, graceMs);
    else if (refusal) this.#refuse(session, interfaceUuid, claim, refusal);
    // An agent cannot make control keep an unbounded number of claims: the oldest go.
    if (claims.size > MAX_HELD_CLAIMS) {
      const [oldest, dropped] = claims.entries().next().value!;
      clearTimeout(dropped.grace);
      claims.delete(oldest);
    }
  }

  #startGrace(session: AgentSession, interfaceUuid: string, claim: HeldClaim, graceMs: number): void {
    claim.grace = setTimeout(() => {
      claim.grace = undefined;
      if (this.#held.get(session)?.get(interfaceUuid) !== claim) return;
      // Before config is known nothing can be judged: wait again.
      if (!this.#ready) return this.#startGrace(session, interfaceUuid, claim, graceMs);
      const refusal = this.#take(session, claim.status);
      if (refusal) this.#refuse(session, interfaceUuid, claim, refusal);
      else this.#hold(session, interfaceUuid, undefined);
    }, graceMs);
    claim.grace.unref();
  }

  /** Config changed (or became known): a held claim is taken if config now backs it. */
  #judgeAgain(session: AgentSession, interfaceUuid: string): void {
    const claim = this.#held.get(session)?.get(interfaceUuid);
    if (!claim) return;
    const refusal = this.#take(session, claim.status);
    if (!refusal) this.#hold(session, interfaceUuid, undefined);
    else if (claim.grace === undefined) this.#refuse(session, interfaceUuid, claim, refusal);
  }

  /** A claim config does not back: nothing changes; it is counted, logged and kept for the alarm. */
  #refuse(session: AgentSession, interfaceUuid: string, claim: HeldClaim, { reason, detail }: Refusal): void {
    if (claim.refused) return;
    claim.refused = true;
    this.#refused.inc({ reason });
    this.#logger.warn(
      { host: session.host, underlay: session.underlay, interfaceUuid, reason, detail },
      'port claim refused: config does not back it',
    );
    const record = this.#records.get(session.host);
    if (!record) return;
    record.refused = {
      count: (record.refused?.count ?? 0) + 1,
      last: { interfaceUuid, reason, detail, atMs: Date.now() },
    };
    this.options.onAgentChange?.(session.host);
  }

  /** A session whose hello was not proven (agents/identity.ts): counted by the error's code. */
  sessionRefused(code: string): void {
    this.#sessionsRefused.inc({ reason: code });
  }

  #reject(session: AgentSession, field: string, reason: string): void {
    this.#rejected.inc({ reason: field });
    this.#logger.warn({ host: session.host, field }, errors.INVALID_FIELD({ field, reason }).message);
  }

  /** What the gateways offer now: the routed-out instances' hosts get the difference. */
  gatewayRoutesLearnt(learnt: Iterable<{ prefix: string; nextHop: string }>): void {
    const changed = this.gatewayRoutes.replace(learnt);
    if (changed.length === 0) return;
    for (const name of this.#routedOut) {
      for (const host of this.#state.hostsOf.get(name) ?? []) {
        const session = this.sessions.get(host);
        if (!session) continue;
        for (const prefix of changed) session.markRoutes(name, prefix);
        this.#dirty.add(session);
      }
    }
    this.#scheduleFlush();
  }

  /** A network marked routed to the outside, or no longer: its hosts get its routes again. */
  #routedOutChanged(state: CompiledState): void {
    const now = new Set<string>();
    for (const [name, instance] of state.routingInstances) if (instance.message.router_external) now.add(name);
    for (const name of new Set([...now, ...this.#routedOut])) {
      if (now.has(name) && this.#routedOut.has(name)) continue;
      for (const host of state.hostsOf.get(name) ?? []) {
        const session = this.sessions.get(host);
        if (!session) continue;
        session.markRoutes(name, 'all');
        this.#dirty.add(session);
      }
    }
    this.#routedOut = now;
  }

  #portChanged(before: Port | undefined, after: Port | undefined): void {
    this.#markKeys(this.routes.portChanged(this.#state, before, after));
  }

  #markKeys(keys: RouteKey[]): void {
    const state = this.#state;
    for (const { routingInstance, prefix } of keys) {
      for (const carrier of state.carriers.get(routingInstance) ?? [routingInstance]) {
        for (const host of state.hostsOf.get(carrier) ?? []) {
          const session = this.sessions.get(host);
          if (!session) continue;
          session.markRoutes(carrier, prefix);
          this.#dirty.add(session);
        }
      }
    }
  }

  /**
   * The route `host` should have for `prefix` in `routingInstance`: its own first, then imported,
   * then, in a network routed to the outside, the gateways'.
   */
  route(
    host: string,
    routingInstance: string,
    prefix: string,
  ): { route: EncodedRoute; port: Port | GatewayRoute } | undefined {
    const instance = this.#state.routingInstances.get(routingInstance);
    if (!instance) return undefined;
    let origin = routingInstance;
    let port = this.routes.get(routingInstance, prefix);
    if (!port) {
      for (const imported of instance.imports) {
        port = this.routes.get(imported, prefix);
        if (port) {
          origin = imported;
          break;
        }
      }
    }
    if (!port) {
      const learnt = instance.message.router_external ? this.gatewayRoutes.get(prefix) : undefined;
      return learnt && { route: learnt.route, port: learnt };
    }
    if (port.host === host) return { route: this.#encodedRoute(port, prefix, LOCAL), port };
    const vni = this.#state.routingInstances.get(origin)?.vni ?? 0;
    return { route: this.#encodedRoute(port, prefix, vni), port };
  }

  /**
   * A route's bytes, made once per port, prefix and VNI (a tunnel, shared by every host that gets
   * it) or LOCAL (the port's own host, which gets it again after every reconnect).
   */
  #encodedRoute(port: Port, prefix: string, vni: number): EncodedRoute {
    let encoded = this.#encodedRoutes.get(port);
    if (!encoded) {
      encoded = [];
      this.#encodedRoutes.set(port, encoded);
    }
    for (const entry of encoded) if (entry.prefix === prefix && entry.vni === vni) return entry.bytes;
    const bytes = encodeRoute(
      vni === LOCAL
        ? { prefix, next_hop: { interface_uuid: port.interfaceUuid } }
        : { prefix, next_hop: { tunnel: { underlay_address: port.underlay, vni, mac: port.mac } } },
    );
    encoded.push({ prefix, vni, bytes });
    return bytes;
  }

  *prefixes(routingInstance: string): Iterable<string> {
    yield* this.routes.instance(routingInstance).keys();
    const instance = this.#state.routingInstances.get(routingInstance);
    for (const imported of instance?.imports ?? []) {
      yield* this.routes.instance(imported).keys();
    }
    if (instance?.message.router_external) yield* this.gatewayRoutes.prefixes();
  }

  countMessage(body: string): void {
    this.#messagesOut.inc({ body });
  }

  // ── sending ────────────────────────────────────────────────────────────────────────────

  /** Queues now what can be sent, once per turn of the event loop, for every marked session. */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const sessions = [...this.#dirty];
      this.#dirty.clear();
      for (const session of sessions) {
        session.flushRoutes();
        session.pump();
      }
    });
  }

  close(): void {
    clearTimeout(this.#gateTimer);
    for (const timer of this.#holdTimers.values()) clearTimeout(timer);
    for (const claims of this.#held.values()) for (const claim of claims.values()) clearTimeout(claim.grace);
    this.#holdTimers.clear();
    for (const session of this.sessions.values()) session.close(errors.SHUTTING_DOWN({}));
  }
}

function samePort(a: Port, b: Port): boolean {
  return (
    a.host === b.host &&
    a.underlay === b.underlay &&
    a.mac === b.mac &&
    a.hostIfname === b.hostIfname &&
    a.prefixes.join() === b.prefixes.join()
  );
}
