// weftctl status: what runs and whether it is ready, from analytics' UVEs and alarms (every
// process that reports: the agents, analytics, control's parts) and each service's own readiness.
import { type Endpoint, request } from '../http.js';
import { toYaml } from '../output/objects.js';
import { age, type Column, renderTable } from '../output/table.js';
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
