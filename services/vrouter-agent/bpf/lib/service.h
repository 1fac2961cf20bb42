/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Services: a virtual IP (with a port and a protocol) balanced over backends, in the client's
 * own datapath, as kube-proxy does on a host. A pod's TCP or UDP packet to a service's virtual
 * IP has its destination rewritten to a backend before the forwarding decision, so routing and
 * policy see the connection as it really is (client → backend). The backend is chosen at the
 * first packet of a connection and weft_svc_ct4_v1 keeps it for every later one, together with
 * the reverse translation: the backend's replies, when they are delivered to the client on this
 * host (from a local pod, or from the tunnel), get the virtual IP and port back as their source.
 * Only the TC programs do this (checksum helpers and socket buffers); the XDP programs route a
 * packet to a virtual IP like any other address. IPv4 only; a later fragment of a datagram has
 * no ports and is not translated. */
#ifndef WEFT_SERVICE_H
#define WEFT_SERVICE_H

#include "nat.h"

#ifndef ENABLE_SERVICES
#define ENABLE_SERVICES 0
#endif

#define WEFT_L4_SPORT_OFF 0
#define WEFT_L4_DPORT_OFF 2

/* Not a packet for a service: the caller goes on with it untouched. */
#define WEFT_SVC_NONE 0
/* Translated: the caller parses the packet again (packet pointers are stale). */
#define WEFT_SVC_TRANSLATED 1
/* A service with no ready backend: dropped, as noRoute. */
#define WEFT_SVC_NO_BACKEND (-1)
#define WEFT_SVC_MALFORMED (-2)

/* Replaces the IPv4 address at addr_off and the port at port_off of a TCP or UDP packet, with
 * their checksums (a port is not part of the pseudo-header: on a GSO packet whose checksum the
 * device completes, the helper leaves the field alone, as it must). */
WEFT_INLINE int weft_svc_rewrite(struct __sk_buff *skb, const struct weft_packet *pkt, __u32 addr_off, __u32 from,
				 __u32 to, __u32 port_off, __u16 from_port, __u16 to_port)
{
	if (from != to && weft_nat_rewrite(skb, pkt, addr_off, from, to) < 0)
		return -1;
	if (from_port == to_port)
		return 0;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return -1;
	__u32 l4_off = sizeof(struct ethhdr) + ip->ihl * 4;
	if (pkt->flow.proto == WEFT_IPPROTO_TCP &&
	    bpf_l4_csum_replace(skb, l4_off + WEFT_TCP_CHECK_OFF, from_port, to_port, sizeof(to_port)) < 0)
		return -1;
	if (pkt->flow.proto == WEFT_IPPROTO_UDP &&
	    bpf_l4_csum_replace(skb, l4_off + WEFT_UDP_CHECK_OFF, from_port, to_port,
				BPF_F_MARK_MANGLED_0 | sizeof(to_port)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, l4_off + port_off, &to_port, sizeof(to_port), 0);
}

/* Read from the socket buffer again: the parsed packet's pointers may be stale by now. */
static __always_inline int weft_svc_translatable(struct __sk_buff *skb, const struct weft_packet *pkt)
{
	if (pkt->flow.family != WEFT_FAMILY_IPV4)
		return 0;
	if (pkt->flow.proto != WEFT_IPPROTO_TCP && pkt->flow.proto != WEFT_IPPROTO_UDP)
		return 0;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return 0;
	return !(ip->frag_off & bpf_htons(0x1FFF));
}

/* A pod's packet, before the forwarding decision: to a backend when it is for a service. */
WEFT_INLINE int weft_service_to_backend(struct __sk_buff *skb, const struct weft_packet *pkt)
{
	if (!weft_svc_translatable(skb, pkt))
		return WEFT_SVC_NONE;
	__u32 saddr = ((const __u32 *)pkt->flow.saddr)[3];
	__u32 vip = ((const __u32 *)pkt->flow.daddr)[3];
	struct weft_service_key key = {
		.vrf_id = pkt->flow.vrf_id,
		.vip4 = vip,
		.port = pkt->flow.dport,
		.proto = pkt->flow.proto,
	};
	struct weft_service *svc = bpf_map_lookup_elem(&weft_svc4_v1, &key);
	if (!svc)
		return WEFT_SVC_NONE;
	struct weft_service_flow_key out = {
		.vrf_id = pkt->flow.vrf_id,
		.saddr = saddr,
		.daddr = vip,
		.sport = pkt->flow.sport,
		.dport = pkt->flow.dport,
		.proto = pkt->flow.proto,
	};
	struct weft_l4_addr backend;
	struct weft_l4_addr *known = bpf_map_lookup_elem(&weft_svc_ct4_v1, &out);
	if (known) {
		/* An established connection keeps its backend, even one the service no longer lists:
		 * moving it would break it anyway. */
		backend = *known;
	} else {
		__u32 count = svc->count;
		if (count == 0 || count > WEFT_MAX_SERVICE_BACKENDS)
			return WEFT_SVC_NO_BACKEND;
		__u32 pick = bpf_get_prandom_u32() % count;
		/* The compiler proves pick < count <= the maximum and drops a bound check; the
		 * verifier does not follow a modulo, so the check is kept behind a barrier. */
		asm volatile("" : "+r"(pick));
		if (pick >= WEFT_MAX_SERVICE_BACKENDS)
			return WEFT_SVC_NO_BACKEND;
		backend = svc->backends[pick];
		backend.pad = 0;
		struct weft_service_flow_key back = {
			.vrf_id = pkt->flow.vrf_id,
			.saddr = backend.ip4,
			.daddr = saddr,
			.sport = backend.port,
			.dport = pkt->flow.sport,
			.proto = pkt->flow.proto,
		};
		struct weft_l4_addr front = {.ip4 = vip, .port = pkt->flow.dport};
		bpf_map_update_elem(&weft_svc_ct4_v1, &back, &front, BPF_ANY);
		bpf_map_update_elem(&weft_svc_ct4_v1, &out, &backend, BPF_ANY);
	}
	if (weft_svc_rewrite(skb, pkt, WEFT_IP4_DADDR_OFF, vip, backend.ip4, WEFT_L4_DPORT_OFF, pkt->flow.dport,
			     backend.port) < 0)
		return WEFT_SVC_MALFORMED;
	return WEFT_SVC_TRANSLATED;
}

/* A packet the forwarding decision delivers to a pod of this host (its routing instance
 * zone): a balanced connection's reply gets the service's address and port back as its source.
 * 0 when done or nothing to do, < 0 when the rewrite failed. */
WEFT_INLINE int weft_service_to_client(struct __sk_buff *skb, const struct weft_packet *pkt, __u32 zone)
{
	if (!weft_svc_translatable(skb, pkt))
		return 0;
	struct weft_service_flow_key back = {
		.vrf_id = zone,
		.saddr = ((const __u32 *)pkt->flow.saddr)[3],
		.daddr = ((const __u32 *)pkt->flow.daddr)[3],
		.sport = pkt->flow.sport,
		.dport = pkt->flow.dport,
		.proto = pkt->flow.proto,
	};
	struct weft_l4_addr *front = bpf_map_lookup_elem(&weft_svc_ct4_v1, &back);
	if (!front)
		return 0;
	__u32 vip = front->ip4;
	__u16 port = front->port;
	return weft_svc_rewrite(skb, pkt, WEFT_IP4_SADDR_OFF, back.saddr, vip, WEFT_L4_SPORT_OFF, back.sport, port);
}

#endif
