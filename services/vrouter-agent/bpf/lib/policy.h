/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Network policy and security groups, stateful: the rules of every ACL on a flow's path are
 * walked for its first packet only; a flow they let through enters conntrack, and later packets
 * of it and its replies pass on that entry. So a security group that allows only egress still
 * lets the answers in, as users of security groups expect. */
#ifndef WEFT_POLICY_H
#define WEFT_POLICY_H

#include "helpers.h"
#include "probe.h"

/* The ACLs on a flow's path, each 0 when absent, and the routing instances of its ends. */
struct weft_policy_path {
	__u32 src_if_acl;
	__u32 src_vrf_acl;
	__u32 dst_vrf_acl;
	__u32 dst_if_acl;
	__u32 src_vrf;
	__u32 dst_vrf;
};

WEFT_INLINE int weft_path_has_acl(const struct weft_policy_path *path)
{
	return path->src_if_acl | path->src_vrf_acl | path->dst_vrf_acl | path->dst_if_acl;
}

WEFT_INLINE int weft_addr_match(const __u8 *addr, const __u8 *want, const __u8 *mask)
{
	const __u32 *a = (const __u32 *)addr, *w = (const __u32 *)want, *m = (const __u32 *)mask;
	return ((a[0] & m[0]) == w[0]) & ((a[1] & m[1]) == w[1]) & ((a[2] & m[2]) == w[2]) &
	       ((a[3] & m[3]) == w[3]);
}

WEFT_INLINE int weft_rule_match(const struct weft_acl_rule *rule, const struct weft_flow_key *flow,
				const struct weft_policy_path *path)
{
	if (rule->proto && rule->proto != flow->proto)
		return 0;
	if (rule->family && rule->family != flow->family)
		return 0;
	if (rule->src_vrf && rule->src_vrf != path->src_vrf)
		return 0;
	if (rule->dst_vrf && rule->dst_vrf != path->dst_vrf)
		return 0;
	if (flow->proto == WEFT_IPPROTO_TCP || flow->proto == WEFT_IPPROTO_UDP) {
		__u16 sport = bpf_ntohs(flow->sport), dport = bpf_ntohs(flow->dport);
		if (sport < rule->sport_lo || sport > rule->sport_hi || dport < rule->dport_lo ||
		    dport > rule->dport_hi)
			return 0;
	}
	return weft_addr_match(flow->saddr, rule->src_addr, rule->src_mask) &&
	       weft_addr_match(flow->daddr, rule->dst_addr, rule->dst_mask);
}

/* How stale a conntrack entry's last-seen time may get before a packet refreshes it. */
#define WEFT_CT_REFRESH_NS 100000000ULL

struct weft_acl_walk {
	const struct weft_flow_key *flow;
	const struct weft_policy_path *path;
	struct weft_acl *acl;
	int action;
	__u32 rule; /* the deciding rule, for a probe (lib/probe.h) */
};

/* One rule per bpf_loop step: the verifier checks the body once instead of once per rule. */
static long weft_acl_step(__u32 index, void *ctx)
{
	struct weft_acl_walk *walk = ctx;
	if (index >= WEFT_MAX_ACL_RULES)
		return 1;
	struct weft_acl_rule *rule = &walk->acl->rules[index];
	if (!weft_rule_match(rule, walk->flow, walk->path))
		return 0;
	walk->action = rule->action;
	walk->rule = index;
	return 1;
}

/* First matching rule decides. An ACL id that the map does not hold denies: the agent writes
 * ACLs before what refers to them, so a missing one is a fault, and policy fails closed. */
static __noinline int weft_acl_allows(__u32 acl_id, const struct weft_flow_key *flow,
				      const struct weft_policy_path *path)
{
	if (!acl_id)
		return 1;
	struct weft_acl *acl = bpf_map_lookup_elem(&weft_acl_v1, &acl_id);
	if (!acl) {
		weft_probe_acl(flow, acl_id, WEFT_PROBE_MISSING_ACL, WEFT_ACTION_DENY);
		return 0;
	}
	struct weft_acl_walk walk = {
		.flow = flow, .path = path, .acl = acl, .action = acl->default_action, .rule = WEFT_PROBE_DEFAULT_RULE};
	__u32 count = acl->count;
	if (count > WEFT_MAX_ACL_RULES)
		count = WEFT_MAX_ACL_RULES;
	bpf_loop(count, weft_acl_step, &walk, 0);
	weft_probe_acl(flow, acl_id, walk.rule, walk.action);
	return walk.action == WEFT_ACTION_PASS;
}

WEFT_INLINE void weft_flow_reverse(struct weft_flow_key *out, const struct weft_flow_key *in)
{
	__builtin_memcpy(out->saddr, in->daddr, 16);
	__builtin_memcpy(out->daddr, in->saddr, 16);
	out->sport = in->dport;
	out->dport = in->sport;
	out->vrf_id = in->vrf_id;
	out->proto = in->proto;
	out->family = in->family;
	out->pad[0] = 0;
	out->pad[1] = 0;
}

