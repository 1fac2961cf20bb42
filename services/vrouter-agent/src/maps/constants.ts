// The numbers of bpf/lib/consts.h that user space reads or writes. The layout test compiles
// the C header and checks each one here against it.

export const MAX_INTERFACES = 4096;
export const MAX_VRFS = 4096;
export const MAX_HOST_ROUTES = 131072;
export const MAX_PREFIX_ROUTES = 16384;
export const MAX_ACLS = 4096;
export const MAX_ACL_RULES = 32;
export const MAX_FLOWS = 262144;
export const MAX_PEERS = 16384;
export const MAX_FLOATING_IPS = 16384;
export const MAX_SERVICES = 4096;
export const MAX_SERVICE_BACKENDS = 64;
export const VXLAN_PORT = 4789;
/** Outer Ethernet + IPv4 + UDP + VXLAN: what a pod's MTU must leave room for. */
export const VXLAN_ENCAP_LEN = 50;

/** enum weft_drop_reason: the index into weft_if_stats.drops. */
export const DropReason = {
  noRoute: 0,
  policy: 1,
  malformed: 2,
  mtu: 3,
  ttl: 4,
  noTxPort: 5,
  unknownVni: 6,
  unknownPeer: 7,
} as const;
export type DropReasonName = keyof typeof DropReason;
export const DROP_REASONS = 8;
export const DROP_REASON_NAMES = Object.keys(DropReason) as DropReasonName[];

/** enum weft_next_hop_kind */
export const NextHopKind = { none: 0, local: 1, tunnel: 2, receive: 3, outside: 4 } as const;

/** enum weft_action */
export const Action = { none: 0, pass: 1, deny: 2 } as const;

/** enum weft_flow_verdict */
export const FlowVerdict = { local: 1, tunnel: 2, decap: 3, drop: 4 } as const;

/** weft_if_info.flags */
export const IF_PORT_SECURITY = 0x1;

/** XDP verdicts, as BPF_PROG_TEST_RUN reports them (enum xdp_action). */
export const XdpAction = { aborted: 0, drop: 1, pass: 2, tx: 3, redirect: 4 } as const;
