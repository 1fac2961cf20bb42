/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Small inline helpers shared by the programs: header parsing into a flow key, checksums,
 * route lookup, counters and flow samples. Nothing here decides a verdict; the programs do. */
#ifndef WEFT_HELPERS_H
#define WEFT_HELPERS_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"

#define WEFT_INLINE static __always_inline

/* A parsed IP packet: where its headers are and the flow it belongs to. */
struct weft_packet {
	struct ethhdr *eth;
	struct iphdr *ip4;    /* one of ip4 / ip6 is set */
	struct ipv6hdr *ip6;
	__u32 l3_len;         /* bytes of the IP packet, from its own header */
	__u32 mtu;            /* set with WEFT_FWD_TOO_BIG: what the next hop carries */
	__u32 nat_ip4;        /* set with WEFT_FWD_OUTSIDE: the floating address to leave with */
	struct weft_flow_key flow;
};

enum weft_parse_result {
	WEFT_PARSE_IP = 0,
	WEFT_PARSE_NOT_IP = 1,
	WEFT_PARSE_MALFORMED = 2,
};

/* Ports of TCP and UDP; the identifier of ICMP echo in both ports, so that a request and its
 * reply are the two directions of one connection. */
WEFT_INLINE int weft_parse_l4(struct weft_flow_key *flow, void *l4, void *data_end)
{
	if (flow->proto == WEFT_IPPROTO_TCP || flow->proto == WEFT_IPPROTO_UDP) {
		__u16 *ports = l4;
		if ((void *)(ports + 2) > data_end)
			return WEFT_PARSE_MALFORMED;
		flow->sport = ports[0];
		flow->dport = ports[1];
	} else if (flow->proto == WEFT_IPPROTO_ICMP || flow->proto == WEFT_IPPROTO_ICMPV6) {
		__u8 *icmp = l4;
		if ((void *)(icmp + 8) > data_end)
			return WEFT_PARSE_MALFORMED;
		__u8 type = icmp[0];
		if (type == WEFT_ICMP_ECHO_REQUEST || type == WEFT_ICMP_ECHO_REPLY ||
		    type == WEFT_ICMPV6_ECHO_REQUEST || type == WEFT_ICMPV6_ECHO_REPLY) {
			__u16 id = *(__u16 *)(icmp + 4);
			flow->sport = id;
			flow->dport = id;
		}
	}
	return WEFT_PARSE_IP;
}

/* Parses the IP header after `eth` into pkt (flow key zone = vrf_id). frame_len is the length
 * of the whole frame from `eth`: the headers must be in the linear data (before data_end), the
 * payload need not be (a GSO or GRO socket buffer keeps it in fragments). */
WEFT_INLINE int weft_parse_ip(struct weft_packet *pkt, struct ethhdr *eth, void *data_end, __u32 vrf_id,
			      __u32 frame_len)
{
	__builtin_memset(&pkt->flow, 0, sizeof(pkt->flow));
	pkt->eth = eth;
	pkt->ip4 = 0;
	pkt->ip6 = 0;
	pkt->flow.vrf_id = vrf_id;
	void *l3 = eth + 1;

	if (eth->h_proto == bpf_htons(WEFT_ETH_P_IP)) {
		struct iphdr *ip = l3;
		if ((void *)(ip + 1) > data_end)
			return WEFT_PARSE_MALFORMED;
		__u32 hlen = ip->ihl * 4;
		__u32 total = bpf_ntohs(ip->tot_len);
		if (ip->version != 4 || hlen < sizeof(*ip) || total < hlen || total + sizeof(*eth) > frame_len)
			return WEFT_PARSE_MALFORMED;
		pkt->ip4 = ip;
		pkt->l3_len = total;
		pkt->flow.family = WEFT_FAMILY_IPV4;
		pkt->flow.proto = ip->protocol;
		((__u32 *)pkt->flow.saddr)[2] = bpf_htonl(0xFFFF);
		((__u32 *)pkt->flow.saddr)[3] = ip->saddr;
		((__u32 *)pkt->flow.daddr)[2] = bpf_htonl(0xFFFF);
		((__u32 *)pkt->flow.daddr)[3] = ip->daddr;
		/* Later fragments carry no ports: they match the flow's rules by address only. */
		if (ip->frag_off & bpf_htons(0x1FFF))
			return WEFT_PARSE_IP;
		return weft_parse_l4(&pkt->flow, l3 + hlen, data_end);
	}
	if (eth->h_proto == bpf_htons(WEFT_ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		if ((void *)(ip6 + 1) > data_end)
			return WEFT_PARSE_MALFORMED;
		__u32 total = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		if (ip6->version != 6 || total + sizeof(*eth) > frame_len)
			return WEFT_PARSE_MALFORMED;
		pkt->ip6 = ip6;
		pkt->l3_len = total;
		pkt->flow.family = WEFT_FAMILY_IPV6;
		pkt->flow.proto = ip6->nexthdr;
		__builtin_memcpy(pkt->flow.saddr, &ip6->saddr, 16);
		__builtin_memcpy(pkt->flow.daddr, &ip6->daddr, 16);
		/* Extension headers are not walked: such packets match by address only. */
		return weft_parse_l4(&pkt->flow, ip6 + 1, data_end);
	}
	return WEFT_PARSE_NOT_IP;
}

/* Multicast, broadcast and IPv6 link-local destinations: neighbour discovery, router
 * solicitations, DHCP and the like, which belong to the link and are never routed. */
WEFT_INLINE int weft_is_link_scope(const struct weft_flow_key *flow)
{
	if (flow->family == WEFT_FAMILY_IPV6)
		return flow->daddr[0] == 0xFF || (flow->daddr[0] == 0xFE && (flow->daddr[1] & 0xC0) == 0x80);
	return flow->daddr[12] >= 224;
}

WEFT_INLINE __u16 weft_csum_fold(__u32 sum)
{
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	return (__u16)~sum;
}

/* Checksum of an option-less IPv4 header that the datapath built itself. */
WEFT_INLINE void weft_ipv4_csum(struct iphdr *ip)
{
	__u16 *word = (__u16 *)ip;
	__u32 sum = 0;
	ip->check = 0;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(*ip) / 2); i++)
		sum += word[i];
	ip->check = weft_csum_fold(sum);
}

