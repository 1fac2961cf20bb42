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
import { detachXdp } from './xdp.js';

const run = promisify(execFile);

export interface CleanupReport {
  /** Devices whose Weft XDP program was detached. */
  detached: string[];
  /** Pod veth pairs (their host ends ran the pod-egress program) and the tunnel device, deleted. */
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
    const ours = (id: number) => {
      const program = id ? native.programInfoById(id) : null;
      return program?.name.startsWith(WEFT_PROGRAM) && program.mapIds.includes(configId) ? program : undefined;
    };
    for (const link of links) {
      const index = link.data.index ?? 0;
      const name = link.attrs.ifname ?? String(index);
      const xdp = link.attrs.xdp;
      const xdpProgram = ours(xdp?.progId?.readUInt32LE(0) ?? 0);
      const tcProgram = ours(native.tcQuery(index));
      const program = tcProgram ?? xdpProgram;
      if (!program) continue;
      // The host end of a pod's veth: deleting it takes the pod end (and the pod's interface)
      // too; the tunnel device is the agent's own.
      // (The kernel keeps 15 characters of a program's name: weft_tunnel_ingress_tc is weft_tunnel_ing.)
      if (program.name.startsWith('weft_pod_egress') || program.name.startsWith('weft_tunnel_ing')) {
        await run('ip', ['link', 'del', 'dev', name]).catch(() => undefined);
        report.deleted.push(name);
        continue;
      }
      if (tcProgram) native.tcDetach(index);
      if (xdpProgram) {
        const attached = xdp?.attached;
        await detachXdp(index, attached === 2 || attached === 'SKB' ? 'generic' : 'native');
      }
      report.detached.push(name);
    }
  } finally {
    socket.socket.close();
  }
  Datapath.removePins(pinRoot);
  return report;
}
