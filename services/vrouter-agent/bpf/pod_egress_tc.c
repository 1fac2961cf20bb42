/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Pod egress on TC: the same decisions as pod_egress.c (lib/forward.h), taken on the socket
 * buffer at the ingress hook of the host end of a pod's veth. Why a TC variant: XDP sees one
 * MTU-sized frame at a time and loses GSO, TSO and checksum offload, which costs most of the
 * throughput of TCP between pods (see test/bench/README.md). Here a 64 KB GSO packet with a
 * partial checksum is routed once and travels as it is: to a pod on this host straight into its
 * namespace (bpf_redirect_peer), to another host through the host's VXLAN device in external
 * mode with the tunnel key set (bpf_skb_set_tunnel_key), so the kernel encapsulates with GSO. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* IPv6 forwarding. Off builds an IPv4-only datapath with fewer instructions to verify. */
#ifndef ENABLE_IPV6
#define ENABLE_IPV6 1
#endif

/* Flow records to analytics through the ring buffer. */
#ifndef ENABLE_FLOW_SAMPLES
#define ENABLE_FLOW_SAMPLES 1
#endif

/* Floating IPs: a pod with one reaches the outside with it as its source (lib/nat.h). */
#ifndef ENABLE_FLOATING_IPS
#define ENABLE_FLOATING_IPS 1
#endif

/* Services: a pod's connections to a virtual IP are balanced over its backends (lib/service.h). */
#ifndef ENABLE_SERVICES
#define ENABLE_SERVICES 1
#endif

#include "lib/consts.h"
#include "lib/structs.h"
#include "lib/maps.h"
#include "lib/helpers.h"
#include "lib/policy.h"
#include "lib/neighbour.h"
#include "lib/forward.h"
#include "lib/icmp.h"
#include "lib/nat.h"
#include "lib/service.h"

/* Bytes of headers the decision reads: Ethernet, IPv6 (the longer) and the ports after it. A
 * TCP packet from a pod's stack carries its headers (66 bytes or more) in the linear part and its
 * payload in fragments; pulling more would move payload on every packet. A neighbour
 * solicitation, which needs more, is a small packet and linear anyway. */
#define WEFT_TC_HEADERS (14 + 40 + 8)

static __always_inline int weft_tc_drop(struct weft_if_stats *stats, enum weft_drop_reason reason)
{
	weft_drop(stats, reason);
	return TC_ACT_SHOT;
}

/* The program runs in two stages, each a global function. The verifier checks a global function
 * once, on its own, instead of once for every way its caller can reach it. In one function, the
 * forwarding decision was checked again for each way in (ARP, neighbour discovery, each outcome
 * of the service translation, each address family), and that went past the verifier's
 * 1M-instruction budget on Linux 6.18.44 (724k on an earlier 6.18). Apart, both together take
 * about a fifth of it (the README's "The verifier's budget"). Both are called from a program with
 * no stack of its own, because a caller's stack and its callee's must fit in 512 bytes together.
 * The second stage reads everything from the socket buffer again, because a global function gets
 * no packet pointers from its caller: a few map lookups, and a parse of headers already in the
 * linear data. */

/* What the first stage answers when the packet goes on to the second; no TC_ACT_* has this value. */
#define WEFT_TC_FORWARD 0x10000

/* The second stage: the forwarding decision, and what it does with the packet. */
__attribute__((noinline)) int weft_pod_egress_tc_forward(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ingress_ifindex;
	struct weft_if_info *iface = bpf_map_lookup_elem(&weft_if_v1, &ifindex);
	struct weft_config *cfg = weft_config();
	if (!iface || !cfg)
		return TC_ACT_OK;
	struct weft_if_stats *stats = weft_stats(ifindex);
	__u32 src_vrf = iface->vrf_id;
	struct weft_vrf_info *vrf = bpf_map_lookup_elem(&weft_vrf_v1, &src_vrf);
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return weft_tc_drop(stats, WEFT_DROP_MALFORMED);
	struct weft_packet pkt;
	if (weft_parse_ip(&pkt, eth, data_end, src_vrf, skb->len) != WEFT_PARSE_IP)
		return weft_tc_drop(stats, WEFT_DROP_MALFORMED);

	struct weft_next_hop *nh = 0;
	struct bpf_tunnel_key key = {};
	switch (weft_forward_from_pod(&pkt, iface, vrf, cfg, stats, ifindex, skb->gso_segs > 1, &nh)) {
	case WEFT_FWD_LOCAL: {
		__u32 dst_ifindex = nh->ifindex;
#if ENABLE_SERVICES
		/* A balanced connection's reply from a backend on this host: from the virtual IP again. */
		struct weft_if_info *dst = bpf_map_lookup_elem(&weft_if_v1, &dst_ifindex);
		if (dst && weft_service_to_client(skb, &pkt, dst->vrf_id) < 0)
			return weft_tc_drop(stats, WEFT_DROP_MALFORMED);
#endif
		return bpf_redirect_peer(dst_ifindex, 0);
	}
	case WEFT_FWD_TUNNEL:
		key.remote_ipv4 = bpf_ntohl(nh->remote_ip4);
		key.tunnel_id = nh->vni;
		key.tunnel_ttl = WEFT_UNDERLAY_TTL;
		/* With an outer UDP checksum, as Linux's VXLAN device sends by default: offloaded like
		 * the inner one, and the receiver can trust the inner packet from it. Measured without
		 * it, TCP across hosts ran at about 0.8x of Linux instead of 1.0x. */
		if (bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0) < 0)
			return weft_tc_drop(stats, WEFT_DROP_MALFORMED);
		return bpf_redirect(nh->ifindex, 0);
	case WEFT_FWD_HOST:
		return TC_ACT_OK;
	case WEFT_FWD_OUTSIDE: {
		/* Out through the host's routing towards the gateway, which fills in the MACs. */
		__u32 underlay = cfg->underlay_ifindex;
		/* Read before the rewrite, which leaves packet pointers stale (not the map value). */
		__u32 gateway = (nh && nh->kind == WEFT_NH_OUTSIDE) ? nh->remote_ip4 : 0;
		if (weft_nat_to_outside(skb, &pkt) < 0)
			return weft_tc_drop(stats, WEFT_DROP_MALFORMED);
		if (gateway) {
			/* A route learnt from a gateway: to that gateway, its neighbour resolved by the host. */
			struct bpf_redir_neigh to = {.nh_family = 2 /* AF_INET */, .ipv4_nh = gateway};
			return bpf_redirect_neigh(underlay, &to, sizeof(to), 0);
		}
		return bpf_redirect_neigh(underlay, 0, 0, 0);
	}
	case WEFT_FWD_TOO_BIG:
		/* Path MTU discovery: the packet becomes the ICMP error, back to the pod. */
		if (weft_icmp_too_big(skb, &pkt, cfg, vrf) == 0)
			return bpf_redirect(ifindex, 0);
		return TC_ACT_SHOT;
	default:
		return TC_ACT_SHOT;
	}
}

