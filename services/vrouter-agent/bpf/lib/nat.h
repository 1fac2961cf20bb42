/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Floating IPs: a 1:1 NAT between an address of a public network and a port on this host, done
 * on the socket buffer by the TC programs. From outside, a packet to the floating address arrives
 * on the underlay device: its destination becomes the port's own address (destination NAT), the
 * port's policies judge it, and it goes straight into the pod (bpf_redirect_peer). From the pod,
 * a packet for which its routing instance has no route leaves with the floating address as its
 * source (source NAT, the decision is weft_forward_to_outside in forward.h) through the host's
 * routing towards the gateway (bpf_redirect_neigh). Conntrack (policy.h) holds the floating
 * address of each translated flow, so both directions of a connection use the same one, also
 * when a port has several. No port is rewritten: the mapping is one address to one address. */
#ifndef WEFT_NAT_H
#define WEFT_NAT_H

#include <linux/pkt_cls.h>
#include "forward.h"

/* Not a packet for a floating address: the caller goes on with it. */
#define WEFT_NAT_NOT_OURS (-1)

#define WEFT_IP4_CHECK_OFF 10
#define WEFT_IP4_SADDR_OFF 12
#define WEFT_IP4_DADDR_OFF 16
#define WEFT_TCP_CHECK_OFF 16
#define WEFT_UDP_CHECK_OFF 6

/* Replaces one IPv4 address of the packet (at addr_off in the IP header) with its checksums:
 * the IP header's, and the pseudo-header part of TCP's and UDP's (the helpers keep a partial
 * checksum of a GSO packet right; a UDP checksum of 0, "none", stays 0). ICMP's covers no
 * address. Later fragments carry no L4 header. Packet pointers are stale afterwards. */
WEFT_INLINE int weft_nat_rewrite(struct __sk_buff *skb, const struct weft_packet *pkt, __u32 addr_off, __u32 from,
				 __u32 to)
{
	/* An address of a network routed to the outside maps to itself: nothing to rewrite. */
	if (from == to)
		return 0;
	const __u32 l3_off = sizeof(struct ethhdr);
	/* Read again from the socket buffer: the verifier does not follow packet pointers kept in
	 * the parsed packet across the decision's calls. */
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + l3_off;
	if ((void *)(ip + 1) > data_end)
		return -1;
	__u32 l4_off = l3_off + ip->ihl * 4;
	int first = !(ip->frag_off & bpf_htons(0x1FFF));
	__u8 proto = pkt->flow.proto;
	if (first && proto == WEFT_IPPROTO_TCP &&
	    bpf_l4_csum_replace(skb, l4_off + WEFT_TCP_CHECK_OFF, from, to, BPF_F_PSEUDO_HDR | sizeof(to)) < 0)
		return -1;
	if (first && proto == WEFT_IPPROTO_UDP &&
	    bpf_l4_csum_replace(skb, l4_off + WEFT_UDP_CHECK_OFF, from, to,
				BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | sizeof(to)) < 0)
		return -1;
	if (bpf_l3_csum_replace(skb, l3_off + WEFT_IP4_CHECK_OFF, from, to, sizeof(to)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, l3_off + addr_off, &to, sizeof(to), 0);
}

/* Source NAT of a packet weft_forward_to_outside let out: the port's address becomes the
 * floating address it chose. */
WEFT_INLINE int weft_nat_to_outside(struct __sk_buff *skb, const struct weft_packet *pkt)
{
	return weft_nat_rewrite(skb, pkt, WEFT_IP4_SADDR_OFF, ((const __u32 *)pkt->flow.saddr)[3], pkt->nat_ip4);
}

static __always_inline int weft_nat_drop(struct weft_if_stats *stats, const struct weft_packet *pkt, __u32 ifindex,
					 __u32 zone, enum weft_drop_reason reason)
{
	weft_forward_drop(stats, pkt, ifindex, zone, reason);
	return TC_ACT_SHOT;
}

/* A packet that arrived on the underlay: when it is for a floating address of this host, the
 * TC verdict (translated and redirected into the pod, or dropped and counted on the underlay
 * device by reason); else WEFT_NAT_NOT_OURS and the packet is untouched. */
WEFT_INLINE int weft_nat_from_outside(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(WEFT_ETH_P_IP))
		return WEFT_NAT_NOT_OURS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return WEFT_NAT_NOT_OURS;
	__u32 floating = ip->daddr;
	struct weft_floating_ip *fip = bpf_map_lookup_elem(&weft_fip4_v1, &floating);
	struct weft_config *cfg = weft_config();
	if (!fip || !cfg)
		return WEFT_NAT_NOT_OURS;
	__u32 zone = fip->vrf_id;
	__u32 dst_ifindex = fip->ifindex;
	__u32 fixed = fip->fixed_ip4;
	__u32 ifindex = skb->ingress_ifindex;
	struct weft_if_stats *stats = weft_stats(ifindex);
	if (stats) {
		stats->rx_packets++;
		stats->rx_bytes += skb->len;
	}
	struct weft_packet pkt;
	if (weft_parse_ip(&pkt, eth, data_end, zone, skb->len) != WEFT_PARSE_IP)
		return weft_nat_drop(stats, &pkt, ifindex, zone, WEFT_DROP_MALFORMED);
	/* The flow as the port sees it, which is what conntrack and the port's rules know. */
	((__u32 *)pkt.flow.daddr)[3] = fixed;
	struct weft_if_info *dst = bpf_map_lookup_elem(&weft_if_v1, &dst_ifindex);
	if (!dst)
		return weft_nat_drop(stats, &pkt, ifindex, zone, WEFT_DROP_NO_ROUTE);
	if (!weft_fits(pkt.l3_len, dst->mtu, skb->gso_segs > 1))
		return weft_nat_drop(stats, &pkt, ifindex, zone, WEFT_DROP_MTU);
	struct weft_policy_path path = {
		.dst_if_acl = (dst->flags & WEFT_IF_PORT_SECURITY) ? dst->acl_id : 0,
		.dst_vrf = zone,
	};
	struct weft_vrf_info *vrf = bpf_map_lookup_elem(&weft_vrf_v1, &zone);
	path.dst_vrf_acl = vrf ? vrf->acl_id : 0;
	path.src_vrf_acl = path.dst_vrf_acl;
	int policy = WEFT_POLICY_PASS;
	if (!weft_ct_known(&pkt.flow))
		policy = weft_policy_decide_nat(&pkt.flow, &path, ifindex, floating);
	if (policy == WEFT_POLICY_DENY)
		return weft_nat_drop(stats, &pkt, ifindex, zone, WEFT_DROP_POLICY);
	if (weft_decrement_ttl(&pkt) < 0)
		return weft_nat_drop(stats, &pkt, ifindex, zone, WEFT_DROP_TTL);
	weft_set_macs(eth, dst->mac, cfg->router_mac);
	if (ENABLE_FLOW_SAMPLES && weft_should_sample(cfg, policy == WEFT_POLICY_NEW_FLOW, 0))
		weft_sample(&pkt.flow, ifindex, zone, pkt.l3_len, WEFT_VERDICT_LOCAL, 0);
	if (weft_nat_rewrite(skb, &pkt, WEFT_IP4_DADDR_OFF, floating, fixed) < 0)
		return weft_nat_drop(stats, &pkt, ifindex, zone, WEFT_DROP_MALFORMED);
	if (stats)
		stats->tx_local++;
	return bpf_redirect_peer(dst_ifindex, 0);
}

#endif
