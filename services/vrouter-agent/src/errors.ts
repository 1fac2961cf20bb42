// The vrouter-agent's one error catalog. Datapath errors say which field of which input was
// wrong, or which kernel call failed and why, so an operator can act without reading code.
import { defineErrors, GrpcStatus } from '@weft/kit';

export const errors = defineErrors({
  /** Bad input for the datapath: nothing was written. */
  INVALID_FIELD: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    message: (d: { field: string; reason: string }) => `${d.field}: ${d.reason}`,
  },
  /** The BPF datapath cannot run here (no toolchain at build time, no privileges, no bpffs). */
  DATAPATH_UNAVAILABLE: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    message: (d: { reason: string }) => `BPF datapath unavailable: ${d.reason}`,
  },
  /** A bpf() or netlink call failed; `operation` names it, the cause carries errno. */
  KERNEL_CALL_FAILED: {
    httpStatus: 500,
    grpcStatus: GrpcStatus.INTERNAL,
    message: (d: { operation: string; reason: string }) => `${d.operation} failed: ${d.reason}`,
  },
});
