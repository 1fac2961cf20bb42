/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Constants of the Weft datapath: map sizes, protocol numbers, and the enums that user space
 * reads back (drop reasons, next-hop kinds, actions). The TypeScript side mirrors every enum in
 * src/maps/; keep the numbers stable, a new value goes at the end. */
#ifndef WEFT_CONSTS_H
#define WEFT_CONSTS_H

/* Map sizes. A host runs a few hundred pods; routes cover every port of every network the
 * host has an interface in, so they get the most room. */
#define WEFT_MAX_INTERFACES 4096
#define WEFT_MAX_VRFS 4096
#define WEFT_MAX_HOST_ROUTES 131072
#define WEFT_MAX_PREFIX_ROUTES 16384
#define WEFT_MAX_ACLS 4096
/* Rules are walked in order for the first packet of a flow only (conntrack carries the rest),
 * so a short linear list is cheaper than a classifier. Longer ACLs are refused by the agent. */
#define WEFT_MAX_ACL_RULES 32
#define WEFT_MAX_FLOWS 262144
/* Floating addresses of the ports of this host (1:1 NAT, lib/nat.h). */
#define WEFT_MAX_FLOATING_IPS 16384
/* Services (virtual IPs balanced over backends, lib/service.h): the (address, port, protocol)
 * of every service of this host's routing instances, and the ready backends of each, held in
 * the service's own entry so that one map update replaces the whole set. */
#define WEFT_MAX_SERVICES 4096
#define WEFT_MAX_SERVICE_BACKENDS 64
/* Other hosts this one exchanges tunnels with. */
#define WEFT_MAX_PEERS 16384
#define WEFT_FLOW_SAMPLE_RING_BYTES (256 * 1024)

#define WEFT_ETH_ALEN 6
#define WEFT_ETH_P_IP 0x0800
#define WEFT_ETH_P_IPV6 0x86DD
#define WEFT_ETH_P_ARP 0x0806
#define WEFT_ARP_HRD_ETHER 1
#define WEFT_ARP_OP_REQUEST 1
#define WEFT_ARP_OP_REPLY 2

#define WEFT_IPPROTO_ICMP 1
#define WEFT_IPPROTO_TCP 6
#define WEFT_IPPROTO_UDP 17
#define WEFT_IPPROTO_ICMPV6 58
#define WEFT_ICMP_ECHO_REPLY 0
#define WEFT_ICMP_ECHO_REQUEST 8
#define WEFT_ICMPV6_ECHO_REQUEST 128
#define WEFT_ICMPV6_ECHO_REPLY 129

/* VXLAN on the underlay (RFC 7348): outer Ethernet + IPv4 + UDP + VXLAN header. */
#define WEFT_VXLAN_PORT 4789
#define WEFT_VXLAN_FLAG_VNI 0x08000000
#define WEFT_VXLAN_ENCAP_LEN (14 + 20 + 8 + 8)
/* Source ports from the dynamic range, chosen by flow hash so the underlay's ECMP spreads
 * tunnels the way the Linux VXLAN driver does. */
#define WEFT_VXLAN_SPORT_BASE 49152
#define WEFT_VXLAN_SPORT_MASK 0x3FFF
#define WEFT_UNDERLAY_TTL 64

/* ICMP errors the datapath sends back to a pod whose packet does not fit the next hop (path
 * MTU discovery): IPv4 destination unreachable / fragmentation needed (RFC 1191), IPv6 packet
 * too big (RFC 8201). */
#define WEFT_ICMP_DEST_UNREACH 3
#define WEFT_ICMP_FRAG_NEEDED 4
#define WEFT_ICMPV6_PKT_TOOBIG 2
#define WEFT_IPV6_MIN_MTU 1280

/* Why a packet was dropped: the index into weft_if_stats.drops. */
enum weft_drop_reason {
	WEFT_DROP_NO_ROUTE = 0,   /* no route in the interface's routing instance */
	WEFT_DROP_POLICY = 1,     /* a network policy or security group denied the flow */
	WEFT_DROP_MALFORMED = 2,  /* truncated or inconsistent headers */
	WEFT_DROP_MTU = 3,        /* larger than the next hop's MTU (with the tunnel header) */
	WEFT_DROP_TTL = 4,        /* TTL or hop limit ran out */
	WEFT_DROP_NO_TX_PORT = 5, /* the next hop's device is not in the redirect map */
	WEFT_DROP_UNKNOWN_VNI = 6,  /* VXLAN to this host with a VNI of no routing instance here */
	WEFT_DROP_UNKNOWN_PEER = 7, /* VXLAN to this host from an address that is no tunnel endpoint */
	WEFT_DROP_REASONS = 8,
};

/* Where a route sends a packet. */
enum weft_next_hop_kind {
	WEFT_NH_NONE = 0,
	WEFT_NH_LOCAL = 1,   /* a pod interface on this host */
	WEFT_NH_TUNNEL = 2,  /* a pod on another host, through VXLAN */
	WEFT_NH_RECEIVE = 3, /* the virtual gateway itself: handed to the host's stack */
	WEFT_NH_OUTSIDE = 4, /* a gateway router beyond the underlay (remote_ip4), learnt over BGP */
};

enum weft_action {
	WEFT_ACTION_NONE = 0,
	WEFT_ACTION_PASS = 1,
	WEFT_ACTION_DENY = 2,
};

/* What happened to a sampled flow. */
enum weft_flow_verdict {
	WEFT_VERDICT_LOCAL = 1,
	WEFT_VERDICT_TUNNEL = 2,
	WEFT_VERDICT_DECAP = 3,
	WEFT_VERDICT_DROP = 4,
};

/* weft_if_info.flags */
#define WEFT_IF_PORT_SECURITY 0x1

/* weft_flow_key.family */
#define WEFT_FAMILY_IPV4 4
#define WEFT_FAMILY_IPV6 6

/* Probes (lib/probe.h): the ACLs one probe may meet (two per host end and network on each
 * host), and the rule index noted when no rule matched or the ACL was missing. */
#define WEFT_PROBE_MAX_ACLS 8
#define WEFT_PROBE_DEFAULT_RULE 0xFFFF
#define WEFT_PROBE_MISSING_ACL 0xFFFE

/* What a probe's packet came to: weft_probe_trace.result. */
enum weft_probe_result {
	WEFT_PROBE_NONE = 0,
	WEFT_PROBE_DROP = 1,
	WEFT_PROBE_LOCAL = 2,  /* to a pod on this host */
	WEFT_PROBE_TUNNEL = 3, /* to another host */
};

#endif