/* One routed hop: TTL down by one with the checksum patched (RFC 1624, as the kernel's
 * ip_decrease_ttl). Returns -1 when the packet must not be forwarded. */
WEFT_INLINE int weft_decrement_ttl(struct weft_packet *pkt)
{
	if (pkt->ip4) {
		struct iphdr *ip = pkt->ip4;
		if (ip->ttl <= 1)
			return -1;
		__u32 check = ip->check;
		check += bpf_htons(0x0100);
		ip->check = (__u16)(check + (check >= 0xFFFF));
		ip->ttl--;
		return 0;
	}
	if (pkt->ip6) {
		if (pkt->ip6->hop_limit <= 1)
			return -1;
		pkt->ip6->hop_limit--;
	}
	return 0;
}

/* Route to an address of the flow (daddr when dst, else saddr) in a VRF: the exact host
 * route first, then the longest prefix. */
WEFT_INLINE struct weft_next_hop *weft_route_lookup(const struct weft_flow_key *flow, __u32 vrf_id, int dst)
{
	const __u8 *addr = dst ? flow->daddr : flow->saddr;
	struct weft_next_hop *nh;

	if (flow->family == WEFT_FAMILY_IPV4) {
		struct weft_route4_key key = {.vrf_id = vrf_id, .addr = ((const __u32 *)addr)[3]};
		nh = bpf_map_lookup_elem(&weft_rt4_v1, &key);
		if (nh)
			return nh;
		struct weft_lpm4_key lpm = {.prefixlen = 64, .vrf_id = bpf_htonl(vrf_id), .addr = key.addr};
		return bpf_map_lookup_elem(&weft_lpm4_v1, &lpm);
	}
	struct weft_route6_key key = {.vrf_id = vrf_id};
	__builtin_memcpy(key.addr, addr, 16);
	nh = bpf_map_lookup_elem(&weft_rt6_v1, &key);
	if (nh)
		return nh;
	struct weft_lpm6_key lpm = {.prefixlen = 160, .vrf_id = bpf_htonl(vrf_id)};
	__builtin_memcpy(lpm.addr, addr, 16);
	return bpf_map_lookup_elem(&weft_lpm6_v1, &lpm);
}

WEFT_INLINE void weft_set_macs(struct ethhdr *eth, const __u8 *dst, const __u8 *src)
{
	__builtin_memcpy(eth->h_dest, dst, WEFT_ETH_ALEN);
	__builtin_memcpy(eth->h_source, src, WEFT_ETH_ALEN);
}

WEFT_INLINE struct weft_config *weft_config(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&weft_config_v2, &zero);
}

WEFT_INLINE struct weft_if_stats *weft_stats(__u32 ifindex)
{
	return bpf_map_lookup_elem(&weft_stats_v2, &ifindex);
}

/* A tunnel endpoint routes point at (address in network order). */
WEFT_INLINE int weft_peer_known(__u32 address)
{
	return bpf_map_lookup_elem(&weft_peers_v1, &address) != 0;
}

WEFT_INLINE int weft_drop(struct weft_if_stats *stats, enum weft_drop_reason reason)
{
	if (stats && reason < WEFT_DROP_REASONS)
		stats->drops[reason]++;
	return XDP_DROP;
}

/* Redirects through the device map; a device missing from it is a drop we can name. */
WEFT_INLINE int weft_redirect(struct weft_if_stats *stats, __u32 ifindex)
{
	int verdict = bpf_redirect_map(&weft_tx_v1, ifindex, XDP_DROP);
	if (verdict != XDP_REDIRECT)
		return weft_drop(stats, WEFT_DROP_NO_TX_PORT);
	return verdict;
}

WEFT_INLINE void weft_sample(const struct weft_flow_key *flow, __u32 ifindex, __u32 dst_vrf, __u32 length,
			     __u8 verdict, __u8 reason)
{
	struct weft_flow_sample *sample = bpf_ringbuf_reserve(&weft_flows_v1, sizeof(*sample), 0);
	if (!sample)
		return;
	__builtin_memcpy(&sample->flow, flow, sizeof(*flow));
	sample->ifindex = ifindex;
	sample->dst_vrf = dst_vrf;
	sample->length = (__u16)length;
	sample->verdict = verdict;
	sample->reason = reason;
	sample->timestamp_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(sample, 0);
}

/* Every new or denied flow is sampled; other packets one in sample_rate. */
WEFT_INLINE int weft_should_sample(const struct weft_config *cfg, int new_flow, int denied)
{
	if (new_flow || denied)
		return 1;
	return cfg->sample_rate && bpf_get_prandom_u32() % cfg->sample_rate == 0;
}

#endif
