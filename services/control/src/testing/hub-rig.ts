// An AgentHub over a real compilation graph of an in-memory store, with agent sessions whose
// stream goes nowhere: for tests of what the hub believes of agents and which routes it makes.
import { createLogger, createMetrics } from '@weft/kit';
import type { PortStatus, PortStatus__Output } from '@weft/proto/gen/weft/control/v1/PortStatus.js';
import { AgentHub } from '../agents/hub.js';
import { AgentSession } from '../agents/session.js';
import { CompilationGraph } from '../compile/graph.js';
import { storeOf } from './fixtures.js';

/** A port-up as an agent sends it. */
export function portUp(uuid: string, addresses: string[], mac: string, hostIfname = 'veth-x'): PortStatus__Output {
  const status: PortStatus = { interface_uuid: uuid, state: 'PORT_STATE_UP', mac, addresses, host_ifname: hostIfname };
  return status as PortStatus__Output;
}

/** A port-down as an agent sends it. */
export function portDown(uuid: string): PortStatus__Output {
  return { ...portUp(uuid, [], ''), state: 'PORT_STATE_DOWN' } as PortStatus__Output;
}

export interface HubRigOptions {
  /** The objects in the store before the first compile. */
  objects: Parameters<typeof storeOf>[0];
  /** Names the rig's metrics, apart from other rigs'. */
  name: string;
  claimGraceMs?: number;
  onAgentChange?: (host: string) => void;
}

export function hubRig({ objects, name, claimGraceMs = 0, onAgentChange }: HubRigOptions) {
  const store = storeOf(objects);
  const graph = new CompilationGraph(store);
  const metrics = createMetrics(name);
  const hub = new AgentHub({
    holdTimeMs: 60_000,
    logger: createLogger({ service: 'control-test', level: 'silent' }),
    metrics,
    onAgentChange,
    claimGraceMs,
  });
  /** A connected agent of `host`. */
  const session = (host: string, underlay: string) => {
    const stream = { write: () => true, onDrain: () => {}, end: () => {} };
    const made = new AgentSession(host, underlay, false, 'test', stream, hub);
    hub.attach(made);
    return made;
  };
  /** Hands the hub what the store's changes since the last call compiled to. */
  const compile = () => hub.apply(graph.state, graph.flush());
  /** Port claims refused so far, for one reason or all. */
  const refused = async (reason?: string) => {
    const metric = await metrics.registry.getSingleMetric(`${metrics.prefix}port_claims_refused_total`)?.get();
    const values = metric?.values.filter((value) => reason === undefined || value.labels.reason === reason) ?? [];
    return values.reduce((sum, value) => sum + value.value, 0);
  };
  /** The routes of a routing instance, as "prefix host interface", sorted. */
  const routes = (instance: string) =>
    [...hub.routes.instance(instance)].map(([prefix, port]) => `${prefix} ${port.host} ${port.interfaceUuid}`).sort();
  return { store, hub, session, compile, refused, routes };
}
