/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Probes: how the datapath says what it decided for one packet (weftctl probe, as Cilium's
 * policy verdict notifications do). The agent arms weft_probe_v1 with the flow of a crafted
 * packet and runs the real program on it with BPF_PROG_TEST_RUN against the live maps; the
 * decisions below note, for that flow only, each ACL walked (the deciding rule's index, or the
 * default), and the drop reason or the next hop. The answer comes from the datapath itself,
 * not from a re-reading of the rules in user space. */
#ifndef WEFT_PROBE_H
#define WEFT_PROBE_H

#include "helpers.h"

/* The armed trace when this is the probe's flow, else 0. The flow key is 44 bytes: compared
 * as eleven words, since the BPF target has no memcmp. */
WEFT_INLINE struct weft_probe_trace *weft_probe_of(const struct weft_flow_key *flow)
{
	__u32 zero = 0;
	struct weft_probe_trace *trace = bpf_map_lookup_elem(&weft_probe_v1, &zero);
	if (!trace || !trace->armed)
		return 0;
	const __u32 *want = (const __u32 *)&trace->flow, *have = (const __u32 *)flow;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(struct weft_flow_key) / 4); i++)
		if (want[i] != have[i])
			return 0;
	return trace;
}

/* An ACL walked for the probe's flow: which rule decided (or the default), and how. */
WEFT_INLINE void weft_probe_acl(const struct weft_flow_key *flow, __u32 acl_id, __u32 rule, int action)
{
	struct weft_probe_trace *trace = weft_probe_of(flow);
	if (!trace)
		return;
	__u32 n = trace->acl_count;
	if (n >= WEFT_PROBE_MAX_ACLS)
		return;
	trace->acls[n].acl_id = acl_id;
	trace->acls[n].rule = rule;
	trace->acls[n].action = action;
	trace->acl_count = n + 1;
}

WEFT_INLINE void weft_probe_drop(const struct weft_flow_key *flow, __u32 reason)
{
	struct weft_probe_trace *trace = weft_probe_of(flow);
	if (!trace)
		return;
	trace->result = WEFT_PROBE_DROP;
	trace->reason = reason;
}

WEFT_INLINE void weft_probe_forward(const struct weft_flow_key *flow, int tunnel, const struct weft_next_hop *nh)
{
	struct weft_probe_trace *trace = weft_probe_of(flow);
	if (!trace)
		return;
	trace->result = tunnel ? WEFT_PROBE_TUNNEL : WEFT_PROBE_LOCAL;
	__builtin_memcpy(&trace->next_hop, nh, sizeof(*nh));
}

#endif
