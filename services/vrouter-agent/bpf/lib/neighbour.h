/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The virtual gateway's side of neighbour resolution: ARP requests and IPv6 neighbour
 * solicitations from a pod for the gateway (and, as a proxy, for any host route of its routing
 * instance) are answered in place with the router MAC. The caller sends the answer back the
 * way its hook allows (XDP_TX, or a redirect out of the pod's device). */
#ifndef WEFT_NEIGHBOUR_H
#define WEFT_NEIGHBOUR_H

#include "helpers.h"

/* Proxy for every host route of the routing instance, not only the gateway: the datapath
 * routes at L3 (as Tungsten Fabric's vrouter does), so a pod asking for a neighbour on its own
 * subnet must get the gateway's MAC as well. */
#ifndef ENABLE_ARP_PROXY
#define ENABLE_ARP_PROXY 1
#endif

enum weft_neigh_result {
	WEFT_NEIGH_NONE = 0,      /* not a question the gateway answers */
	WEFT_NEIGH_REPLY = 1,     /* the packet is now the answer */
	WEFT_NEIGH_MALFORMED = 2,
};

/* ARP over Ethernet for IPv4, as on the wire. */
struct weft_arp {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[WEFT_ETH_ALEN];
	__u8 sip[4];
	__u8 tha[WEFT_ETH_ALEN];
	__u8 tip[4];
} __attribute__((packed));

/* Whether the virtual gateway answers for `target` in this routing instance. A pod's own
 * address is never answered, so duplicate address detection keeps working. */
static __always_inline int weft_arp_target_is_ours(const struct weft_if_info *iface, const struct weft_vrf_info *vrf,
						   __u32 target, __u32 ifindex)
{
	if (vrf && vrf->gateway4 && vrf->gateway4 == target)
		return 1;
#if ENABLE_ARP_PROXY
	struct weft_route4_key key = {.vrf_id = iface->vrf_id, .addr = target};
	struct weft_next_hop *nh = bpf_map_lookup_elem(&weft_rt4_v1, &key);
	if (nh && !(nh->kind == WEFT_NH_LOCAL && nh->ifindex == ifindex))
		return 1;
#endif
	return 0;
}

/* Turns an ARP request for the gateway into the reply, in place, to be sent back. */
static __always_inline int weft_arp_reply(struct ethhdr *eth, void *data_end, const struct weft_config *cfg,
					  const struct weft_if_info *iface, const struct weft_vrf_info *vrf,
					  struct weft_if_stats *stats, __u32 ifindex)
{
	struct weft_arp *arp = (void *)(eth + 1);
	if ((void *)(arp + 1) > data_end)
		return WEFT_NEIGH_MALFORMED;
	if (arp->hrd != bpf_htons(WEFT_ARP_HRD_ETHER) || arp->pro != bpf_htons(WEFT_ETH_P_IP) ||
	    arp->op != bpf_htons(WEFT_ARP_OP_REQUEST))
		return WEFT_NEIGH_NONE;
	__u32 sender, target;
	__builtin_memcpy(&sender, arp->sip, 4);
	__builtin_memcpy(&target, arp->tip, 4);
	if (sender == target || !weft_arp_target_is_ours(iface, vrf, target, ifindex))
		return WEFT_NEIGH_NONE;

	arp->op = bpf_htons(WEFT_ARP_OP_REPLY);
	__builtin_memcpy(arp->tha, arp->sha, WEFT_ETH_ALEN);
	__builtin_memcpy(arp->tip, &sender, 4);
	__builtin_memcpy(arp->sha, cfg->router_mac, WEFT_ETH_ALEN);
	__builtin_memcpy(arp->sip, &target, 4);
	weft_set_macs(eth, eth->h_source, cfg->router_mac);
	if (stats)
		stats->arp_replies++;
	return WEFT_NEIGH_REPLY;
}

/* IPv6 neighbour solicitation and advertisement (RFC 4861) with one link-layer address option:
 * what a pod sends to resolve its gateway, and what the gateway answers. */
struct weft_nd_msg {
	__u8 type;
	__u8 code;
	__be16 csum;
	__be32 flags;
	__u8 target[16];
	__u8 opt_type;
	__u8 opt_len;
	__u8 mac[WEFT_ETH_ALEN];
};

#define WEFT_ND_SOLICIT 135
#define WEFT_ND_ADVERT 136
#define WEFT_ND_OPT_TARGET_LLADDR 2
#define WEFT_ND_FLAG_ROUTER 0x80000000
#define WEFT_ND_FLAG_SOLICITED 0x40000000
#define WEFT_ND_FLAG_OVERRIDE 0x20000000

static __always_inline int weft_addr6_equal(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* The IPv6 counterpart of weft_arp_target_is_ours: the gateway, and host routes of the VRF. */
static __always_inline int weft_nd_target_is_ours(const struct weft_if_info *iface, const struct weft_vrf_info *vrf,
						  const __u8 *target, __u32 ifindex, int *router)
{
	*router = 0;
	if (vrf && weft_addr6_equal(target, vrf->gateway6)) {
		*router = 1;
		return 1;
	}
#if ENABLE_ARP_PROXY
	struct weft_route6_key key = {.vrf_id = iface->vrf_id};
	__builtin_memcpy(key.addr, target, 16);
	struct weft_next_hop *nh = bpf_map_lookup_elem(&weft_rt6_v1, &key);
	if (nh && !(nh->kind == WEFT_NH_LOCAL && nh->ifindex == ifindex))
		return 1;
#endif
	return 0;
}

/* Turns a neighbour solicitation for the gateway into the advertisement, in place, to be sent
 * back. */
static __always_inline int weft_nd_reply(struct weft_packet *pkt, void *data_end, const struct weft_config *cfg,
					 const struct weft_if_info *iface, const struct weft_vrf_info *vrf,
					 struct weft_if_stats *stats, __u32 ifindex)
{
	struct ipv6hdr *ip6 = pkt->ip6;
	struct weft_nd_msg *msg = (void *)(ip6 + 1);
	if ((void *)(msg + 1) > data_end || msg->type != WEFT_ND_SOLICIT || msg->code != 0 ||
	    ip6->payload_len != bpf_htons(sizeof(*msg)))
		return WEFT_NEIGH_NONE;
	/* From the unspecified address: duplicate address detection, never answered. */
	const __u32 *src = (const __u32 *)&ip6->saddr;
	if (!(src[0] | src[1] | src[2] | src[3]))
		return WEFT_NEIGH_NONE;
	int router;
	if (!weft_nd_target_is_ours(iface, vrf, msg->target, ifindex, &router))
		return WEFT_NEIGH_NONE;

	__builtin_memcpy(&ip6->daddr, &ip6->saddr, 16);
	__builtin_memcpy(&ip6->saddr, msg->target, 16);
	ip6->hop_limit = 255;
	msg->type = WEFT_ND_ADVERT;
	msg->flags = bpf_htonl(WEFT_ND_FLAG_SOLICITED | WEFT_ND_FLAG_OVERRIDE | (router ? WEFT_ND_FLAG_ROUTER : 0));
	msg->opt_type = WEFT_ND_OPT_TARGET_LLADDR;
	msg->opt_len = 1;
	__builtin_memcpy(msg->mac, cfg->router_mac, WEFT_ETH_ALEN);

	/* ICMPv6 checksum over the pseudo-header (addresses, length, next header) and message. */
	msg->csum = 0;
	__u32 sum = bpf_htons(sizeof(*msg)) + bpf_htons(WEFT_IPPROTO_ICMPV6);
	const __u16 *addrs = (const __u16 *)&ip6->saddr;
#pragma unroll
	for (int i = 0; i < 16; i++)
		sum += addrs[i];
	const __u16 *words = (const __u16 *)msg;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(*msg) / 2); i++)
		sum += words[i];
	msg->csum = weft_csum_fold(sum);

	weft_set_macs(pkt->eth, pkt->eth->h_source, cfg->router_mac);
	if (stats)
		stats->arp_replies++;
	return WEFT_NEIGH_REPLY;
}

#endif
