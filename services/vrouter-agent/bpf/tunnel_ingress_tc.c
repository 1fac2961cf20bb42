/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Tunnel ingress on TC: at the ingress hook of the host's VXLAN device in external mode, where
 * the kernel has already taken the outer headers off (with GRO) and left the VNI in the tunnel
 * key. VNI → routing instance → route to a pod on this host → policy (lib/forward.h) → MACs
 * rewritten → straight into the pod's namespace (bpf_redirect_peer). The TC counterpart of
 * underlay_ingress.c, used with pod_egress_tc.c. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* IPv6 inside the tunnel. */
#ifndef ENABLE_IPV6
#define ENABLE_IPV6 1
#endif

/* Flow records to analytics through the ring buffer. */
#ifndef ENABLE_FLOW_SAMPLES
#define ENABLE_FLOW_SAMPLES 1
#endif

/* Services: a balanced connection's reply from a backend on another host gets the virtual IP
 * back as its source on its way into the client (lib/service.h). */
#ifndef ENABLE_SERVICES
#define ENABLE_SERVICES 1
#endif

#include "lib/consts.h"
#include "lib/structs.h"
#include "lib/maps.h"
#include "lib/helpers.h"
#include "lib/policy.h"
#include "lib/forward.h"
#include "lib/service.h"

#define WEFT_TC_HEADERS (14 + 40 + 8)

SEC("tc")
int weft_tunnel_ingress_tc(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ingress_ifindex;
	struct weft_config *cfg = weft_config();
	if (!cfg)
		return TC_ACT_OK;
	struct bpf_tunnel_key key = {};
	if (bpf_skb_get_tunnel_key(skb, &key, sizeof(key), 0) < 0)
		return TC_ACT_OK;
	__u32 vni = key.tunnel_id;
	__u32 *vrf_id = bpf_map_lookup_elem(&weft_vni_v1, &vni);
	if (!vrf_id)
		return TC_ACT_OK;
	__u32 zone = *vrf_id;
	struct weft_if_stats *stats = weft_stats(ifindex);
	if (stats) {
		stats->rx_packets++;
		stats->rx_bytes += skb->len;
	}
	if ((long)skb->data_end - (long)skb->data < WEFT_TC_HEADERS && skb->len > skb->data_end - skb->data)
		bpf_skb_pull_data(skb, skb->len < WEFT_TC_HEADERS ? skb->len : WEFT_TC_HEADERS);
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		goto malformed;
	struct weft_packet pkt;
	if (weft_parse_ip(&pkt, eth, data_end, zone, skb->len) != WEFT_PARSE_IP)
		goto malformed;
#if !ENABLE_IPV6
	if (pkt.ip6)
		goto malformed;
#endif
	struct weft_next_hop *nh = 0;
	if (weft_forward_from_tunnel(&pkt, zone, cfg, stats, ifindex, skb->gso_segs > 1, &nh) != WEFT_FWD_LOCAL)
		return TC_ACT_SHOT;
	__u32 dst_ifindex = nh->ifindex;
#if ENABLE_SERVICES
	if (weft_service_to_client(skb, &pkt, zone) < 0)
		goto malformed;
#endif
	return bpf_redirect_peer(dst_ifindex, 0);

malformed:
	weft_drop(stats, WEFT_DROP_MALFORMED);
	return TC_ACT_SHOT;
}

char _license[] SEC("license") = "Dual BSD/GPL";
