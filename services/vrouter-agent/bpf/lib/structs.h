/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Structs shared with user space: map keys, map values and flow samples. Each one has a
 * TypeScript encoder in services/vrouter-agent/src/maps/ that names it; the layout test there
 * compiles this header with gcc and compares sizeof/offsetof, so a change here that the
 * encoders miss fails the build's tests instead of corrupting maps. Only fixed-width types,
 * explicit padding, and no pointers: the same bytes must mean the same thing on both sides.
 * Addresses and ports are in network byte order unless a comment says otherwise. */
#ifndef WEFT_STRUCTS_H
#define WEFT_STRUCTS_H

#include <linux/types.h>
#include "consts.h"

/* Global settings of this host's datapath: weft_config_v2[0]. */
struct weft_config {
	__u8 router_mac[WEFT_ETH_ALEN];   /* MAC of the virtual gateway that pods see */
	__u8 underlay_mac[WEFT_ETH_ALEN]; /* MAC of the underlay device: outer source */
	__u32 underlay_ifindex;
	__u32 underlay_ip4;               /* tunnel source address; VXLAN to it is ours */
	__u32 underlay_mtu;               /* host order */
	__u32 sample_rate;                /* host order: sample one packet in N; 0 = new flows only */
	__u32 tunnel_port;                /* host order: the UDP port VXLAN arrives on */
};

/* A tunnel endpoint this host exchanges VXLAN with: weft_peers_v1[underlay IPv4 address]. */
struct weft_peer {
	__u32 routes;                     /* host order: routes through it (for introspection) */
};

/* A pod interface attached to the datapath: weft_if_v1[ifindex of the host end]. */
struct weft_if_info {
	__u32 vrf_id;                     /* routing instance the interface sits in */
	__u32 acl_id;                     /* security-group ACL; 0 when none */
	__u32 mtu;                        /* host order */
	__u8 mac[WEFT_ETH_ALEN];          /* the pod's MAC */
	__u8 flags;                       /* WEFT_IF_* */
	__u8 pad;
};

/* A routing instance: weft_vrf_v1[vrf_id]. */
struct weft_vrf_info {
	__u32 vni;                        /* host order */
	__u32 acl_id;                     /* network-policy ACL; 0 when none */
	__u32 gateway4;                   /* virtual gateway answered by ARP; 0 when none */
	__u8 gateway6[16];
};

/* Where a route points. LOCAL: ifindex is the pod's host-end device, mac the pod's MAC.
 * TUNNEL: ifindex is the underlay device, remote_ip4 the remote host, mac the remote pod's
 * MAC (inner destination), remote_mac the underlay next hop's MAC (outer destination). */
struct weft_next_hop {
	__u8 kind;                        /* enum weft_next_hop_kind */
	__u8 pad[3];
	__u32 ifindex;
	__u32 vrf_id;                     /* routing instance of the destination, for policy */
	__u32 vni;                        /* host order */
	__u32 remote_ip4;
	__u8 mac[WEFT_ETH_ALEN];
	__u8 remote_mac[WEFT_ETH_ALEN];
};

/* A floating address (1:1 NAT) of a port on this host: weft_fip4_v1[floating IPv4]. Traffic
 * from outside to it is rewritten to the port's own address and delivered to the port. */
struct weft_floating_ip {
	__u32 fixed_ip4;                  /* the port's own address */
	__u32 ifindex;                    /* host end of the port */
	__u32 vrf_id;                     /* routing instance of the port */
};

/* An IPv4 address and a TCP/UDP port, both in network order. */
struct weft_l4_addr {
	__u32 ip4;
	__u16 port;
	__u16 pad;
};

/* A service's virtual IP: weft_svc4_v1[routing instance, address, port, protocol]. */
struct weft_service_key {
	__u32 vrf_id;
	__u32 vip4;                       /* network order */
	__u16 port;                       /* network order */
	__u8 proto;                       /* WEFT_IPPROTO_TCP or _UDP */
	__u8 pad;
};

/* The ready backends of a service; a new connection picks one of the first `count`. */
struct weft_service {
	__u32 count;
	struct weft_l4_addr backends[WEFT_MAX_SERVICE_BACKENDS];
};

/* One direction of a balanced connection, as it is on the wire on this host:
 * weft_svc_ct4_v1[routing instance of the client, source, destination, ports, protocol]. */
