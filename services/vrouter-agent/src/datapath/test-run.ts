// BPF_PROG_TEST_RUN for XDP programs: the kernel runs the real program on a packet we give it,
// against the real maps, and returns the verdict, the packet as the program left it, and the
// mean time per run. Used by the datapath tests and the benchmark.
import type { NativeBpf } from './native.js';

export interface XdpTestRun {
  /** enum xdp_action: see XdpAction in src/maps/constants.ts. */
  verdict: number;
  /** The packet after the program: rewritten, encapsulated or decapsulated. */
  packet: Buffer;
  /** Mean nanoseconds per run over `repeat`, as the kernel measured it. */
  durationNs: number;
}

export interface XdpTestRunOptions {
  repeat?: number;
  /** The device the packet "arrived" on (xdp_md.ingress_ifindex); it must exist. */
  ingressIfindex?: number;
}

/** struct xdp_md as test runs take it: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex. */
function xdpContext(length: number, ingressIfindex: number): Buffer {
  const ctx = Buffer.alloc(24);
  ctx.writeUInt32LE(0, 0);
  ctx.writeUInt32LE(length, 4);
  ctx.writeUInt32LE(ingressIfindex, 12);
  return ctx;
}

/** Room for what a program may add in front (VXLAN is 50 bytes) and a little more. */
const HEADROOM = 256;

export function runXdp(
  native: NativeBpf,
  programFd: number,
  packet: Buffer,
  options: XdpTestRunOptions = {},
): XdpTestRun {
  const ctx = options.ingressIfindex ? xdpContext(packet.length, options.ingressIfindex) : null;
  const result = native.testRun(programFd, packet, options.repeat ?? 1, ctx, packet.length + HEADROOM);
  return { verdict: result.retval, packet: result.data, durationNs: result.duration };
}

/** TC verdicts (TC_ACT_*), as BPF_PROG_TEST_RUN reports them. */
export const TcAction = { ok: 0, shot: 2, redirect: 7 } as const;

/** struct __sk_buff (linux/bpf.h) as test runs take it: the fields set here, checked by the layout test. */
export const skbContextLayout = {
  struct: '__sk_buff',
  size: 192,
  offsets: { ingress_ifindex: 36, ifindex: 40 },
} as const;

/** Runs a TC program on one packet, as if it arrived on `ingressIfindex` (which must exist). */
export function runTc(native: NativeBpf, programFd: number, packet: Buffer, ingressIfindex: number): XdpTestRun {
  const ctx = Buffer.alloc(skbContextLayout.size);
  ctx.writeUInt32LE(ingressIfindex, skbContextLayout.offsets.ingress_ifindex);
  ctx.writeUInt32LE(ingressIfindex, skbContextLayout.offsets.ifindex);
  const result = native.testRun(programFd, packet, 1, ctx, packet.length + HEADROOM);
  return { verdict: result.retval, packet: result.data, durationNs: result.duration };
}
