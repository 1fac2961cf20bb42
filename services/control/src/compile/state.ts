// What compilation produces and the agent sessions read: routing instances, ACLs and interfaces
// by name, what each host needs, and which instances and hosts each instance's routes reach.
// The maps are kept up to date in place by the graph; the objects in them are never changed,
// only replaced, so a session that holds one can tell a change by identity.
import type { AccessControlList } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import type { CompiledInterface } from './interfaces.js';
import type { CompiledRoutingInstance } from './routing-instances.js';

export interface HostSet {
  interfaces: Set<string>;
  /** The routing instances its interfaces sit in. */
  routingInstances: Set<string>;
}

export interface CompiledState {
  /** Routing instances by name. */
  routingInstances: Map<string, CompiledRoutingInstance>;
  /** Network ACLs and per-interface security-group ACLs by name. */
  acls: Map<string, AccessControlList>;
  interfaces: Map<string, CompiledInterface>;
  /** What each host (virtual-router name) needs. */
  hosts: Map<string, HostSet>;
  /** For each routing instance, the instances whose tables carry its routes (itself included). */
  carriers: Map<string, Set<string>>;
  /** For each routing instance, the hosts with an interface in it. */
  hostsOf: Map<string, Set<string>>;
}

/** What one batch of config changes changed, for the sessions to send only that. */
export interface CompiledDelta {
  /** The first compile after start: every session gets everything. */
  first: boolean;
  /** Hosts whose config (interfaces, their instances and the ones they import, ACLs) changed. */
  hosts: Set<string>;
  /**
   * Instances whose routes must be recomputed at every host that carries them: "imports" when
   * what they import changed, "vni" when a tunnel next hop in them changed (resent in full).
   */
  routeContexts: Map<string, 'imports' | 'vni'>;
  /** Interfaces that moved between routing instances (or appeared, or went): their ports' routes move. */
  moved: Map<string, { before: string | undefined; after: string | undefined }>;
  /**
   * Interfaces whose routes config changed: they moved (as above), or their host binding or
   * their addresses changed. The routes of their ports are recomputed from config.
   */
  rerouted: Set<string>;
  /** Instances whose message, imports or hosts changed (for UVEs). */
  instances: Set<string>;
}

export function emptyState(): CompiledState {
  return {
    routingInstances: new Map(),
    acls: new Map(),
    interfaces: new Map(),
    hosts: new Map(),
    carriers: new Map(),
    hostsOf: new Map(),
  };
}

export function emptyDelta(first = false): CompiledDelta {
  return {
    first,
    hosts: new Set(),
    routeContexts: new Map(),
    moved: new Map(),
    rerouted: new Set(),
    instances: new Set(),
  };
}

/** The ACLs a host needs: its instances' network ACLs and its interfaces' security-group ACLs. */
export function hostAcls(state: CompiledState, host: string): Map<string, AccessControlList> {
  const acls = new Map<string, AccessControlList>();
  const set = state.hosts.get(host);
  for (const name of set?.routingInstances ?? []) {
    const aclName = state.routingInstances.get(name)?.message.acl_name;
    const acl = aclName ? state.acls.get(aclName) : undefined;
    if (acl) acls.set(aclName!, acl);
  }
  for (const uuid of set?.interfaces ?? []) {
    const acl = state.interfaces.get(uuid)?.acl;
    if (acl) acls.set(acl.name!, acl);
  }
  return acls;
}
