/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Underlay ingress: XDP on the host's underlay device (XDP mode). VXLAN to this host's tunnel
 * address with a VNI we know, from a tunnel endpoint our routes point at → routing instance by
 * VNI → route to a pod on this host → policy and security group (stateful) → strip the outer
 * headers, rewrite MACs, redirect to the pod's interface.
 * Everything that is not Weft's (other traffic, other UDP ports, VNIs of a Linux VXLAN device)
 * passes to the kernel untouched: the host's own networking must never notice us. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* IPv6 inside the tunnel. Off builds an IPv4-only datapath with fewer instructions to verify. */
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
#include "lib/forward.h"
#include "lib/vxlan.h"

SEC("xdp")
int weft_underlay_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 ifindex = ctx->ingress_ifindex;

	struct weft_config *cfg = weft_config();
	if (!cfg)
		return XDP_PASS;
	__u32 peer = 0;
	struct weft_vxlanhdr *vxlan = weft_vxlan_header(data, data_end, cfg, WEFT_VXLAN_PORT, &peer);
	if (!vxlan || !(vxlan->flags & bpf_htonl(WEFT_VXLAN_FLAG_VNI)))
		return XDP_PASS;
	__u32 vni = bpf_ntohl(vxlan->vni) >> 8;
	__u32 *vrf_id = bpf_map_lookup_elem(&weft_vni_v1, &vni);
	if (!vrf_id)
		return XDP_PASS;
	__u32 zone = *vrf_id;

	struct weft_if_stats *stats = weft_stats(ifindex);
	/* A VNI of ours from a host that no route points at: nobody we exchange tunnels with. */
	if (!weft_peer_known(peer))
		return weft_drop(stats, WEFT_DROP_UNKNOWN_PEER);
	if (stats) {
		stats->rx_packets++;
		stats->rx_bytes += data_end - data;
	}
	struct ethhdr *inner = (void *)(vxlan + 1);
	if ((void *)(inner + 1) > data_end)
		return weft_drop(stats, WEFT_DROP_MALFORMED);
	struct weft_packet pkt;
	if (weft_parse_ip(&pkt, inner, data_end, zone, data_end - (void *)inner) != WEFT_PARSE_IP)
		return weft_drop(stats, WEFT_DROP_MALFORMED);
#if !ENABLE_IPV6
	if (pkt.ip6)
		return weft_drop(stats, WEFT_DROP_MALFORMED);
#endif

	struct weft_next_hop *nh = 0;
	if (weft_forward_from_tunnel(&pkt, zone, cfg, stats, ifindex, 0, &nh) != WEFT_FWD_LOCAL)
		return XDP_DROP;
	__u32 dst_ifindex = nh->ifindex;
	if (bpf_xdp_adjust_head(ctx, WEFT_VXLAN_ENCAP_LEN))
		return weft_drop(stats, WEFT_DROP_MALFORMED);
	return weft_redirect(stats, dst_ifindex);
}

char _license[] SEC("license") = "Dual BSD/GPL";
