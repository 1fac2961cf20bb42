// Where the agents are: each agent reports its introspection URL and underlay address in its
// vrouter UVE, so weftctl finds any host's agent through analytics, with no list of hosts.

import type { Uve } from '../commands/status.js';
import { errors } from '../errors.js';
import { request } from '../http.js';
import type { Session } from '../session.js';

export interface AgentLocation {
  host: string;
  url: string;
  underlay: string;
}

function locate(uve: Pick<Uve, 'name' | 'value'>): AgentLocation | undefined {
  const url = uve.value.introspect_url;
  if (typeof url !== 'string') return undefined;
  return { host: uve.name, url, underlay: String(uve.value.underlay_address ?? '') };
}

export async function agentOfHost(session: Session, host: string): Promise<AgentLocation> {
  let uve: Uve;
  try {
    uve = await request<Uve>(session.analytics, 'GET', `/analytics/uves/vrouter/${encodeURIComponent(host)}`);
  } catch (error) {
    if ((error as { code?: string }).code === 'NOT_FOUND' || (error as { exitCode?: number }).exitCode === 3) {
      throw errors.notFound(
        `agent of host "${host}"`,
        '`weftctl status` lists the agents that report; is its agent running?',
      );
    }
    throw error;
  }
  const found = locate(uve);
  if (!found)
    throw errors.notFound(
      `the introspection address of host "${host}" in its UVE`,
      'its agent reports it once it runs this version',
    );
  return found;
}

export async function agentOfUnderlay(session: Session, address: string): Promise<AgentLocation> {
  const uves = await request<Uve[]>(session.analytics, 'GET', '/analytics/uves/vrouters', { query: { flat: '' } });
  const found = uves.map(locate).find((agent) => agent?.underlay === address);
  if (!found)
    throw errors.notFound(`an agent with underlay address ${address}`, '`weftctl status` lists the agents that report');
  return found;
}
