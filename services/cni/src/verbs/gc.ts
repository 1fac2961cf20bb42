// GC: the agent drops every attachment the runtime no longer lists; their host ends go too.
import { deleteHostInterface } from '../pod-network.js';
import type { VerbContext } from './context.js';

export async function gc(context: Pick<VerbContext, 'netconf' | 'agent' | 'log'>): Promise<void> {
  const valid = context.netconf.validAttachments.map((item) => ({
    container_id: item.containerID,
    ifname: item.ifname,
  }));
  const removed = await context.agent.garbageCollect(valid);
  for (const item of removed) await deleteHostInterface(item.host_ifname);
  context.log.info({ removed: removed.length }, 'collected stale attachments');
}