/* The first stage: counts the packet, answers ARP and neighbour discovery, and sends a packet for
 * a service to one of its backends. */
__attribute__((noinline)) int weft_pod_egress_tc_receive(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ingress_ifindex;
	struct weft_if_info *iface = bpf_map_lookup_elem(&weft_if_v1, &ifindex);
	struct weft_config *cfg = weft_config();
	if (!iface || !cfg)
		return TC_ACT_OK;
	struct weft_if_stats *stats = weft_stats(ifindex);
	/* Direct packet access reads the linear part only; pull the headers into it when short. */
	if ((long)skb->data_end - (long)skb->data < WEFT_TC_HEADERS && skb->len > skb->data_end - skb->data)
		bpf_skb_pull_data(skb, skb->len < WEFT_TC_HEADERS ? skb->len : WEFT_TC_HEADERS);
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return weft_tc_drop(stats, WEFT_DROP_MALFORMED);
	if (stats) {
		stats->rx_packets++;
		stats->rx_bytes += skb->len;
	}
	__u32 src_vrf = iface->vrf_id;
	struct weft_vrf_info *vrf = bpf_map_lookup_elem(&weft_vrf_v1, &src_vrf);

	/* Answers go back out of the host end, which delivers them to the pod. */
	if (eth->h_proto == bpf_htons(WEFT_ETH_P_ARP)) {
		int answer = weft_arp_reply(eth, data_end, cfg, iface, vrf, stats, ifindex);
		if (answer == WEFT_NEIGH_MALFORMED)
			return weft_tc_drop(stats, WEFT_DROP_MALFORMED);
		return answer == WEFT_NEIGH_REPLY ? bpf_redirect(ifindex, 0) : TC_ACT_OK;
	}
	struct weft_packet pkt;
	int parsed = weft_parse_ip(&pkt, eth, data_end, src_vrf, skb->len);
	if (parsed == WEFT_PARSE_MALFORMED)
		return weft_tc_drop(stats, WEFT_DROP_MALFORMED);
#if !ENABLE_IPV6
	if (pkt.ip6)
		parsed = WEFT_PARSE_NOT_IP;
#endif
	if (parsed == WEFT_PARSE_NOT_IP) {
		if (stats)
			stats->to_host++;
		return TC_ACT_OK;
	}
	if (pkt.ip6 && pkt.flow.proto == WEFT_IPPROTO_ICMPV6 &&
	    weft_nd_reply(&pkt, data_end, cfg, iface, vrf, stats, ifindex) == WEFT_NEIGH_REPLY)
		return bpf_redirect(ifindex, 0);

#if ENABLE_SERVICES
	/* To a service: to one of its backends, and the decision below is about that connection. */
	int svc = weft_service_to_backend(skb, &pkt);
	if (svc == WEFT_SVC_NO_BACKEND) {
		weft_forward_drop(stats, &pkt, ifindex, 0, WEFT_DROP_NO_ROUTE);
		return TC_ACT_SHOT;
	}
	if (svc == WEFT_SVC_MALFORMED)
		return weft_tc_drop(stats, WEFT_DROP_MALFORMED);
#endif
	return WEFT_TC_FORWARD;
}

SEC("tc")
int weft_pod_egress_tc(struct __sk_buff *skb)
{
	int verdict = weft_pod_egress_tc_receive(skb);
	return verdict == WEFT_TC_FORWARD ? weft_pod_egress_tc_forward(skb) : verdict;
}

char _license[] SEC("license") = "Dual BSD/GPL";
