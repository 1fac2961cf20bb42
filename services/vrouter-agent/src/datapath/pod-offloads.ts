// The offloads the pod's end of an interface needs in each datapath mode, and setting them from
// the pod's network namespace. One table, by ethtool's feature names, so that what the agent
// sets and what the lab test reads back are the same thing.
//
// tc: the TC programs route a 64 KB GSO packet once and leave its partial checksum for the
//     kernel to complete, so TX checksum offload, TSO and GSO stay on. (Pods with TX checksum
//     offload off lose TSO with it: TCP ran at 0.27x of Linux on one host and 0.17x across hosts.)
// xdp: XDP handles one frame at a time and an XDP_REDIRECT never completes a partial checksum,
//     so the pod must send full checksums: TX checksum offload off, which takes TSO with it (the
//     kernel turns segmentation off without checksum offload). GSO still cuts packets in the
//     pod's own stack, in software, before they reach the datapath. GRO on, for delivery.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { errors } from '../errors.js';
import type { DatapathMode } from './host-datapath.js';

const run = promisify(execFile);

/** Feature (as `ethtool -k` names it) → on or off, per mode. */
export const POD_OFFLOADS: Record<DatapathMode, Readonly<Record<string, boolean>>> = {
  tc: {
    'tx-checksum-ip-generic': true,
    'tx-tcp-segmentation': true,
    'tx-tcp6-segmentation': true,
    'generic-segmentation-offload': true,
  },
  xdp: {
    'tx-checksum-ip-generic': false,
    'tx-tcp-segmentation': false,
    'tx-tcp6-segmentation': false,
    'generic-segmentation-offload': true,
    // A veth delivers what XDP redirects into it only when its receiving end runs XDP or GRO:
    // the agent attaches weft_pass, and GRO covers a device where it lands in generic mode.
    'generic-receive-offload': true,
  },
};

/** Sets the pod end's offloads for the mode (checksum first: segmentation needs it). */
export async function setPodOffloads(netns: string, ifname: string, mode: DatapathMode): Promise<void> {
  const wanted = Object.entries(POD_OFFLOADS[mode]).flatMap(([feature, on]) => [feature, on ? 'on' : 'off']);
  try {
    await run('nsenter', [`--net=${netns}`, 'ethtool', '-K', ifname, ...wanted]);
  } catch (cause) {
    const reason = (cause as { stderr?: string }).stderr?.trim() || (cause as Error).message;
    throw errors.KERNEL_CALL_FAILED(
      { operation: `set the offloads of ${ifname} in ${netns} for ${mode} mode`, reason },
      { cause },
    );
  }
}

/** What the pod end has now: each feature of the mode's table, active or not. */
export async function podOffloads(netns: string, ifname: string, mode: DatapathMode): Promise<Record<string, boolean>> {
  const { stdout } = await run('nsenter', [`--net=${netns}`, 'ethtool', '--json', '-k', ifname]);
  const [features] = JSON.parse(stdout) as Record<string, { active?: boolean }>[];
  return Object.fromEntries(Object.keys(POD_OFFLOADS[mode]).map((name) => [name, features?.[name]?.active === true]));
}
