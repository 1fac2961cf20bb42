/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Returns every packet to the kernel. Two uses: on the pod end of a veth, where an XDP program
 * must exist for XDP_REDIRECT into that veth to be delivered; and as the baseline of the
 * datapath benchmark (the cost of running any XDP program at all). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int weft_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
