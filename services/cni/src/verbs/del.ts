// DEL: detach the container's interfaces at the agent and delete their host ends. Idempotent:
// it succeeds when the netns is gone, when the pod is unknown, and when called twice.
import { deleteHostInterface, hostIfnameFor } from '../pod-network.js';
import type { VerbContext } from './context.js';

export async function del(context: VerbContext): Promise<void> {
  const { netconf, agent, log } = context;
  const detached = await agent.detach(context.containerId, netconf.network ? context.ifname : '');
  const hostIfnames = new Set(detached.map((item) => item.host_ifname));
  // Interfaces made by an ADD that died before the agent heard of them are known only from
  // the previous result, or by the name this plugin would have given them.
  for (const item of netconf.prevResult?.interfaces ?? []) if (!item.sandbox) hostIfnames.add(item.name);
  hostIfnames.add(hostIfnameFor(context.containerId, context.ifname));
  for (const hostIfname of hostIfnames) await deleteHostInterface(hostIfname);
  log.info({ containerId: context.containerId, detached: detached.length }, 'deleted');
}
