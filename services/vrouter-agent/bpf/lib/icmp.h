/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Path MTU discovery for pods, on the socket buffer (TC): a packet larger than its next hop
 * carries becomes, in place, the ICMP error that tells its sender the size that fits — IPv4
 * destination unreachable / fragmentation needed (RFC 1191) for a packet with DF set, IPv6
 * packet too big (RFC 8201) — from the virtual gateway, sent back out of the pod's device. The
 * pod's kernel then lowers its path MTU to that destination and TCP its segment size, instead
 * of retransmitting into a black hole. The error quotes the offending IP header and the first
 * 8 bytes after it (its ports), which is what the sender needs to find the socket. (RFC 1812
 * asks for more where it fits; Linux needs no more.) */
#ifndef WEFT_ICMP_H
#define WEFT_ICMP_H

#include <linux/pkt_cls.h>
#include "helpers.h"

struct weft_icmp_head {
	__u8 type;
	__u8 code;
	__sum16 check;
	__be16 unused;
	__be16 mtu;       /* IPv4: next-hop MTU in the low half of the rest-of-header word */
};

struct weft_icmp6_head {
	__u8 type;
	__u8 code;
	__sum16 check;
	__be32 mtu;
};

/* The ICMP checksum over `len` bytes at `at` (a constant multiple of 4, so that the verifier
 * sees the whole range checked), plus `seed`. */
#define weft_icmp_sum(at, data_end, len, seed)                                                        \
	({                                                                                             \
		__u16 _sum = 0;                                                                         \
		if ((void *)(at) + (len) <= (data_end)) {                                              \
			__s64 _s = bpf_csum_diff(0, 0, (void *)(at), (len), (seed));                   \
			_sum = _s < 0 ? 0 : weft_csum_fold((__u32)_s);                                  \
		}                                                                                      \
		_sum;                                                                                  \
	})

/* Turns an IPv4 packet with DF set into fragmentation needed for `mtu`; 0 when the packet is
 * now the error (redirect it back to the pod), -1 when it cannot be. */
static __always_inline int weft_icmp4_too_big(struct __sk_buff *skb, const struct weft_config *cfg,
					      const struct weft_vrf_info *vrf, __u32 mtu)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || !vrf || !vrf->gateway4 || !(ip->frag_off & bpf_htons(0x4000)))
		return -1;
	/* Pods send option-less headers; one with options is dropped without an answer. */
	if (ip->ihl != 5)
		return -1;
	const __u32 hlen = sizeof(struct iphdr);
	__u8 pod_mac[WEFT_ETH_ALEN];
	__builtin_memcpy(pod_mac, eth->h_source, WEFT_ETH_ALEN);
	__be32 sender = ip->saddr;
	const __u32 quoted = hlen + 8;
	/* Keep the offending header and 8 bytes, then make room in front for the error's own headers. */
	if (bpf_skb_change_tail(skb, sizeof(*eth) + quoted, 0) ||
	    bpf_skb_adjust_room(skb, sizeof(struct iphdr) + sizeof(struct weft_icmp_head), BPF_ADJ_ROOM_MAC, 0))
		return -1;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	ip = (void *)(eth + 1);
	struct weft_icmp_head *icmp = (void *)(ip + 1);
	if ((void *)(icmp + 1) > data_end)
		return -1;
	weft_set_macs(eth, pod_mac, cfg->router_mac);
	eth->h_proto = bpf_htons(WEFT_ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0xc0; /* internetwork control, as Linux sends ICMP errors */
	ip->tot_len = bpf_htons(sizeof(*ip) + sizeof(*icmp) + quoted);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = WEFT_IPPROTO_ICMP;
	ip->saddr = vrf->gateway4;
	ip->daddr = sender;
	weft_ipv4_csum(ip);
	icmp->type = WEFT_ICMP_DEST_UNREACH;
	icmp->code = WEFT_ICMP_FRAG_NEEDED;
	icmp->check = 0;
	icmp->unused = 0;
	icmp->mtu = bpf_htons(mtu);
	icmp->check = weft_icmp_sum(icmp, data_end, sizeof(*icmp) + quoted, 0);
	return 0;
}

/* The same for IPv6: packet too big for `mtu` (never below the IPv6 minimum of 1280). */
static __always_inline int weft_icmp6_too_big(struct __sk_buff *skb, const struct weft_config *cfg,
					      const struct weft_vrf_info *vrf, __u32 mtu)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > data_end || !vrf)
		return -1;
	__u8 zero[16] = {};
	if (!__builtin_memcmp(vrf->gateway6, zero, 16))
		return -1;
	__u8 pod_mac[WEFT_ETH_ALEN];
	__builtin_memcpy(pod_mac, eth->h_source, WEFT_ETH_ALEN);
	struct in6_addr sender = ip6->saddr;
	const __u32 quoted = sizeof(struct ipv6hdr) + 8;
	if (bpf_skb_change_tail(skb, sizeof(*eth) + quoted, 0) ||
	    bpf_skb_adjust_room(skb, sizeof(struct ipv6hdr) + sizeof(struct weft_icmp6_head), BPF_ADJ_ROOM_MAC, 0))
		return -1;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	ip6 = (void *)(eth + 1);
	struct weft_icmp6_head *icmp = (void *)(ip6 + 1);
	if ((void *)(icmp + 1) > data_end)
		return -1;
	weft_set_macs(eth, pod_mac, cfg->router_mac);
	eth->h_proto = bpf_htons(WEFT_ETH_P_IPV6);
	const __u32 payload = sizeof(struct weft_icmp6_head) + quoted;
	*(__be32 *)ip6 = bpf_htonl(0x60000000);
	ip6->payload_len = bpf_htons(payload);
	ip6->nexthdr = WEFT_IPPROTO_ICMPV6;
	ip6->hop_limit = 255;
	__builtin_memcpy(&ip6->saddr, vrf->gateway6, 16);
	ip6->daddr = sender;
	icmp->type = WEFT_ICMPV6_PKT_TOOBIG;
	icmp->code = 0;
	icmp->check = 0;
	icmp->mtu = bpf_htonl(mtu < WEFT_IPV6_MIN_MTU ? WEFT_IPV6_MIN_MTU : mtu);
	/* The pseudo-header: source, destination, upper-layer length, next header. */
	struct {
		struct in6_addr saddr;
		struct in6_addr daddr;
		__be32 len;
		__be32 nexthdr;
	} pseudo = {.saddr = ip6->saddr, .daddr = ip6->daddr, .len = bpf_htonl(payload), .nexthdr = bpf_htonl(WEFT_IPPROTO_ICMPV6)};
	__s64 seed = bpf_csum_diff(0, 0, (__be32 *)&pseudo, sizeof(pseudo), 0);
	icmp->check = weft_icmp_sum(icmp, data_end, payload, seed < 0 ? 0 : (__u32)seed);
	return 0;
}

/* The error for a packet too big for its next hop, in place; 0 when it is to be sent back. */
static __always_inline int weft_icmp_too_big(struct __sk_buff *skb, const struct weft_packet *pkt,
					     const struct weft_config *cfg, const struct weft_vrf_info *vrf)
{
	if (pkt->ip4)
		return weft_icmp4_too_big(skb, cfg, vrf, pkt->mtu);
	return weft_icmp6_too_big(skb, cfg, vrf, pkt->mtu);
}

#endif
