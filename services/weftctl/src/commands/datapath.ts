// weftctl datapath --host NAME: one agent's datapath as its BPF maps hold it (GET /datapath on
// the agent): interfaces with counters, routing instances, routes with next hops, and drops by
// reason, per device and in total.
import { agentOfHost } from '../api/agents.js';
import { request } from '../http.js';
import { toYaml } from '../output/objects.js';
import { type Column, renderTable } from '../output/table.js';
import type { Session } from '../session.js';

interface Counters {
  rx_packets: number;
  tx_local: number;
  tx_tunnel: number;
  to_host: number;
  drops: Record<string, number>;
}

export interface DatapathAnswer {
  host: string;
  mode: string;
  interfaces: {
    device: string;
    pod: string;
    name: string;
    addresses: string[];
    routing_instance: string;
    security_group_acl: string;
    counters?: Counters;
  }[];
  vrfs: { vrf_id: number; routing_instance: string; vni: number; policy_acl: string }[];
  routes: {
    routing_instance: string;
    vrf_id: number;
    prefix: string;
    next_hop: { kind: string; remote?: string; vni?: number; ifindex?: number; mac?: string };
  }[];
  devices: { device: string; ifindex: number; counters?: Counters }[];
  drops: Record<string, number>;
}

const dropsOf = (counters?: Counters) =>
  Object.entries(counters?.drops ?? {})
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${reason}=${count}`)
    .join(',');

export async function datapath(session: Session, host: string): Promise<void> {
  const agent = await agentOfHost(session, host);
  const answer = await request<DatapathAnswer>(session.agent(host, agent.url), 'GET', '/datapath');
  if (session.output === 'json') return session.print(JSON.stringify(answer, null, 2));
  if (session.output === 'yaml') return session.print(toYaml(answer));
  const colour = session.terminal.colour;
  const interfaces: Column<DatapathAnswer['interfaces'][number]>[] = [
    { heading: 'DEVICE', value: (i) => i.device },
    { heading: 'POD', value: (i) => (i.pod ? `${i.pod} ${i.name}` : '') },
    { heading: 'ADDRESSES', value: (i) => i.addresses.join(',') },
    { heading: 'ROUTING INSTANCE', value: (i) => i.routing_instance },
    { heading: 'RX', value: (i) => String(i.counters?.rx_packets ?? 0) },
    { heading: 'TX LOCAL', value: (i) => String(i.counters?.tx_local ?? 0) },
    { heading: 'TX TUNNEL', value: (i) => String(i.counters?.tx_tunnel ?? 0) },
    { heading: 'DROPS', value: (i) => dropsOf(i.counters), colour: (i) => (dropsOf(i.counters) ? 'red' : undefined) },
  ];
  const routes: Column<DatapathAnswer['routes'][number]>[] = [
    { heading: 'ROUTING INSTANCE', value: (r) => r.routing_instance || String(r.vrf_id) },
    { heading: 'PREFIX', value: (r) => r.prefix },
    {
      heading: 'NEXT HOP',
      value: (r) =>
        r.next_hop.kind === 'tunnel'
          ? `tunnel ${r.next_hop.remote} vni ${r.next_hop.vni}`
          : r.next_hop.kind === 'local'
            ? `local ifindex ${r.next_hop.ifindex}`
            : r.next_hop.kind,
    },
    { heading: 'MAC', value: (r) => r.next_hop.mac ?? '' },
  ];
  const vrfs: Column<DatapathAnswer['vrfs'][number]>[] = [
    { heading: 'ROUTING INSTANCE', value: (v) => v.routing_instance },
    { heading: 'VRF', value: (v) => String(v.vrf_id) },
    { heading: 'VNI', value: (v) => String(v.vni) },
    { heading: 'POLICY ACL', value: (v) => v.policy_acl },
  ];
  const drops = Object.entries(answer.drops).map(([reason, packets]) => ({ reason, packets }));
  const dropColumns: Column<(typeof drops)[number]>[] = [
    { heading: 'DROP REASON', value: (d) => d.reason },
    { heading: 'PACKETS', value: (d) => String(d.packets), colour: (d) => (d.packets > 0 ? 'red' : undefined) },
  ];
  session.print(
    [
      `host ${answer.host} (${answer.mode} datapath)`,
      '',
      renderTable(interfaces, answer.interfaces, colour),
      renderTable(vrfs, answer.vrfs, colour),
      renderTable(routes, answer.routes, colour),
      renderTable(dropColumns, drops, colour),
    ].join('\n'),
  );
}
