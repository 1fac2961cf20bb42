/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The forwarding decision, shared by the XDP programs and their TC counterparts: routing,
 * policy, MTU, TTL, counters, flow samples and the Ethernet rewrite. What differs per hook is
 * only how the verdict is carried out (redirect, encapsulation), which the programs do. */
#ifndef WEFT_FORWARD_H
#define WEFT_FORWARD_H

#include "helpers.h"
#include "policy.h"

/* Flow records to analytics through the ring buffer. */
#ifndef ENABLE_FLOW_SAMPLES
#define ENABLE_FLOW_SAMPLES 1
#endif

/* Floating IPs (1:1 NAT between a port and the outside, lib/nat.h). The TC programs carry them
 * out; the XDP programs do not (a packet with no route stays a noRoute drop there). */
#ifndef ENABLE_FLOATING_IPS
#define ENABLE_FLOATING_IPS 0
#endif

enum weft_forward_result {
	WEFT_FWD_HOST = 0,   /* to the host's stack */
	WEFT_FWD_DROP = 1,   /* counted and sampled already */
	WEFT_FWD_LOCAL = 2,  /* to a pod on this host: *out is its next hop */
	WEFT_FWD_TUNNEL = 3, /* to another host: *out is the tunnel next hop */
	WEFT_FWD_TOO_BIG = 4, /* larger than the next hop carries (counted as an MTU drop): pkt->mtu
			       * is what it carries, for an ICMP error back to the sender */
	WEFT_FWD_OUTSIDE = 5, /* to the outside, through the host's routing: pkt->nat_ip4 is the
			       * floating address to put as the source (lib/nat.h) */
};

static __always_inline int weft_forward_drop(struct weft_if_stats *stats, const struct weft_packet *pkt, __u32 ifindex,
					     __u32 dst_vrf, enum weft_drop_reason reason)
{
	weft_drop(stats, reason);
	weft_probe_drop(&pkt->flow, reason);
	if (ENABLE_FLOW_SAMPLES)
		weft_sample(&pkt->flow, ifindex, dst_vrf, pkt->l3_len, WEFT_VERDICT_DROP, reason);
	return WEFT_FWD_DROP;
}

/* Whether the packet fits the next hop; a GSO packet is cut to size after us, so it always does. */
static __always_inline int weft_fits(__u32 needed, __u32 mtu, int gso)
{
	return gso || !mtu || needed <= mtu;
}

/* A packet a pod sent to an address its routing instance has no route for: the outside, when
 * the port has a floating address. A flow conntrack knows keeps the address it was translated
 * with (the one an outside client connected to), as long as that address is still the port's;
 * a new flow takes the port's first floating address, and the port's policies decide it. */
static __always_inline int weft_forward_to_outside(struct weft_packet *pkt, const struct weft_if_info *iface,
						   const struct weft_vrf_info *vrf, struct weft_if_stats *stats,
						   __u32 ifindex)
{
	if (pkt->flow.family != WEFT_FAMILY_IPV4)
		return weft_forward_drop(stats, pkt, ifindex, 0, WEFT_DROP_NO_ROUTE);
	__u32 src_vrf = iface->vrf_id;
	__u32 saddr = ((__u32 *)pkt->flow.saddr)[3];
	__u32 nat = 0;
	struct weft_ct_entry *entry = weft_ct_entry_of(&pkt->flow);
	if (entry) {
		nat = entry->nat_ip4;
		struct weft_floating_ip *fip = nat ? bpf_map_lookup_elem(&weft_fip4_v1, &nat) : 0;
		/* Moved to another port or disassociated: the flow is cut, not sent with an address
		 * that is no longer this port's. */
		if (!fip || fip->fixed_ip4 != saddr || fip->vrf_id != src_vrf)
			return weft_forward_drop(stats, pkt, ifindex, 0, WEFT_DROP_NO_ROUTE);
	} else {
		struct weft_route4_key port = {.vrf_id = src_vrf, .addr = saddr};
		__u32 *first = bpf_map_lookup_elem(&weft_snat4_v1, &port);
		if (!first)
			return weft_forward_drop(stats, pkt, ifindex, 0, WEFT_DROP_NO_ROUTE);
		nat = *first;
		struct weft_policy_path path = {
			.src_if_acl = (iface->flags & WEFT_IF_PORT_SECURITY) ? iface->acl_id : 0,
			.src_vrf_acl = vrf ? vrf->acl_id : 0,
			.src_vrf = src_vrf,
		};
		path.dst_vrf_acl = path.src_vrf_acl;
		if (weft_policy_decide_nat(&pkt->flow, &path, ifindex, nat) == WEFT_POLICY_DENY)
			return weft_forward_drop(stats, pkt, ifindex, 0, WEFT_DROP_POLICY);
	}
	if (weft_decrement_ttl(pkt) < 0)
		return weft_forward_drop(stats, pkt, ifindex, 0, WEFT_DROP_TTL);
	if (stats)
		stats->to_host++;
	pkt->nat_ip4 = nat;
	return WEFT_FWD_OUTSIDE;
}

