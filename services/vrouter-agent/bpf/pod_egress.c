/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Pod egress: XDP on the host end of a pod's veth, so it sees every packet the pod sends.
 * interface → routing instance → ARP for the virtual gateway, or: route lookup → policy and
 * security groups (stateful) → local next hop: rewrite MACs and redirect to that pod's
 * interface; remote next hop: VXLAN towards the remote host, out of the underlay device.
 * A device that is not a pod interface of ours passes to the kernel untouched. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* IPv6 forwarding. Off builds an IPv4-only datapath with fewer instructions to verify. */
#ifndef ENABLE_IPV6
#define ENABLE_IPV6 1
#endif

/* Proxy ARP for every host route of the routing instance, not only the gateway: the datapath
 * routes at L3 (as Tungsten Fabric's vrouter does), so a pod asking for a neighbour on its own
 * subnet must get the gateway's MAC as well. */
#ifndef ENABLE_ARP_PROXY
#define ENABLE_ARP_PROXY 1
#endif

/* Flow records to analytics through the ring buffer. */
#ifndef ENABLE_FLOW_SAMPLES
#define ENABLE_FLOW_SAMPLES 1
#endif

#include "lib/consts.h"
#include "lib/structs.h"
#include "lib/maps.h"
#include "lib/helpers.h"
#include "lib/policy.h"
#include "lib/vxlan.h"

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

/* Turns an ARP request for the gateway into the reply, in place, and sends it back. */
static __always_inline int weft_arp_reply(struct ethhdr *eth, void *data_end, const struct weft_config *cfg,
					  const struct weft_if_info *iface, const struct weft_vrf_info *vrf,
					  struct weft_if_stats *stats, __u32 ifindex)
{
	struct weft_arp *arp = (void *)(eth + 1);
	if ((void *)(arp + 1) > data_end)
		return weft_drop(stats, WEFT_DROP_MALFORMED);
	if (arp->hrd != bpf_htons(WEFT_ARP_HRD_ETHER) || arp->pro != bpf_htons(WEFT_ETH_P_IP) ||
	    arp->op != bpf_htons(WEFT_ARP_OP_REQUEST))
		return XDP_PASS;
	__u32 sender, target;
	__builtin_memcpy(&sender, arp->sip, 4);
	__builtin_memcpy(&target, arp->tip, 4);
	if (sender == target || !weft_arp_target_is_ours(iface, vrf, target, ifindex))
		return XDP_PASS;

	arp->op = bpf_htons(WEFT_ARP_OP_REPLY);
	__builtin_memcpy(arp->tha, arp->sha, WEFT_ETH_ALEN);
	__builtin_memcpy(arp->tip, &sender, 4);
	__builtin_memcpy(arp->sha, cfg->router_mac, WEFT_ETH_ALEN);
	__builtin_memcpy(arp->sip, &target, 4);
	weft_set_macs(eth, eth->h_source, cfg->router_mac);
	if (stats)
		stats->arp_replies++;
	return XDP_TX;
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

/* Turns a neighbour solicitation for the gateway into the advertisement, in place, and sends
 * it back. Returns -1 for anything it does not answer. */
static __always_inline int weft_nd_reply(struct weft_packet *pkt, void *data_end, const struct weft_config *cfg,
					 const struct weft_if_info *iface, const struct weft_vrf_info *vrf,
					 struct weft_if_stats *stats, __u32 ifindex)
{
	struct ipv6hdr *ip6 = pkt->ip6;
	struct weft_nd_msg *msg = (void *)(ip6 + 1);
	if ((void *)(msg + 1) > data_end || msg->type != WEFT_ND_SOLICIT || msg->code != 0 ||
	    ip6->payload_len != bpf_htons(sizeof(*msg)))
		return -1;
	/* From the unspecified address: duplicate address detection, never answered. */
	const __u32 *src = (const __u32 *)&ip6->saddr;
	if (!(src[0] | src[1] | src[2] | src[3]))
		return -1;
	int router;
	if (!weft_nd_target_is_ours(iface, vrf, msg->target, ifindex, &router))
		return -1;

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
	return XDP_TX;
}

SEC("xdp")
int weft_pod_egress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 ifindex = ctx->ingress_ifindex;

	struct weft_if_info *iface = bpf_map_lookup_elem(&weft_if_v1, &ifindex);
	struct weft_config *cfg = weft_config();
	if (!iface || !cfg)
		return XDP_PASS;
	struct weft_if_stats *stats = weft_stats(ifindex);
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return weft_drop(stats, WEFT_DROP_MALFORMED);
	if (stats) {
		stats->rx_packets++;
		stats->rx_bytes += data_end - data;
	}
	__u32 src_vrf = iface->vrf_id;
	struct weft_vrf_info *vrf = bpf_map_lookup_elem(&weft_vrf_v1, &src_vrf);

	if (eth->h_proto == bpf_htons(WEFT_ETH_P_ARP))
		return weft_arp_reply(eth, data_end, cfg, iface, vrf, stats, ifindex);

