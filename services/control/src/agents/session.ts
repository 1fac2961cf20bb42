// One agent's stream on this control replica: what the host has been sent, what it still needs
// (the outbox), sequence numbers and acknowledgements. The first sync is full config, then
// EndOfConfig, then every route of the host's routing instances, then EndOfRoutes; after that
// only differences. Nothing is ever withdrawn that is still true: differences are computed
// against what was sent, from complete compiled state.
import type { ControlMessage } from '@weft/proto/gen/weft/control/v1/ControlMessage.js';
import { type CompiledState, hostAcls } from '../compile/state.js';
import type { GatewayRoute } from '../routes/gateway-routes.js';
import type { Port } from '../routes/ports.js';
import { Outbox } from './outbox.js';
import { type EncodedRoute, encodeRouteUpdate } from './wire.js';

/** Messages sent and not yet acknowledged before the session waits for the agent. */
export const ACK_WINDOW = 16;

export interface AgentStream {
  /** false when the transport buffers are full: wait for onDrain. A Buffer is already encoded. */
  write(message: ControlMessage | Buffer): boolean;
  onDrain(callback: () => void): void;
  /** Ends the stream, with an error status when given. */
  end(error?: Error): void;
}

/** What a session asks of the hub that owns the shared state. */
export interface SessionContext {
  /**
   * The route the host should have for `prefix` in `routingInstance`, if any, and the port it
   * leads to: the same port is the same route unless the instance's context changed (a VNI).
   */
  /** The route and where it comes from: the port that originates it, or the gateway that offered it. */
  route(
    host: string,
    routingInstance: string,
    prefix: string,
  ): { route: EncodedRoute; port: Port | GatewayRoute } | undefined;
  /** Every prefix `routingInstance` carries (its own and imported). */
  prefixes(routingInstance: string): Iterable<string>;
  /** True when the routes every interface of this host needs are known (see hub.ts). */
  routesComplete(session: AgentSession): boolean;
  hostReported(session: AgentSession): void;
  countMessage(body: string): void;
}

const fingerprints = new WeakMap<object, string>();
function fingerprint(object: object): string {
  let text = fingerprints.get(object);
  if (text === undefined) {
    text = JSON.stringify(object);
    fingerprints.set(object, text);
  }
  return text;
}

/** The next message to send: routes are encoded by wire.ts, the rest by the gRPC library. */
type Next =
  | { body: 'config'; config: NonNullable<ControlMessage['config']> }
  | { body: 'end_of_config'; end_of_config: object }
  | { body: 'end_of_routes'; end_of_routes: object }
  | { body: 'routes'; routes: { routing_instance: string; add: EncodedRoute[]; withdraw: string[] } };

export class AgentSession {
  readonly connectedAt = Date.now();
  readonly outbox = new Outbox<EncodedRoute>();
  /** What the agent was sent (or has queued), by kind and key. */
  readonly #sentInstances = new Map<string, object>();
  readonly #sentInterfaces = new Map<string, object>();
  readonly #sentAcls = new Map<string, object>();
  /** Per routing instance, the port each route sent leads to (shared with the port table, so cheap). */
  readonly #sentRoutes = new Map<string, Map<string, Port | GatewayRoute>>();
  /** Routes to recompute: some prefixes, all of them, or all of them and resend each. */
  readonly #dirtyRoutes = new Map<string, Set<string> | 'all' | 'resend'>();
  #seq = 0;
  #acked = 0;
  #writable = true;
  #closed = false;
  #configSynced = false;
  #endOfConfigSeq = 0;
  #endOfRoutesSent = false;
  #reported = false;
  messagesOut = 0;

  constructor(
    readonly host: string,
    readonly underlay: string,
    readonly hasState: boolean,
    readonly version: string,
    private readonly stream: AgentStream,
    private readonly context: SessionContext,
  ) {}