/* An IP packet a pod sent: route it in the interface's routing instance, check the policies on
 * its path, and rewrite it for the next hop. */
static __always_inline int weft_forward_from_pod(struct weft_packet *pkt, const struct weft_if_info *iface,
						 const struct weft_vrf_info *vrf, const struct weft_config *cfg,
						 struct weft_if_stats *stats, __u32 ifindex, int gso,
						 struct weft_next_hop **out)
{
	__u32 src_vrf = iface->vrf_id;
	/* What belongs to the link (neighbour discovery, DHCP, multicast) goes to the host's stack. */
	if (weft_is_link_scope(&pkt->flow))
		goto to_host;
	struct weft_next_hop *nh = weft_route_lookup(&pkt->flow, src_vrf, 1);
	if (!nh) {
		if (ENABLE_FLOATING_IPS)
			return weft_forward_to_outside(pkt, iface, vrf, stats, ifindex);
		return weft_forward_drop(stats, pkt, ifindex, 0, WEFT_DROP_NO_ROUTE);
	}
	if (nh->kind == WEFT_NH_RECEIVE)
		goto to_host;
	/* A route the gateway offered: out of the overlay as without a route, but to that gateway
	 * (the caller reads it from *out) rather than wherever the host's routing points. */
	if (nh->kind == WEFT_NH_OUTSIDE) {
		if (!ENABLE_FLOATING_IPS)
			return weft_forward_drop(stats, pkt, ifindex, 0, WEFT_DROP_NO_ROUTE);
		*out = nh;
		return weft_forward_to_outside(pkt, iface, vrf, stats, ifindex);
	}
	if (nh->kind != WEFT_NH_LOCAL && nh->kind != WEFT_NH_TUNNEL)
		return weft_forward_drop(stats, pkt, ifindex, 0, WEFT_DROP_NO_ROUTE);

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
	/* The outer IP packet: outer IPv4, UDP and VXLAN headers, the inner Ethernet header and the
	 * pod's packet; that is the encapsulation's length (which counts the outer Ethernet header
	 * instead of the inner one). */
	__u32 needed = pkt->l3_len + WEFT_VXLAN_ENCAP_LEN;
	if (nh->kind == WEFT_NH_LOCAL) {
		__u32 dst_ifindex = nh->ifindex;
		struct weft_if_info *dst = bpf_map_lookup_elem(&weft_if_v1, &dst_ifindex);
		if (!dst)
			return weft_forward_drop(stats, pkt, ifindex, 0, WEFT_DROP_NO_ROUTE);
		if (dst->flags & WEFT_IF_PORT_SECURITY)
			path.dst_if_acl = dst->acl_id;
		mtu = dst->mtu;
		needed = pkt->l3_len;
	}
	if (!weft_fits(needed, mtu, gso)) {
		weft_forward_drop(stats, pkt, ifindex, nh->vrf_id, WEFT_DROP_MTU);
		/* What the next hop carries of the pod's IP packets: the overlay loses the VXLAN header. */
		pkt->mtu = nh->kind == WEFT_NH_LOCAL ? mtu : mtu - WEFT_VXLAN_ENCAP_LEN;
		return WEFT_FWD_TOO_BIG;
	}

	int policy = weft_policy_check(&pkt->flow, &path, ifindex);
	if (policy == WEFT_POLICY_DENY)
		return weft_forward_drop(stats, pkt, ifindex, nh->vrf_id, WEFT_DROP_POLICY);
	if (weft_decrement_ttl(pkt) < 0)
		return weft_forward_drop(stats, pkt, ifindex, nh->vrf_id, WEFT_DROP_TTL);
	weft_set_macs(pkt->eth, nh->mac, cfg->router_mac);

	int tunnel = nh->kind == WEFT_NH_TUNNEL;
	if (policy == WEFT_POLICY_NEW_FLOW)
		weft_probe_forward(&pkt->flow, tunnel, nh);
	if (ENABLE_FLOW_SAMPLES && weft_should_sample(cfg, policy == WEFT_POLICY_NEW_FLOW, 0))
		weft_sample(&pkt->flow, ifindex, nh->vrf_id, pkt->l3_len, tunnel ? WEFT_VERDICT_TUNNEL : WEFT_VERDICT_LOCAL, 0);
	if (stats) {
		if (tunnel)
			stats->tx_tunnel++;
		else
			stats->tx_local++;
	}
	*out = nh;
	return tunnel ? WEFT_FWD_TUNNEL : WEFT_FWD_LOCAL;

to_host:
	if (stats)
		stats->to_host++;
	return WEFT_FWD_HOST;
}

/* No drop: what the path helpers return when the packet goes on. */
#define WEFT_NO_DROP (-1)

