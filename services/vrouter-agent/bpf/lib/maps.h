/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Every map of the Weft datapath. All are pinned by name under the host's bpffs directory, so
 * both programs share them and a restarted agent adopts them with their state: an agent restart
 * drops no packet. A map's name carries its layout version (_v1): a layout change gets a new
 * name, and the upgraded agent fills the new map from control's state before its programs take
 * over from the older ones (host-datapath.ts), because libbpf refuses to reuse a pinned map whose
 * sizes differ and silently reusing one with the same sizes but a new meaning would corrupt it.
 * Names stay within the kernel's 15 characters. */
#ifndef WEFT_MAPS_H
#define WEFT_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "structs.h"

/* Host settings, one entry: router MAC, underlay device and address, sample rate, tunnel port. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct weft_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_config_v2 SEC(".maps");

/* Tunnel endpoints by underlay IPv4 address (network order): the hosts routes point at. VXLAN
 * from any other address is dropped on the underlay before an skb exists. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_PEERS);
	__type(key, __u32);
	__type(value, struct weft_peer);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_peers_v1 SEC(".maps");

/* Pod interfaces by the ifindex of their host end: routing instance, security group, MAC. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_INTERFACES);
	__type(key, __u32);
	__type(value, struct weft_if_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_if_v1 SEC(".maps");

/* Routing instances by VRF id: VNI, network-policy ACL, virtual gateway addresses. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_VRFS);
	__type(key, __u32);
	__type(value, struct weft_vrf_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_vrf_v1 SEC(".maps");

/* VNI (host order) to VRF id, for packets that arrive through a tunnel. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_VRFS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_vni_v1 SEC(".maps");

/* IPv4 host routes (/32), exact match: most traffic goes to a port, and a hash lookup is
 * cheaper than walking the trie. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_HOST_ROUTES);
	__type(key, struct weft_route4_key);
	__type(value, struct weft_next_hop);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_rt4_v1 SEC(".maps");

/* IPv6 host routes (/128), exact match. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_HOST_ROUTES);
	__type(key, struct weft_route6_key);
	__type(value, struct weft_next_hop);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_rt6_v1 SEC(".maps");

/* IPv4 prefix routes, longest prefix match within a VRF. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, WEFT_MAX_PREFIX_ROUTES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_lpm4_key);
	__type(value, struct weft_next_hop);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_lpm4_v1 SEC(".maps");

/* IPv6 prefix routes, longest prefix match within a VRF. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, WEFT_MAX_PREFIX_ROUTES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_lpm6_key);
	__type(value, struct weft_next_hop);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_lpm6_v1 SEC(".maps");

/* ACLs by id: network policies (per VRF) and security groups (per interface). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_ACLS);
	__type(key, __u32);
	__type(value, struct weft_acl);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_acl_v1 SEC(".maps");

/* Connection tracking: flows that policy let through, so later packets and the replies skip
 * the rules. LRU, so a flood of new flows evicts the oldest instead of failing inserts. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WEFT_MAX_FLOWS);
	__type(key, struct weft_flow_key);
	__type(value, struct weft_ct_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_ct_v1 SEC(".maps");

/* Floating addresses by the floating IPv4 address (network order): destination NAT for traffic
 * from outside, and the check that a translated flow's address still belongs to its port. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_FLOATING_IPS);
	__type(key, __u32);
	__type(value, struct weft_floating_ip);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_fip4_v1 SEC(".maps");

/* The floating address a port's own connections to the outside leave with (source NAT), by the
 * port's routing instance and address: one per port address, the first of its floating IPs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_FLOATING_IPS);
	__type(key, struct weft_route4_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_snat4_v1 SEC(".maps");

/* Services by virtual IP, port and protocol, with their ready backends (lib/service.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_SERVICES);
	__type(key, struct weft_service_key);
	__type(value, struct weft_service);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_svc4_v1 SEC(".maps");

/* The translation of each balanced connection, both directions: the client's packets to the
 * virtual IP → the backend chosen at the first packet; the backend's replies → the virtual IP. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WEFT_MAX_FLOWS);
	__type(key, struct weft_service_flow_key);
	__type(value, struct weft_l4_addr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_svc_ct4_v1 SEC(".maps");

/* Devices a program may redirect to: pod host ends and the underlay device, by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, WEFT_MAX_INTERFACES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_tx_v1 SEC(".maps");

/* Per-CPU counters by ifindex; the agent creates an entry when it attaches a device, and the
 * programs only count for devices that have one. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, WEFT_MAX_INTERFACES);
	__type(key, __u32);
	__type(value, struct weft_if_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_stats_v2 SEC(".maps");

/* Sampled flow records for analytics: every new flow, every denied flow, and one packet in
 * sample_rate. A full ring drops samples, never packets. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, WEFT_FLOW_SAMPLE_RING_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_flows_v1 SEC(".maps");

/* The probe being traced (weftctl probe), one entry, armed by the agent for one test run:
 * lib/probe.h. Only the decisions of a new flow and drops read it (an inlined array lookup). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct weft_probe_trace);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_probe_v1 SEC(".maps");

#endif
