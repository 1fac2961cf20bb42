// Attaching XDP programs to devices, through rtnetlink (IFLA_XDP) with the netlink package.
import { createRtNetlink } from 'netlink';
import { errors } from '../errors.js';

/** native: in the driver (veth and most NICs have it); generic: in the stack, for any device. */
export type XdpMode = 'native' | 'generic';

const XDP_FLAGS_SKB_MODE = 1 << 1;
const XDP_FLAGS_DRV_MODE = 1 << 2;

function int32(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeInt32LE(value);
  return buf;
}

async function setXdp(ifindex: number, fd: number, mode: XdpMode, operation: string): Promise<void> {
  const socket = createRtNetlink();
  try {
    const flags = mode === 'native' ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    await socket.setLink({ index: ifindex }, { xdp: { fd: int32(fd), flags: int32(flags) } });
  } catch (cause) {
    throw errors.KERNEL_CALL_FAILED({ operation, reason: (cause as Error).message }, { cause });
  } finally {
    socket.socket.close();
  }
}

/** Attaches (or atomically replaces) the XDP program of a device. */
export function attachXdp(ifindex: number, programFd: number, mode: XdpMode = 'native'): Promise<void> {
  return setXdp(ifindex, programFd, mode, `attach XDP program to ifindex ${ifindex}`);
}

/** Detaches the XDP program of a device; a device without one is left as it is. */
export function detachXdp(ifindex: number, mode: XdpMode = 'native'): Promise<void> {
  return setXdp(ifindex, -1, mode, `detach XDP program from ifindex ${ifindex}`);
}

/** The id of the XDP program attached to a device, or 0. */
export async function attachedXdpProgram(ifindex: number): Promise<number> {
  const socket = createRtNetlink();
  try {
    const [link] = await socket.getLink({ index: ifindex });
    const id = link?.attrs.xdp?.progId;
    return id ? id.readUInt32LE(0) : 0;
  } finally {
    socket.socket.close();
  }
}
