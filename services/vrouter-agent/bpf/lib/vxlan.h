/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* VXLAN (RFC 7348) over an IPv4 underlay: encapsulation towards another host and the checks
 * that tell a packet of ours from anything else arriving on the underlay. */
#ifndef WEFT_VXLAN_H
#define WEFT_VXLAN_H

#include <linux/udp.h>
#include "helpers.h"

struct weft_vxlanhdr {
	__be32 flags;
	__be32 vni;   /* VNI in the upper 24 bits */
};

/* The VXLAN header of a packet addressed to this host's tunnel endpoint on `port`, or 0 when
 * the packet is not ours. Only option-less outer IPv4 headers are ours: Weft never sends
 * options. *outer_src is the sender's underlay address. */
WEFT_INLINE struct weft_vxlanhdr *weft_vxlan_header(void *data, void *data_end, const struct weft_config *cfg,
						     __u16 port, __u32 *outer_src)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct weft_vxlanhdr *vxlan = (void *)(udp + 1);
	if ((void *)(vxlan + 1) > data_end)
		return 0;
	if (eth->h_proto != bpf_htons(WEFT_ETH_P_IP) || ip->version != 4 || ip->ihl != 5 ||
	    ip->protocol != WEFT_IPPROTO_UDP || ip->daddr != cfg->underlay_ip4 ||
	    (ip->frag_off & bpf_htons(0x3FFF)) || udp->dest != bpf_htons(port))
		return 0;
	*outer_src = ip->saddr;
	return vxlan;
}

/* A source port per flow, so the underlay's ECMP hashing spreads tunnels. */
WEFT_INLINE __u16 weft_flow_port(const struct weft_flow_key *flow)
{
	const __u32 *s = (const __u32 *)flow->saddr, *d = (const __u32 *)flow->daddr;
	__u32 hash = s[3] ^ d[3] ^ s[2] ^ d[2] ^ ((__u32)flow->sport << 16 | flow->dport) ^ flow->proto;
	hash *= 0x9E3779B1;
	return WEFT_VXLAN_SPORT_BASE | ((hash >> 16) & WEFT_VXLAN_SPORT_MASK);
}

/* Puts the outer headers in front of the (already rewritten) inner frame. Returns -1 when the
 * frame cannot grow. Packet pointers are stale afterwards. */
WEFT_INLINE int weft_vxlan_encap(struct xdp_md *ctx, const struct weft_config *cfg, const struct weft_next_hop *nh,
				 __u16 sport)
{
	if (bpf_xdp_adjust_head(ctx, -WEFT_VXLAN_ENCAP_LEN))
		return -1;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct weft_vxlanhdr *vxlan = (void *)(udp + 1);
	if ((void *)(vxlan + 1) > data_end)
		return -1;
	__u32 inner_len = data_end - (void *)(vxlan + 1);

	weft_set_macs(eth, nh->remote_mac, cfg->underlay_mac);
	eth->h_proto = bpf_htons(WEFT_ETH_P_IP);

	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(sizeof(struct iphdr) + sizeof(struct udphdr) + sizeof(struct weft_vxlanhdr) + inner_len);
	ip->id = 0;
	/* DF: the pod MTU leaves room for this header, so the underlay never fragments. */
	ip->frag_off = bpf_htons(0x4000);
	ip->ttl = WEFT_UNDERLAY_TTL;
	ip->protocol = WEFT_IPPROTO_UDP;
	ip->saddr = cfg->underlay_ip4;
	ip->daddr = nh->remote_ip4;
	weft_ipv4_csum(ip);

	udp->source = bpf_htons(sport);
	udp->dest = bpf_htons(WEFT_VXLAN_PORT);
	udp->len = bpf_htons(sizeof(struct udphdr) + sizeof(struct weft_vxlanhdr) + inner_len);
	/* A zero UDP checksum is allowed over IPv4 and is what Linux sends by default. */
	udp->check = 0;

	vxlan->flags = bpf_htonl(WEFT_VXLAN_FLAG_VNI);
	vxlan->vni = bpf_htonl(nh->vni << 8);
	return 0;
}

#endif
