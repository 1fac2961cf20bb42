/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The underlay's first stage in TC mode: XDP on the host's underlay device, before the kernel
 * builds a socket buffer for the packet. VXLAN to this host's tunnel address and port is ours:
 * dropped here when it comes from an address no route points at, carries a VNI of no routing
 * instance of this host, is for no port of this host, or belongs to a new flow that policy denies
 * at ingress; the rest passes to the kernel, whose VXLAN device hands it to the TC programs
 * (tunnel_ingress_tc.c), which forward it and learn its flow. Everything that is not ours
 * passes untouched. A flood of denied packets thus costs an XDP program run per packet, not an
 * skb and the stack (measured against the same drop in TC and in nftables: test/bench/README.md).
 *
 * The TC entry point runs the same first stage on the socket buffer; the benchmark uses it to
 * measure what XDP saves. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* IPv6 inside the tunnel. */
#ifndef ENABLE_IPV6
#define ENABLE_IPV6 1
#endif

/* Denied and unroutable packets leave a flow record, as in the forwarding stage. */
#ifndef ENABLE_FLOW_SAMPLES
#define ENABLE_FLOW_SAMPLES 1
#endif

/* Floating IPs: traffic from outside to one is translated here, at TC (lib/nat.h). */
#ifndef ENABLE_FLOATING_IPS
#define ENABLE_FLOATING_IPS 1
#endif

#include "lib/consts.h"
#include "lib/structs.h"
#include "lib/maps.h"
#include "lib/helpers.h"
#include "lib/policy.h"
#include "lib/forward.h"
#include "lib/vxlan.h"
#include "lib/nat.h"

/* Outer headers and the inner Ethernet, IPv6 and ports: what the first stage reads. */
#define WEFT_GUARD_HEADERS (WEFT_VXLAN_ENCAP_LEN + 14 + 40 + 8)

enum weft_guard_verdict {
	WEFT_GUARD_PASS = 0,
	WEFT_GUARD_DROP = 1,
};

/* The first stage on one frame: pass, or drop (counted on the underlay device by reason). */
static __always_inline int weft_guard(void *data, void *data_end, __u32 frame_len, __u32 ifindex)
{
	struct weft_config *cfg = weft_config();
	if (!cfg)
		return WEFT_GUARD_PASS;
	__u32 peer = 0;
	struct weft_vxlanhdr *vxlan = weft_vxlan_header(data, data_end, cfg, cfg->tunnel_port, &peer);
	if (!vxlan)
		return WEFT_GUARD_PASS;
	struct weft_if_stats *stats = weft_stats(ifindex);
	if (stats) {
		stats->rx_packets++;
		stats->rx_bytes += frame_len;
	}
	if (!weft_peer_known(peer)) {
		weft_drop(stats, WEFT_DROP_UNKNOWN_PEER);
		return WEFT_GUARD_DROP;
	}
	if (!(vxlan->flags & bpf_htonl(WEFT_VXLAN_FLAG_VNI))) {
		weft_drop(stats, WEFT_DROP_MALFORMED);
		return WEFT_GUARD_DROP;
	}
	__u32 vni = bpf_ntohl(vxlan->vni) >> 8;
	__u32 *vrf_id = bpf_map_lookup_elem(&weft_vni_v1, &vni);
	if (!vrf_id) {
		weft_drop(stats, WEFT_DROP_UNKNOWN_VNI);
		return WEFT_GUARD_DROP;
	}
	__u32 zone = *vrf_id;
	struct ethhdr *inner = (void *)(vxlan + 1);
	if ((void *)(inner + 1) > data_end)
		return WEFT_GUARD_PASS;
	struct weft_packet pkt;
	/* What this stage cannot read whole (an inner packet longer than the frame, a GRO'd one)
	 * is the forwarding stage's to judge. */
	if (weft_parse_ip(&pkt, inner, data_end, zone, frame_len - WEFT_VXLAN_ENCAP_LEN) != WEFT_PARSE_IP)
		return WEFT_GUARD_PASS;
	int reason = weft_tunnel_admits(&pkt, zone);
	if (reason == WEFT_NO_DROP)
		return WEFT_GUARD_PASS;
	weft_forward_drop(stats, &pkt, ifindex, zone, reason);
	return WEFT_GUARD_DROP;
}

SEC("xdp")
int weft_underlay_guard(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	return weft_guard(data, data_end, data_end - data, ctx->ingress_ifindex) == WEFT_GUARD_DROP ? XDP_DROP
												   : XDP_PASS;
}

static __always_inline void weft_guard_pull(struct __sk_buff *skb)
{
	if ((long)skb->data_end - (long)skb->data < WEFT_GUARD_HEADERS && skb->len > skb->data_end - skb->data)
		bpf_skb_pull_data(skb, skb->len < WEFT_GUARD_HEADERS ? skb->len : WEFT_GUARD_HEADERS);
}

/* The first stage at TC, and the floating addresses of this host (lib/nat.h) before it. */
SEC("tc")
int weft_underlay_guard_tc(struct __sk_buff *skb)
{
	weft_guard_pull(skb);
	int nat = weft_nat_from_outside(skb);
	if (nat != WEFT_NAT_NOT_OURS)
		return nat;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	return weft_guard(data, data_end, skb->len, skb->ingress_ifindex) == WEFT_GUARD_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

/* The floating addresses alone, at TC ingress of the underlay, where the first stage runs in XDP
 * (which passes such packets untouched) or not at all. */
SEC("tc")
int weft_underlay_nat_tc(struct __sk_buff *skb)
{
	weft_guard_pull(skb);
	int nat = weft_nat_from_outside(skb);
	return nat == WEFT_NAT_NOT_OURS ? TC_ACT_OK : nat;
}

char _license[] SEC("license") = "Dual BSD/GPL";
