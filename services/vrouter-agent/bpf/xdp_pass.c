/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Returns every packet to the kernel. Two uses: on the pod end of a veth, where an XDP program
 * must exist for XDP_REDIRECT into that veth to be delivered; and as the baseline of the
 * datapath benchmark (the cost of running any XDP program at all).
 * weft_bounce sends every packet back out of its device: run in BPF_PROG_TEST_RUN's
 * live-frames mode on a veth, it is the benchmark's flood generator (sendFrames). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int weft_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int weft_bounce(struct xdp_md *ctx)
{
	return XDP_TX;
}

char _license[] SEC("license") = "Dual BSD/GPL";