struct weft_service_flow_key {
	__u32 vrf_id;
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* Host routes: exact match, looked up before the prefix tries. */
struct weft_route4_key {
	__u32 vrf_id;
	__u32 addr;
};

struct weft_route6_key {
	__u32 vrf_id;
	__u8 addr[16];
};

/* Prefix routes: the VRF id leads the key so one trie serves every VRF; prefixlen counts the
 * 32 bits of vrf_id plus the prefix's own length. */
struct weft_lpm4_key {
	__u32 prefixlen;                  /* host order */
	__u32 vrf_id;                     /* network order, so the trie compares it whole first */
	__u32 addr;
};

struct weft_lpm6_key {
	__u32 prefixlen;
	__u32 vrf_id;
	__u8 addr[16];
};

/* A connection as the policy and conntrack see it. IPv4 addresses are stored IPv4-mapped
 * (::ffff:a.b.c.d) so one rule format serves both families. vrf_id is the conntrack zone. */
struct weft_flow_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;                      /* ICMP echo: the identifier, in both ports */
	__u16 dport;
	__u32 vrf_id;
	__u8 proto;
	__u8 family;                      /* WEFT_FAMILY_* */
	__u8 pad[2];
};

/* Times are CLOCK_MONOTONIC at jiffy resolution (bpf_ktime_get_coarse_ns). */
struct weft_ct_entry {
	__u64 created_ns;
	__u64 last_seen_ns;
	__u32 ifindex;                    /* where the flow entered */
	__u32 nat_ip4;                    /* the floating address the flow is translated to; 0 when
					   * none (a former pad, always 0 before floating IPs: the
					   * layout and its meaning for older entries are unchanged) */
};

/* One ACL rule. Endpoints match by prefix (addr/mask, IPv4-mapped) and by routing instance
 * (vrf 0 = any); ports are ranges in host order, 0..65535 for any. A bidirectional rule is
 * stored as two rules by the agent. */
struct weft_acl_rule {
	__u8 src_addr[16];
	__u8 src_mask[16];
	__u8 dst_addr[16];
	__u8 dst_mask[16];
	__u32 src_vrf;
	__u32 dst_vrf;
	__u16 sport_lo;
	__u16 sport_hi;
	__u16 dport_lo;
	__u16 dport_hi;
	__u8 proto;                       /* 0 = any */
	__u8 family;                      /* 0 = any */
	__u8 action;                      /* enum weft_action */
	__u8 pad;
};

/* An ACL: weft_acl_v1[acl_id]. The first matching rule decides; else default_action. */
struct weft_acl {
	__u32 count;
	__u8 default_action;
	__u8 pad[3];
	struct weft_acl_rule rules[WEFT_MAX_ACL_RULES];
};

/* Per-CPU counters of one device the programs run on: weft_stats_v2[ifindex]. */
struct weft_if_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_local;                   /* redirected to a pod on this host */
	__u64 tx_tunnel;                  /* encapsulated towards another host */
	__u64 to_host;                    /* passed to the host's stack */
	__u64 arp_replies;
	__u64 drops[WEFT_DROP_REASONS];
};

/* A sampled flow record, sent through the weft_flows_v1 ring buffer. */
struct weft_flow_sample {
	struct weft_flow_key flow;
	__u32 ifindex;
	__u32 dst_vrf;
	__u16 length;                     /* host order: bytes of the IP packet */
	__u8 verdict;                     /* enum weft_flow_verdict */
	__u8 reason;                      /* enum weft_drop_reason when verdict is DROP */
	__u64 timestamp_ns;
};

/* One ACL a probe met, and what decided in it. */
struct weft_probe_acl {
	__u32 acl_id;
	__u16 rule;                       /* host order: the deciding rule, or WEFT_PROBE_DEFAULT_RULE / _MISSING_ACL */
	__u8 action;                      /* enum weft_action */
	__u8 pad;
};

/* What the datapath decided for the probe being traced (weftctl probe): weft_probe_v1[0]. The
 * agent arms it with the probe's flow, runs a program on the probe with BPF_PROG_TEST_RUN, and
 * reads back every ACL the flow met and where it went (lib/probe.h). */
struct weft_probe_trace {
	struct weft_flow_key flow;        /* only this flow is traced */
	__u32 armed;
	__u32 acl_count;
	struct weft_probe_acl acls[WEFT_PROBE_MAX_ACLS];
	__u8 result;                      /* enum weft_probe_result */
	__u8 reason;                      /* enum weft_drop_reason, when dropped */
	__u8 pad[2];
	struct weft_next_hop next_hop;    /* when forwarded */
};

#endif
