// weftctl flows: the flow records analytics holds (FlowRecordTable, as the agents export them
// from the datapath), for a time window, optionally of one network; --follow keeps asking for
// records newer than the last one shown until Ctrl-C.
import { request } from '../http.js';
import { Interrupt } from '../interrupt.js';
import { type Column, renderTable } from '../output/table.js';
import { resolveName, resolveType } from '../resources.js';
import type { Session } from '../session.js';

interface FlowRow {
  T: number;
  record_id: string;
  host: string;
  source_virtual_network: string;
  source_ip: string;
  source_port: number;
  destination_virtual_network: string;
  destination_ip: string;
  destination_port: number;
  protocol: number;
  action: string;
  packets: number;
  bytes: number;
}

const FIELDS: (keyof FlowRow)[] = [
  'T',
  'record_id',
  'host',
  'source_virtual_network',
  'source_ip',
  'source_port',
  'destination_virtual_network',
  'destination_ip',
  'destination_port',
  'protocol',
  'action',
  'packets',
  'bytes',
];

const PROTOCOLS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6' };
const FOLLOW_INTERVAL_MS = 2000;

const endpoint = (network: string, address: string, port: number, protocol: number) =>
  `${network.split(':').pop() ?? ''}/${address}${protocol === 6 || protocol === 17 ? `:${port}` : ''}`;

const COLUMNS: Column<FlowRow>[] = [
  { heading: 'TIME', value: (r) => new Date(r.T).toISOString().replace('T', ' ').slice(0, 19) },
  { heading: 'HOST', value: (r) => r.host },
  { heading: 'PROTO', value: (r) => PROTOCOLS[r.protocol] ?? String(r.protocol) },
  { heading: 'SOURCE', value: (r) => endpoint(r.source_virtual_network, r.source_ip, r.source_port, r.protocol) },
  {
    heading: 'DESTINATION',
    value: (r) => endpoint(r.destination_virtual_network, r.destination_ip, r.destination_port, r.protocol),
  },
  { heading: 'ACTION', value: (r) => r.action, colour: (r) => (r.action === 'deny' ? 'red' : undefined) },
  { heading: 'PACKETS', value: (r) => String(r.packets) },
  { heading: 'BYTES', value: (r) => String(r.bytes) },
];

export async function flows(
  session: Session,
  options: { since: string; network?: string; follow: boolean },
): Promise<void> {
  let where: { name: string; value: string; op: string }[][] | undefined;
  if (options.network) {
    const type = resolveType(await session.configApi.types(), 'virtual-network');
    const fqName = (await resolveName(session.configApi, type, options.network, session.project)).fq_name.join(':');
    where = ['source_virtual_network', 'destination_virtual_network'].map((name) => [
      { name, value: fqName, op: 'EQUAL' },
    ]);
  }
  const query = (start: string | number) =>
    request<{ value: FlowRow[] }>(session.analytics, 'POST', '/analytics/query', {
      body: {
        table: 'FlowRecordTable',
        start_time: start,
        end_time: 'now',
        select_fields: FIELDS,
        ...(where ? { where } : {}),
        sort_fields: ['T'],
        sort: 'asc',
      },
    });
  const structured = session.output === 'json' || session.output === 'yaml';
  const shown = new Set<string>();
  const show = (rows: FlowRow[], header: boolean) => {
    const fresh = rows.filter((row) => !shown.has(row.record_id));
    for (const row of fresh) shown.add(row.record_id);
    if (structured) {
      for (const row of fresh) session.print(JSON.stringify(row));
      return;
    }
    if (fresh.length === 0 && !header) return;
    const lines = renderTable(COLUMNS, fresh, session.terminal.colour).split('\n');
    process.stdout.write(`${(header ? lines : lines.slice(1)).join('\n').replace(/\n*$/, '\n')}`);
  };
  const interrupt = options.follow ? new Interrupt() : null;
  const first = (await query(`now-${options.since}`)).value;
  if (session.output === 'json' && !options.follow) {
    session.print(JSON.stringify(first, null, 2));
    return;
  }
  show(first, true);
  if (!interrupt) return;
  let last = first.at(-1)?.T ?? Date.now();
  while (!interrupt.interrupted) {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
    if (interrupt.interrupted) break;
    const rows = (await query(last)).value;
    show(rows, false);
    last = rows.at(-1)?.T ?? last;
  }
}
