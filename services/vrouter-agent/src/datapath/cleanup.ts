// `weft-vrouter-agent cleanup`: removes everything the agent of one host put in the kernel —
// the XDP programs on devices of this network namespace, the pod veth pairs it served, and the
// pins (so the maps go too). It works from the kernel's own state, so it also cleans up after
// an agent that is gone. A program is this host's when it uses this host's pinned config map:
// several hosts (the netns lab) share one kernel, and each cleans up only its own.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRtNetlink } from 'netlink';
import { configMap } from '../maps/config.js';
import { Datapath } from './datapath.js';
import { loadNative } from './native.js';
import { detachXdp, type XdpMode } from './xdp.js';

const run = promisify(execFile);

export interface CleanupReport {
  /** Devices whose Weft XDP program was detached. */
  detached: string[];
  /** Pod veth pairs deleted (their host ends ran the pod-egress program). */
  deleted: string[];
}

/** Programs whose names start with this are Weft's. */
const WEFT_PROGRAM = 'weft_';

export async function cleanupHost(pinRoot: string): Promise<CleanupReport> {
  const native = loadNative();
  const report: CleanupReport = { detached: [], deleted: [] };
  const configPin = join(pinRoot, configMap.name);
  if (!existsSync(configPin)) {
    Datapath.removePins(pinRoot);
    return report;
  }
  const configFd = native.objGet(configPin);
  const configId = native.mapId(configFd);
  native.closeFd(configFd);
  const socket = createRtNetlink();
  try {
    const links = await socket.getLinks();
    for (const link of links) {
      const xdp = link.attrs.xdp;
      const id = xdp?.progId?.readUInt32LE(0) ?? 0;
      if (!id) continue;
      const program = native.programInfoById(id);
      if (!program?.name.startsWith(WEFT_PROGRAM) || !program.mapIds.includes(configId)) continue;
      const name = link.attrs.ifname ?? String(link.data.index);
      if (program.name === 'weft_pod_egress') {
        // The host end of a pod's veth: deleting it takes the pod end (and the pod's interface) too.
        await run('ip', ['link', 'del', 'dev', name]).catch(() => undefined);
        report.deleted.push(name);
        continue;
      }
      const attached = xdp?.attached;
      const mode: XdpMode = attached === 2 || attached === 'SKB' ? 'generic' : 'native';
      await detachXdp(link.data.index ?? 0, mode);
      report.detached.push(name);
    }
  } finally {
    socket.socket.close();
  }
  Datapath.removePins(pinRoot);
  return report;
}