	struct weft_packet pkt;
	int parsed = weft_parse_ip(&pkt, eth, data_end, src_vrf);
	if (parsed == WEFT_PARSE_MALFORMED)
		return weft_drop(stats, WEFT_DROP_MALFORMED);
#if !ENABLE_IPV6
	if (pkt.ip6)
		parsed = WEFT_PARSE_NOT_IP;
#endif
	if (pkt.ip6 && pkt.flow.proto == WEFT_IPPROTO_ICMPV6) {
		int answered = weft_nd_reply(&pkt, data_end, cfg, iface, vrf, stats, ifindex);
		if (answered >= 0)
			return answered;
	}
	/* What belongs to the link (neighbour discovery, DHCP, multicast) goes to the host's stack. */
	if (parsed == WEFT_PARSE_NOT_IP || weft_is_link_scope(&pkt.flow))
		goto to_host;

	struct weft_next_hop *nh = weft_route_lookup(&pkt.flow, src_vrf, 1);
	if (!nh)
		goto drop_no_route;
	if (nh->kind == WEFT_NH_RECEIVE)
		goto to_host;
	if (nh->kind != WEFT_NH_LOCAL && nh->kind != WEFT_NH_TUNNEL)
		goto drop_no_route;

	struct weft_policy_path path = {
		.src_if_acl = (iface->flags & WEFT_IF_PORT_SECURITY) ? iface->acl_id : 0,
		.src_vrf_acl = vrf ? vrf->acl_id : 0,
		.src_vrf = src_vrf,
		.dst_vrf = nh->vrf_id,
	};
	path.dst_vrf_acl = path.src_vrf_acl;
	if (nh->vrf_id != src_vrf) {
		__u32 dst_vrf = nh->vrf_id;
		struct weft_vrf_info *other = bpf_map_lookup_elem(&weft_vrf_v1, &dst_vrf);
		path.dst_vrf_acl = other ? other->acl_id : 0;
	}
	__u32 mtu = cfg->underlay_mtu;
	__u32 needed = pkt.l3_len + WEFT_VXLAN_ENCAP_LEN - sizeof(struct ethhdr);
	if (nh->kind == WEFT_NH_LOCAL) {
		__u32 dst_ifindex = nh->ifindex;
		struct weft_if_info *dst = bpf_map_lookup_elem(&weft_if_v1, &dst_ifindex);
		if (!dst)
			goto drop_no_route;
		if (dst->flags & WEFT_IF_PORT_SECURITY)
			path.dst_if_acl = dst->acl_id;
		mtu = dst->mtu;
		needed = pkt.l3_len;
	}
	if (mtu && needed > mtu) {
		weft_drop(stats, WEFT_DROP_MTU);
		goto sample_drop_mtu;
	}

	int policy = weft_policy_check(&pkt.flow, &path, ifindex);
	if (policy == WEFT_POLICY_DENY) {
		weft_drop(stats, WEFT_DROP_POLICY);
		if (ENABLE_FLOW_SAMPLES)
			weft_sample(&pkt.flow, ifindex, nh->vrf_id, pkt.l3_len, WEFT_VERDICT_DROP, WEFT_DROP_POLICY);
		return XDP_DROP;
	}
	if (weft_decrement_ttl(&pkt) < 0)
		return weft_drop(stats, WEFT_DROP_TTL);
	weft_set_macs(eth, nh->mac, cfg->router_mac);

	int tunnel = nh->kind == WEFT_NH_TUNNEL;
	if (ENABLE_FLOW_SAMPLES && weft_should_sample(cfg, policy == WEFT_POLICY_NEW_FLOW, 0))
		weft_sample(&pkt.flow, ifindex, nh->vrf_id, pkt.l3_len, tunnel ? WEFT_VERDICT_TUNNEL : WEFT_VERDICT_LOCAL, 0);
	if (tunnel) {
		/* Copy what encapsulation needs: the map value stays valid, the packet does not. */
		if (weft_vxlan_encap(ctx, cfg, nh, weft_flow_port(&pkt.flow)) < 0)
			return weft_drop(stats, WEFT_DROP_MALFORMED);
		if (stats)
			stats->tx_tunnel++;
	} else if (stats) {
		stats->tx_local++;
	}
	return weft_redirect(stats, nh->ifindex);

to_host:
	if (stats)
		stats->to_host++;
	return XDP_PASS;
drop_no_route:
	weft_drop(stats, WEFT_DROP_NO_ROUTE);
	if (ENABLE_FLOW_SAMPLES)
		weft_sample(&pkt.flow, ifindex, 0, pkt.l3_len, WEFT_VERDICT_DROP, WEFT_DROP_NO_ROUTE);
	return XDP_DROP;
sample_drop_mtu:
	if (ENABLE_FLOW_SAMPLES)
		weft_sample(&pkt.flow, ifindex, nh->vrf_id, pkt.l3_len, WEFT_VERDICT_DROP, WEFT_DROP_MTU);
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