/* Where a packet that arrived through a tunnel into routing instance `zone` goes, and the
 * policies on its way: WEFT_NO_DROP with *out and *path set, or the drop reason. Only a port of
 * this host is reached this way, never another tunnel. `gso`: the packet is cut to size later
 * (or its MTU is checked later), so it always fits. */
static __always_inline int weft_tunnel_path(struct weft_packet *pkt, __u32 zone, int gso, struct weft_next_hop **out,
					    struct weft_policy_path *path)
{
	struct weft_next_hop *nh = weft_route_lookup(&pkt->flow, zone, 1);
	if (!nh || nh->kind != WEFT_NH_LOCAL)
		return WEFT_DROP_NO_ROUTE;
	__u32 dst_ifindex = nh->ifindex;
	struct weft_if_info *dst = bpf_map_lookup_elem(&weft_if_v1, &dst_ifindex);
	if (!dst)
		return WEFT_DROP_NO_ROUTE;
	if (!weft_fits(pkt->l3_len, dst->mtu, gso))
		return WEFT_DROP_MTU;
	__builtin_memset(path, 0, sizeof(*path));
	path->dst_if_acl = (dst->flags & WEFT_IF_PORT_SECURITY) ? dst->acl_id : 0;
	path->dst_vrf = nh->vrf_id;
	__u32 dst_vrf = nh->vrf_id;
	struct weft_vrf_info *vrf = bpf_map_lookup_elem(&weft_vrf_v1, &dst_vrf);
	path->dst_vrf_acl = vrf ? vrf->acl_id : 0;
	path->src_vrf_acl = path->dst_vrf_acl;
	*out = nh;
	return WEFT_NO_DROP;
}

/* The sender's routing instance, for rules that name it, from the route back to it: looked up
 * for the first packet of a flow only, and only when an ACL is on the path. */
static __always_inline void weft_tunnel_source(const struct weft_packet *pkt, __u32 zone,
					       struct weft_policy_path *path)
{
	if (!weft_path_has_acl(path))
		return;
	struct weft_next_hop *back = weft_route_lookup(&pkt->flow, zone, 0);
	path->src_vrf = back ? back->vrf_id : 0;
}

/* An IP packet that arrived through a tunnel into routing instance `zone` (by its VNI). */
static __always_inline int weft_forward_from_tunnel(struct weft_packet *pkt, __u32 zone, const struct weft_config *cfg,
						    struct weft_if_stats *stats, __u32 ifindex, int gso,
						    struct weft_next_hop **out)
{
	struct weft_policy_path path;
	struct weft_next_hop *nh = 0;
	int reason = weft_tunnel_path(pkt, zone, gso, &nh, &path);
	if (reason != WEFT_NO_DROP)
		return weft_forward_drop(stats, pkt, ifindex, zone, reason);
	__u32 dst_vrf = nh->vrf_id;
	int policy = WEFT_POLICY_PASS;
	if (!weft_ct_known(&pkt->flow)) {
		weft_tunnel_source(pkt, zone, &path);
		policy = weft_policy_decide(&pkt->flow, &path, ifindex);
	}
	if (policy == WEFT_POLICY_DENY)
		return weft_forward_drop(stats, pkt, ifindex, dst_vrf, WEFT_DROP_POLICY);
	if (ENABLE_FLOW_SAMPLES && weft_should_sample(cfg, policy == WEFT_POLICY_NEW_FLOW, 0))
		weft_sample(&pkt->flow, ifindex, dst_vrf, pkt->l3_len, WEFT_VERDICT_DECAP, 0);
	if (policy == WEFT_POLICY_NEW_FLOW)
		weft_probe_forward(&pkt->flow, 0, nh);
	/* The sender already counted this hop in the TTL; only the Ethernet header changes. */
	weft_set_macs(pkt->eth, nh->mac, cfg->router_mac);
	if (stats)
		stats->tx_local++;
	*out = nh;
	return WEFT_FWD_LOCAL;
}

/* The first stage for a packet from another host, before the stage that forwards it: whether
 * it may go on (WEFT_NO_DROP) or the reason to drop it. It learns nothing: conntrack is the
 * forwarding stage's to fill, and a flow conntrack knows passes here on that entry. */
static __always_inline int weft_tunnel_admits(struct weft_packet *pkt, __u32 zone)
{
	struct weft_policy_path path;
	struct weft_next_hop *nh = 0;
	/* One frame at a time here: the MTU is the forwarding stage's to check, on the whole packet. */
	int reason = weft_tunnel_path(pkt, zone, 1, &nh, &path);
	if (reason != WEFT_NO_DROP)
		return reason;
	if (weft_ct_known(&pkt->flow))
		return WEFT_NO_DROP;
	weft_tunnel_source(pkt, zone, &path);
	return weft_policy_allows(&pkt->flow, &path) ? WEFT_NO_DROP : WEFT_DROP_POLICY;
}

#endif