/* The conntrack entry of a flow, in either direction, with its last-seen time refreshed. */
WEFT_INLINE struct weft_ct_entry *weft_ct_entry_of(const struct weft_flow_key *flow)
{
	struct weft_ct_entry *entry = bpf_map_lookup_elem(&weft_ct_v1, flow);
	if (!entry) {
		struct weft_flow_key reverse;
		weft_flow_reverse(&reverse, flow);
		entry = bpf_map_lookup_elem(&weft_ct_v1, &reverse);
		if (!entry)
			return 0;
	}
	/* The coarse clock (jiffies) is a fraction of the cost of the precise one, and ageing flows
	 * out needs seconds, not nanoseconds: the entry is written at most every 100 ms, so the two
	 * directions of a busy flow, on two CPUs, do not bounce its cache line on every packet. */
	__u64 now = bpf_ktime_get_coarse_ns();
	if (now - entry->last_seen_ns > WEFT_CT_REFRESH_NS)
		entry->last_seen_ns = now;
	return entry;
}

/* A flow conntrack knows, in either direction. */
WEFT_INLINE int weft_ct_known(const struct weft_flow_key *flow)
{
	return weft_ct_entry_of(flow) != 0;
}

/* nat_ip4: the floating address of a translated flow (lib/nat.h), 0 for the rest. */
WEFT_INLINE void weft_ct_learn(const struct weft_flow_key *flow, __u32 zone, __u32 ifindex, __u32 nat_ip4)
{
	struct weft_flow_key key = *flow;
	__u64 now = bpf_ktime_get_coarse_ns();
	struct weft_ct_entry entry = {.created_ns = now, .last_seen_ns = now, .ifindex = ifindex, .nat_ip4 = nat_ip4};
	key.vrf_id = zone;
	bpf_map_update_elem(&weft_ct_v1, &key, &entry, BPF_ANY);
}

enum weft_policy_result {
	WEFT_POLICY_DENY = 0,
	WEFT_POLICY_PASS = 1,     /* a flow conntrack knows */
	WEFT_POLICY_NEW_FLOW = 2, /* a new flow the rules let through; conntrack learnt it */
};

/* Whether the ACLs on a flow's path let it through, learning nothing: the first ACL that denies
 * decides. */
WEFT_INLINE int weft_policy_allows(const struct weft_flow_key *flow, const struct weft_policy_path *path)
{
	if (!weft_path_has_acl(path))
		return 1;
	if (!weft_acl_allows(path->src_if_acl, flow, path) || !weft_acl_allows(path->src_vrf_acl, flow, path))
		return 0;
	if (path->dst_vrf_acl != path->src_vrf_acl && !weft_acl_allows(path->dst_vrf_acl, flow, path))
		return 0;
	return weft_acl_allows(path->dst_if_acl, flow, path);
}

/* The policy verdict for a flow conntrack does not know: the ACLs on its path decide, and a
 * flow they let through is learnt. The reply of a flow that crosses routing instances comes
 * back in the other zone, so conntrack learns the flow in both. Flows are tracked without ACLs
 * too: conntrack is what tells a new flow, and every new flow leaves a flow record. (The agent
 * flushes conntrack when an ACL changes, so a new deny also ends flows already open.) */
WEFT_INLINE int weft_policy_decide(const struct weft_flow_key *flow, const struct weft_policy_path *path,
				   __u32 ifindex)
{
	if (!weft_policy_allows(flow, path))
		return WEFT_POLICY_DENY;
	weft_ct_learn(flow, flow->vrf_id, ifindex, 0);
	if (path->dst_vrf != flow->vrf_id)
		weft_ct_learn(flow, path->dst_vrf, ifindex, 0);
	return WEFT_POLICY_NEW_FLOW;
}

/* The policy verdict for a new flow between a port and the outside, through one of the port's
 * floating addresses: learnt in the port's zone only (the outside has none), with the floating
 * address, so that every later packet of the flow, either way, is translated with the same one. */
WEFT_INLINE int weft_policy_decide_nat(const struct weft_flow_key *flow, const struct weft_policy_path *path,
				       __u32 ifindex, __u32 nat_ip4)
{
	if (!weft_policy_allows(flow, path))
		return WEFT_POLICY_DENY;
	weft_ct_learn(flow, flow->vrf_id, ifindex, nat_ip4);
	return WEFT_POLICY_NEW_FLOW;
}

/* The policy verdict for a flow along its path: known flows pass on their conntrack entry. */
WEFT_INLINE int weft_policy_check(const struct weft_flow_key *flow, const struct weft_policy_path *path,
				  __u32 ifindex)
{
	if (weft_ct_known(flow))
		return WEFT_POLICY_PASS;
	return weft_policy_decide(flow, path, ifindex);
}

#endif
