// weftctl status, agents and routes: what runs and whether it is ready, from analytics' UVEs and
// alarms (every process that reports: the agents, analytics, control's parts) and each service's
// own readiness; the agents and routes as control holds them.
import { errors } from '../errors.js';
import { type Endpoint, request } from '../http.js';
import { toYaml } from '../output/objects.js';
import { age, type Column, renderTable } from '../output/table.js';
import { resolveName, resolveType } from '../resources.js';
import type { Session } from '../session.js';

interface UveSource {
  source: string;
  stale: boolean;
  last_seen_ms: number;
}

export interface Uve {
  type: string;
  name: string;
  value: Record<string, unknown>;
  sources: UveSource[];
  stale: boolean;
  alarms?: Alarm[];
}

interface Alarm {
  rule: string;
  severity: string;
  type: string;
  name: string;
  source?: string;
  description: string;
}

export interface StatusRow {
  kind: string;
  name: string;
  ready: boolean;
  why: string;
}

/** Every UVE of every type, in full. */
export async function allUves(analytics: Endpoint): Promise<Uve[]> {
  const types = await request<Record<string, unknown>>(analytics, 'GET', '/analytics/uve-types');
  const uves: Uve[] = [];
  for (const type of Object.keys(types).sort()) {
    const list = await request<Uve[]>(analytics, 'GET', `/analytics/uves/${type}s`, { query: { flat: '' } });
    uves.push(...list.map((uve) => ({ ...uve, type })));
  }
  return uves;
}

async function readiness(endpoint: Endpoint): Promise<StatusRow> {
  try {
    await request(endpoint, 'GET', '/readyz', { timeoutMs: 5000 });
    return { kind: 'service', name: `${endpoint.service} ${endpoint.url}`, ready: true, why: '' };
  } catch (error) {
    return {
      kind: 'service',
      name: `${endpoint.service} ${endpoint.url}`,
      ready: false,
      why: (error as Error).message,
    };
  }
}

function agentRow(uve: Uve): StatusRow {
  const why: string[] = [];
  const value = uve.value;
  if (uve.stale) why.push(`no report since ${age(Math.max(...uve.sources.map((s) => s.last_seen_ms)))} ago`);
  if (value.control_connected === false) why.push('no session with control');
  if (value.synced === false) why.push('not synced with control');
  for (const alarm of uve.alarms ?? []) why.push(`alarm ${alarm.rule}: ${alarm.description}`);
  return { kind: 'agent', name: uve.name, ready: why.length === 0, why: [...new Set(why)].join('; ') };
}

/** The parts of the system and whether each is ready, with the reason when not. */
export async function statusRows(session: Session): Promise<StatusRow[]> {
  const rows: StatusRow[] = [];
  for (const endpoint of [session.configApi.endpoint, session.control, session.analytics])
    rows.push(await readiness(endpoint));
  const uves = await allUves(session.analytics).catch(() => undefined);
  if (!uves) return rows;
  const { alarms } = await request<{ alarms: Alarm[] }>(session.analytics, 'GET', '/analytics/alarms');
  // Every process that reports to analytics, by its source name (<service>:<host>).
  const sources = new Map<string, UveSource>();
  for (const uve of uves) {
    for (const source of uve.sources) {
      const known = sources.get(source.source);
      if (!known || source.last_seen_ms > known.last_seen_ms) sources.set(source.source, source);
    }
  }
  for (const [name, source] of [...sources].sort(([a], [b]) => a.localeCompare(b))) {
    const why = alarms
      .filter((alarm) => alarm.source === name && alarm.type !== 'vrouter')
      .map((alarm) => `alarm ${alarm.rule}: ${alarm.description}`);
    if (source.stale) why.unshift(`no report since ${age(source.last_seen_ms)} ago`);
    rows.push({ kind: 'reporter', name, ready: why.length === 0, why: [...new Set(why)].join('; ') });
  }
  for (const uve of uves.filter((item) => item.type === 'vrouter')) rows.push(agentRow(uve));
  const shown = new Set(rows.map((row) => row.name));
  for (const alarm of alarms) {
    const name = `${alarm.type}/${alarm.name}`;
    if (alarm.type === 'vrouter' || shown.has(name) || (alarm.source && shown.has(alarm.source))) continue;
    rows.push({ kind: 'alarm', name, ready: false, why: `${alarm.rule}: ${alarm.description}` });
  }
  return rows;
}

const STATUS_COLUMNS: Column<StatusRow>[] = [
  { heading: 'KIND', value: (row) => row.kind },
  { heading: 'NAME', value: (row) => row.name },
  { heading: 'READY', value: (row) => (row.ready ? 'yes' : 'no'), colour: (row) => (row.ready ? 'green' : 'red') },
  { heading: 'WHY', value: (row) => row.why },
];

export function printRows<Row>(session: Session, columns: Column<Row>[], rows: Row[], raw: unknown = rows): void {
  if (session.output === 'json') session.print(JSON.stringify(raw, null, 2));
  else if (session.output === 'yaml') session.print(toYaml(raw));
  else process.stdout.write(renderTable(columns, rows, session.terminal.colour));
}

/** Exit code 8 when a part is not ready. */
export async function status(session: Session): Promise<number> {
  const rows = await statusRows(session);
  printRows(session, STATUS_COLUMNS, rows);
  return rows.every((row) => row.ready) ? 0 : 8;
}

interface AgentRecord {
  host: string;
  underlay: string;
  version: string;
  connected: boolean;
  since: number;
  holdUntil?: number;
  interfaces: number;
  ports_up: number;
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
        r.connected ? 'yes' : r.holdUntil ? `no (held ${age(Date.now() - (r.holdUntil - Date.now()))} more)` : 'no',
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
