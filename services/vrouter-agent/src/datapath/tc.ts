// Attaching TC programs (ingress hook, clsact) to devices, through libbpf in the addon.
import { errors } from '../errors.js';
import type { NativeBpf } from './native.js';

/** The host's VXLAN device in external mode, which encapsulates for the TC datapath. */
export const TUNNEL_DEVICE = 'weft-vxlan';

function kernelCall<T>(operation: string, call: () => T): T {
  try {
    return call();
  } catch (cause) {
    throw errors.KERNEL_CALL_FAILED({ operation, reason: (cause as Error).message }, { cause });
  }
}

/** Attaches (or replaces in place) the program at a device's TC ingress hook. */
export function attachTcIngress(native: NativeBpf, ifindex: number, programFd: number): void {
  kernelCall(`attach TC program to ifindex ${ifindex}`, () => native.tcAttach(ifindex, programFd));
}

export function detachTcIngress(native: NativeBpf, ifindex: number): void {
  kernelCall(`detach TC program from ifindex ${ifindex}`, () => native.tcDetach(ifindex));
}

/** The id of the program at a device's TC ingress hook, or 0. */
export function tcIngressProgram(native: NativeBpf, ifindex: number): number {
  return native.tcQuery(ifindex);
}
