// DEL: detach the container's interfaces at the agent and delete their host ends. Idempotent:
// it succeeds when the netns is gone, when the pod is unknown, and when called twice. It never
// waits on the agent: an agent that cannot answer gets the deletion through the host's queue
// (delete-queue.ts), and the host ends are deleted here all the same.
import { queueDeletion } from '../delete-queue.js';
import { CniCode, CniError } from '../errors.js';
import { deleteHostInterface, hostIfnameFor } from '../pod-network.js';
import type { VerbContext } from './context.js';

export async function del(context: VerbContext): Promise<void> {
  const { netconf, agent, log } = context;
  const request = { container_id: context.containerId, ifname: netconf.network ? context.ifname : '' };
  let detached: Awaited<ReturnType<typeof agent.detach>> = [];
  try {
    detached = await agent.detach(request.container_id, request.ifname);
  } catch (error) {
    if (!(error instanceof CniError && error.code === CniCode.TRY_AGAIN_LATER)) throw error;
    const file = queueDeletion(netconf.deleteQueue, request);
    log.warn({ err: error, file }, 'the agent is unreachable; the deletion is queued for it');
  }
  const hostIfnames = new Set(detached.map((item) => item.host_ifname));
  // Interfaces made by an ADD that died before the agent heard of them (or whose agent is away)
  // are known only from the previous result, or by the name this plugin would have given them.
  for (const item of netconf.prevResult?.interfaces ?? []) if (!item.sandbox) hostIfnames.add(item.name);
  hostIfnames.add(hostIfnameFor(context.containerId, context.ifname));
  for (const hostIfname of hostIfnames) await deleteHostInterface(hostIfname);
  log.info({ containerId: context.containerId, detached: detached.length }, 'deleted');
}
