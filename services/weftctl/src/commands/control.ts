// weftctl agents and routes: the agents and the routing instances as control holds them
// (its introspection: GET /agents, /routing-instances, /routes).
import { errors } from '../errors.js';
import { request } from '../http.js';
import { age, type Column } from '../output/table.js';
import { resolveName, resolveType } from '../resources.js';
import type { Session } from '../session.js';
import { printRows } from './status.js';

interface AgentRecord {
  host: string;
  underlay: string;
  version: string;
  connected: boolean;
  since: number;
  holdUntil?: number;
  /** Past the hold time: headless, its routes kept as stale until staleUntil. */
  staleSince?: number;
  staleUntil?: number;
  interfaces: number;
  ports_up: number;
  stale_routes?: number;
  session?: {
    seq: number;
    acked: number;
    queue_depth: number;
    end_of_config_sent: boolean;
    end_of_routes_sent: boolean;
  };
}

export async function agents(session: Session): Promise<void> {
  const { agents: records } = await request<{ agents: AgentRecord[] }>(session.control, 'GET', '/agents');
  records.sort((a, b) => a.host.localeCompare(b.host));
  const wide = session.output === 'wide';
  const columns: Column<AgentRecord>[] = [
    { heading: 'HOST', value: (r) => r.host },
    {
      heading: 'CONNECTED',
      value: (r) =>
        r.connected
          ? 'yes'
          : r.staleUntil
            ? `no (headless: ${r.stale_routes ?? 0} routes stale ${age(Date.now() - (r.staleUntil - Date.now()))} more)`
            : r.holdUntil
              ? `no (held ${age(Date.now() - (r.holdUntil - Date.now()))} more)`
              : 'no',
      colour: (r) => (r.connected ? 'green' : 'red'),
    },
    { heading: 'UNDERLAY', value: (r) => r.underlay },
    { heading: 'INTERFACES', value: (r) => String(r.interfaces) },
    { heading: 'PORTS UP', value: (r) => String(r.ports_up) },
    {
      heading: 'SYNCED',
      value: (r) => (r.session?.end_of_routes_sent ? 'yes' : r.session?.end_of_config_sent ? 'config' : 'no'),
    },
    { heading: 'AGE', value: (r) => age(r.since) },
  ];
  if (wide) {
    columns.push(
      { heading: 'VERSION', value: (r) => r.version },
      { heading: 'SEQ/ACKED', value: (r) => (r.session ? `${r.session.seq}/${r.session.acked}` : '') },
      { heading: 'QUEUE', value: (r) => String(r.session?.queue_depth ?? '') },
    );
  }
  printRows(session, columns, records, { agents: records });
}

interface RoutingInstance {
  name: string;
  vrf_id: number;
  vni: number;
  routes: number;
  hosts: string[];
  imports: string[];
}

interface Route {
  prefix: string;
  origin_routing_instance: string;
  interface_uuid: string;
  host: string;
  next_hop: { tunnel?: { underlay_address: string; vni: number; mac: string } };
}

async function routingInstances(session: Session): Promise<RoutingInstance[]> {
  return (await request<{ routing_instances: RoutingInstance[] }>(session.control, 'GET', '/routing-instances'))
    .routing_instances;
}

/** A routing instance by its name, its VRF id, or its virtual network's name (short, or fq_name). */
async function instanceName(session: Session, vrf: string): Promise<string> {
  const instances = await routingInstances(session);
  if (/^\d+$/.test(vrf) || instances.some((instance) => instance.name === vrf)) return vrf;
  const network = await resolveName(
    session.configApi,
    resolveType(await session.configApi.types(), 'virtual-network'),
    vrf,
    session.project,
  );
  const prefix = `${network.fq_name.join(':')}:`;
  const found = instances.find(
    (instance) => instance.name.startsWith(prefix) && !instance.name.slice(prefix.length).includes(':'),
  );
  if (!found)
    throw errors.notFound(
      `a routing instance of network ${network.fq_name.join(':')} in control`,
      'control compiles one per network; is control running and synced?',
    );
  return found.name;
}

export async function routes(session: Session, vrf: string | undefined): Promise<void> {
  if (!vrf) {
    const instances = (await routingInstances(session)).sort((a, b) => a.name.localeCompare(b.name));
    printRows(
      session,
      [
        { heading: 'ROUTING INSTANCE', value: (r: RoutingInstance) => r.name },
        { heading: 'VRF', value: (r) => String(r.vrf_id) },
        { heading: 'VNI', value: (r) => String(r.vni) },
        { heading: 'ROUTES', value: (r) => String(r.routes) },
        { heading: 'HOSTS', value: (r) => r.hosts.join(',') },
        { heading: 'IMPORTS', value: (r) => r.imports.join(',') },
      ],
      instances,
      { routing_instances: instances },
    );
    return;
  }
  const answer = await request<{ routing_instance: string; vrf_id: number; routes: Route[] }>(
    session.control,
    'GET',
    '/routes',
    {
      query: { vrf: await instanceName(session, vrf) },
    },
  );
  printRows(
    session,
    [
      { heading: 'PREFIX', value: (r: Route) => r.prefix },
      { heading: 'HOST', value: (r) => r.host },
      {
        heading: 'NEXT HOP',
        value: (r) =>
          r.next_hop.tunnel ? `tunnel ${r.next_hop.tunnel.underlay_address} vni ${r.next_hop.tunnel.vni}` : 'local',
      },
      { heading: 'MAC', value: (r) => r.next_hop.tunnel?.mac ?? '' },
      {
        heading: 'ORIGIN',
        value: (r) => (r.origin_routing_instance === answer.routing_instance ? '' : r.origin_routing_instance),
      },
      { heading: 'INTERFACE', value: (r) => r.interface_uuid },
    ],
    answer.routes,
    answer,
  );
}