  get seq(): number {
    return this.#seq;
  }
  get acked(): number {
    return this.#acked;
  }
  get endOfConfigSent(): boolean {
    return this.#endOfConfigSeq > 0;
  }
  get endOfRoutesSent(): boolean {
    return this.#endOfRoutesSent;
  }
  get reported(): boolean {
    return this.#reported;
  }
  get routingInstances(): ReadonlySet<string> {
    return new Set(this.#sentInstances.keys());
  }
  get hasDirtyRoutes(): boolean {
    return this.#dirtyRoutes.size > 0;
  }

  /** Queues the difference between the host's compiled config and what it was sent. */
  reconcileConfig(state: CompiledState): void {
    const host = state.hosts.get(this.host);
    const instances = new Map<string, object>();
    const interfaces = new Map<string, object>();
    const acls = new Map<string, object>();
    // The instances a host's interfaces sit in carry its routes; the ones they import from
    // are sent as config only, because the host's ACLs and tunnel next hops name them (their
    // VRF ids and VNIs), and a datapath that cannot resolve a rule denies.
    const referenced = new Map<string, object>();
    for (const name of host?.routingInstances ?? []) {
      const instance = state.routingInstances.get(name);
      if (!instance) continue;
      instances.set(name, instance.message);
      for (const imported of instance.imports) {
        const other = state.routingInstances.get(imported);
        if (other) referenced.set(imported, other.message);
      }
    }
    for (const uuid of host?.interfaces ?? []) {
      const compiled = state.interfaces.get(uuid);
      if (compiled) interfaces.set(uuid, compiled.message);
    }
    for (const [name, acl] of hostAcls(state, this.host)) acls.set(name, acl);
    this.#diff(
      new Map([...referenced, ...instances]),
      this.#sentInstances,
      this.outbox.routingInstances as Map<string, object | null>,
    );
    this.#diff(acls, this.#sentAcls, this.outbox.acls as Map<string, object | null>);
    this.#diff(interfaces, this.#sentInterfaces, this.outbox.interfaces as Map<string, object | null>);

    // Routes follow the instances: a new instance gets all of its routes, a gone one none.
    for (const name of instances.keys()) if (!this.#sentRoutes.has(name)) this.markRoutes(name, 'all');
    for (const name of [...this.#sentRoutes.keys()]) {
      if (!instances.has(name)) {
        this.#sentRoutes.delete(name);
        this.#dirtyRoutes.delete(name);
        this.outbox.dropRoutes(name);
      }
    }
  }

  #diff(desired: Map<string, object>, sent: Map<string, object>, outbox: Map<string, object | null>): void {
    for (const [key, value] of desired) {
      const before = sent.get(key);
      // The same object (compilation reuses what did not change) needs no look inside; an
      // equal one compiled anew is not sent again either.
      if (before === value) continue;
      sent.set(key, value);
      if (before !== undefined && fingerprint(before) === fingerprint(value)) continue;
      outbox.set(key, value);
    }
    for (const key of [...sent.keys()]) {
      if (!desired.has(key)) {
        sent.delete(key);
        outbox.set(key, null);
      }
    }
  }

  /**
   * Marks routes to recompute at the next flush ("resend": all, sent again even when they lead
   * to the same port); ignored for instances the host lacks.
   */
  markRoutes(routingInstance: string, prefix: string | 'all' | 'resend'): void {
    if (!this.#sentInstances.has(routingInstance)) return;
    if (!this.#sentRoutes.has(routingInstance)) this.#sentRoutes.set(routingInstance, new Map());
    const dirty = this.#dirtyRoutes.get(routingInstance);
    if (prefix === 'all' || prefix === 'resend') {
      if (dirty !== 'resend') this.#dirtyRoutes.set(routingInstance, prefix);
    } else if (dirty === undefined) this.#dirtyRoutes.set(routingInstance, new Set([prefix]));
    else if (typeof dirty !== 'string') dirty.add(prefix);
  }

  /** Turns marked routes into outbox entries: adds, replacements and withdrawals. */
  flushRoutes(): void {
    for (const [routingInstance, dirty] of this.#dirtyRoutes) {
      const sent = this.#sentRoutes.get(routingInstance);
      if (!sent) continue;
      const whole = dirty === 'all' || dirty === 'resend';
      const prefixes = whole ? new Set([...sent.keys(), ...this.context.prefixes(routingInstance)]) : dirty;
      for (const prefix of prefixes) {
        const desired = this.context.route(this.host, routingInstance, prefix);
        const before = sent.get(prefix);
        if (desired) {
          if (before === desired.port && dirty !== 'resend') continue;
          sent.set(prefix, desired.port);
          this.outbox.putRoute(routingInstance, prefix, desired.route);
        } else if (before !== undefined) {
          sent.delete(prefix);
          this.outbox.putRoute(routingInstance, prefix, null);
        }
      }
    }
    this.#dirtyRoutes.clear();
  }

  routeCount(routingInstance: string): number {
    return this.#sentRoutes.get(routingInstance)?.size ?? 0;
  }

  /** Config is known (the feed has listed): from now on the session may send. */
  startSync(): void {
    this.#configSynced = true;
  }

  /** Writes what it can without overrunning the transport or the agent's acknowledgements. */
  pump(): void {
    if (!this.#configSynced) return;
    while (!this.#closed && this.#writable && this.#seq - this.#acked < ACK_WINDOW) {
      const next = this.#next();
      if (!next) return;
      this.#seq += 1;
      this.messagesOut += 1;
      this.context.countMessage(next.body);
      if (next.body === 'end_of_config') this.#endOfConfigSeq = this.#seq;
      if (next.body === 'end_of_routes') this.#endOfRoutesSent = true;
      const message = next.body === 'routes' ? encodeRouteUpdate(this.#seq, next.routes) : { seq: this.#seq, ...next };
      this.#writable = this.stream.write(message);
      if (!this.#writable) {
        this.stream.onDrain(() => {
          this.#writable = true;
          this.pump();
        });
      }
    }
  }

  #next(): Next | undefined {
    if (this.outbox.hasConfig) return { body: 'config', config: this.outbox.takeConfig() };
    if (!this.endOfConfigSent) return { body: 'end_of_config', end_of_config: {} };
    const routes = this.outbox.takeRoutes();
    if (routes) return { body: 'routes', routes };
    if (!this.#endOfRoutesSent && this.#dirtyRoutes.size === 0 && this.context.routesComplete(this)) {
      return { body: 'end_of_routes', end_of_routes: {} };
    }
    return undefined;
  }

  ack(seq: number): void {
    if (seq <= this.#acked || seq > this.#seq) return;
    this.#acked = seq;
    if (!this.#reported && this.#endOfConfigSeq > 0 && seq >= this.#endOfConfigSeq) {
      this.#reported = true;
      this.context.hostReported(this);
    }
    this.pump();
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stream.end(error);
  }
}
