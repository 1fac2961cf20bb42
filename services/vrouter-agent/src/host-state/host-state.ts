// The host's desired state, merged from every control replica's snapshot. Each replica alone
// can serve everything, so the view is the union of the live replicas whose snapshot is
// complete; when there is none (all replicas away, or resending), the last complete snapshots
// stay in force, so that a control restart withdraws nothing the datapath forwards on.
import { EventEmitter } from 'node:events';
import {
  type AccessControlList,
  HostSnapshot,
  type Interface,
  type NextHop,
  type RoutingInstance,
} from './snapshot.js';

export interface HostView {
  routingInstances: Map<string, RoutingInstance>;
  interfaces: Map<string, Interface>;
  acls: Map<string, AccessControlList>;
  routes: Map<string, Map<string, NextHop>>;
}

export class HostState extends EventEmitter<{ changed: [] }> {
  /** Per replica: the snapshot in force (complete), and the one being filled after a reconnect. */
  readonly #current = new Map<string, HostSnapshot>();
  readonly #pending = new Map<string, HostSnapshot>();
  /** Replicas whose session is up now. */
  readonly #live = new Set<string>();
  #everSynced = false;

  /** True once any replica has sent complete state: only then may the datapath be swept. */
  get synced(): boolean {
    return this.#everSynced;
  }

  /** A replica's session (re)started: it will resend everything into a fresh snapshot. */
  beginSync(replica: string): HostSnapshot {
    const snapshot = new HostSnapshot();
    this.#pending.set(replica, snapshot);
    this.#live.add(replica);
    return snapshot;
  }

  /** A replica's session ended: what it said stays in force until a live replica is complete. */
  endSession(replica: string): void {
    this.#live.delete(replica);
    this.#pending.delete(replica);
    this.emit('changed');
  }

  /** The snapshot a replica's messages go to now. */
  target(replica: string): HostSnapshot | undefined {
    return this.#pending.get(replica) ?? this.#current.get(replica);
  }

  /** Call after applying a message; swaps in a pending snapshot once it is complete. */
  settle(replica: string): void {
    const pending = this.#pending.get(replica);
    if (pending?.complete) {
      this.#pending.delete(replica);
      this.#current.set(replica, pending);
      this.#everSynced = true;
    }
    if (!pending || pending.complete) this.emit('changed');
  }

  /** The merged desired state. */
  view(): HostView {
    const view: HostView = { routingInstances: new Map(), interfaces: new Map(), acls: new Map(), routes: new Map() };
    const liveAndComplete = [...this.#current].filter(([replica]) => this.#live.has(replica));
    // A live, complete replica is the truth; only when there is none do stale snapshots hold.
    const sources =
      liveAndComplete.length > 0 ? liveAndComplete.map(([, snapshot]) => snapshot) : [...this.#current.values()];
    for (const snapshot of sources) {
      for (const [key, value] of snapshot.routingInstances)
        if (!view.routingInstances.has(key)) view.routingInstances.set(key, value);
      for (const [key, value] of snapshot.interfaces) if (!view.interfaces.has(key)) view.interfaces.set(key, value);
      for (const [key, value] of snapshot.acls) if (!view.acls.has(key)) view.acls.set(key, value);
      for (const [instance, table] of snapshot.routes) {
        const merged = view.routes.get(instance) ?? new Map<string, NextHop>();
        for (const [prefix, nextHop] of table) if (!merged.has(prefix)) merged.set(prefix, nextHop);
        view.routes.set(instance, merged);
      }
    }
    return view;
  }

  /** The interfaces of one pod, in the pod's order (the default network's first). */
  podInterfaces(match: { namespace: string; name: string; uid: string }): Interface[] {
    const podName = match.namespace ? `${match.namespace}/${match.name}` : match.name;
    return [...this.view().interfaces.values()]
      .filter(
        (item) =>
          (match.uid !== '' && item.virtual_machine_uuid === match.uid) ||
          (match.name !== '' && item.virtual_machine_name === podName),
      )
      .sort((a, b) => a.order - b.order || a.uuid.localeCompare(b.uuid));
  }
}
