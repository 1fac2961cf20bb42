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

/* Flow records to analytics through the ring buffer. */
#ifndef ENABLE_FLOW_SAMPLES
#define ENABLE_FLOW_SAMPLES 1
#endif

#include "lib/consts.h"
#include "lib/structs.h"
#include "lib/maps.h"
#include "lib/helpers.h"
#include "lib/policy.h"
#include "lib/neighbour.h"
#include "lib/forward.h"
#include "lib/vxlan.h"

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

	if (eth->h_proto == bpf_htons(WEFT_ETH_P_ARP)) {
		int answer = weft_arp_reply(eth, data_end, cfg, iface, vrf, stats, ifindex);
		if (answer == WEFT_NEIGH_MALFORMED)
			return weft_drop(stats, WEFT_DROP_MALFORMED);
		return answer == WEFT_NEIGH_REPLY ? XDP_TX : XDP_PASS;
	}

	struct weft_packet pkt;
	int parsed = weft_parse_ip(&pkt, eth, data_end, src_vrf, data_end - data);
	if (parsed == WEFT_PARSE_MALFORMED)
		return weft_drop(stats, WEFT_DROP_MALFORMED);
#if !ENABLE_IPV6
	if (pkt.ip6)
		parsed = WEFT_PARSE_NOT_IP;
#endif
	if (parsed == WEFT_PARSE_NOT_IP) {
		if (stats)
			stats->to_host++;
		return XDP_PASS;
	}
	if (pkt.ip6 && pkt.flow.proto == WEFT_IPPROTO_ICMPV6 &&
	    weft_nd_reply(&pkt, data_end, cfg, iface, vrf, stats, ifindex) == WEFT_NEIGH_REPLY)
		return XDP_TX;

	struct weft_next_hop *nh = 0;
	switch (weft_forward_from_pod(&pkt, iface, vrf, cfg, stats, ifindex, 0, &nh)) {
	case WEFT_FWD_LOCAL:
		return weft_redirect(stats, nh->ifindex);
	case WEFT_FWD_TUNNEL:
		if (weft_vxlan_encap(ctx, cfg, nh, weft_flow_port(&pkt.flow)) < 0)
			return weft_drop(stats, WEFT_DROP_MALFORMED);
		return weft_redirect(stats, nh->ifindex);
	case WEFT_FWD_HOST:
		return XDP_PASS;
	default:
		return XDP_DROP;
	}
}

char _license[] SEC("license") = "Dual BSD/GPL";
