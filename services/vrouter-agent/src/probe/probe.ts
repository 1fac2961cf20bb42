// Probes (weftctl probe): a crafted packet run through this host's real BPF programs with
// BPF_PROG_TEST_RUN, against the live maps, with the probe trace armed (bpf/lib/probe.h), so the
// answer — each ACL walked and the rule that decided, the drop reason, the next hop — comes from
// the datapath itself. Two legs, each on the agent of its host:
//   from a pod: the program on the pod's port (TC or XDP, as this host runs), as if the pod sent it;
//   from the tunnel: the VXLAN frame another host's leg sends here, through the underlay program.
// A probe is a real packet to the datapath: it is counted and sampled like one, and a flow it
// opens is tracked by conntrack; a fresh flow (random identifier or source port) each time means
// no probe rides on an earlier one's conntrack entry.
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import type { AccessControlList__Output } from '@weft/proto/gen/weft/control/v1/AccessControlList.js';
import { datapathRuleOrigins } from '../datapath/compile.js';
import {
  ETH_P_IP,
  ETH_P_IPV6,
  ethernet,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  icmpEcho,
  icmpv6Echo,
  ipv4,
  ipv6,
  TCP_SYN,
  tcp,
  udp,
  vxlan,
} from '../datapath/packets.js';
import { aclIds } from '../datapath/reconciler.js';
import { TcAction } from '../datapath/test-run.js';
import { errors } from '../errors.js';
import type { HostView } from '../host-state/host-state.js';
import type { DatapathInspection } from '../introspect/inspection.js';
import {
  armedTrace,
  decodeProbeTrace,
  type FlowKey,
  type ProbeTrace,
  probeTraceLayout,
  VXLAN_ENCAP_LEN,
  XdpAction,
} from '../maps/index.js';

export type ProbeProtocol = 'icmp' | 'tcp' | 'udp';

export interface PortProbeRequest {
  interface_uuid: string;
  destination: string;
  protocol: ProbeProtocol;
  port?: number;
}

export interface TunnelProbeRequest {
  /** The inner frame as the sending host's leg left it, hex. */
  frame: string;
  vni: number;
  /** The sending host's underlay address: the outer source. */
  from: string;
  flow: FlowKey;
}

export interface ProbeAclVerdict {
  acl: string;
  /** The rule's index in the ACL control sent; null when no rule matched (the default). */
  rule: number | null;
  action: string;
  /** Where control says the rule came from: the policy or security group, and its rule. */
  origin?: { type: string; name: string; rule: number };
  missing?: boolean;
}

export interface ProbeLeg {
  host: string;
  program: string;
  /** The program's verdict, by name: redirect, drop, pass… */
  verdict: string;
  result: ProbeTrace['result'];
  reason?: string;
  acls: ProbeAclVerdict[];
  delivered?: { interface_uuid?: string; ifindex: number; mac: string };
  tunnel?: { remote: string; vni: number; frame: string };
  flow: FlowKey;
}

/** ICMP is the echo of the destination's family; tcp and udp a SYN and a datagram. */
const PROTOCOLS: Record<ProbeProtocol, number> = { icmp: IPPROTO_ICMP, tcp: IPPROTO_TCP, udp: IPPROTO_UDP };
const PAYLOAD = Buffer.from('weftctl probe');
const TC_NAMES: Record<number, string> = {
  [TcAction.ok]: 'pass to the host',
  [TcAction.shot]: 'drop',
  [TcAction.redirect]: 'redirect',
};
const XDP_NAMES = Object.fromEntries(Object.entries(XdpAction).map(([name, value]) => [value, name])) as Record<
  number,
  string
>;

/** One probe at a time: the trace has one slot. */
let queue: Promise<unknown> = Promise.resolve();
function serially<T>(work: () => T): Promise<T> {
  const next = queue.then(work, work);
  queue = next.catch(() => undefined);
  return next;
}

/** Arms the trace for a flow, runs the program, reads the trace, disarms. */
function traced(
  inspection: DatapathInspection,
  flow: FlowKey,
  run: () => number,
): { verdict: number; trace: ProbeTrace } {
  const { probe } = inspection.datapath.maps;
  probe.set(0, armedTrace(flow));
  try {
    const verdict = run();
    return { verdict, trace: decodeProbeTrace(probe.get(0) ?? Buffer.alloc(probeTraceLayout.size)) };
  } finally {
    probe.set(0, Buffer.alloc(probeTraceLayout.size));
  }
}

/** Each ACL the trace met, named as control named it, with the rule control sent and its origin. */
function namedAcls(view: HostView, trace: ProbeTrace): ProbeAclVerdict[] {
  const ids = aclIds(view.acls.keys());
  const byId = new Map([...ids].map(([name, id]) => [id, name]));
  return trace.acls.map((entry) => {
    const name = byId.get(entry.aclId) ?? `acl ${entry.aclId}`;
    const acl = view.acls.get(name) as AccessControlList__Output | undefined;
    if (entry.rule === 'missing') return { acl: name, rule: null, action: 'deny', missing: true };
    if (entry.rule === 'default' || !acl) return { acl: name, rule: null, action: entry.action };
    const index = datapathRuleOrigins(acl)[entry.rule];
    const origin = index === undefined ? undefined : acl.rules[index]?.origin;
    return {
      acl: name,
      rule: index ?? null,
      action: entry.action,
      ...(origin?.name ? { origin: { type: origin.type, name: origin.name, rule: origin.rule } } : {}),
    };
  });
}

function leg(
  inspection: DatapathInspection,
  view: HostView,
  program: string,
  verdict: string,
  trace: ProbeTrace,
  flow: FlowKey,
): ProbeLeg {
  const result: ProbeLeg = {
    host: inspection.hostName,
    program,
    verdict,
    result: trace.result,
    acls: namedAcls(view, trace),
    flow,
  };
  if (trace.reason) result.reason = trace.reason;
  const nh = trace.nextHop;
  if (nh?.kind === 'local') {
    const uuid = [...inspection.bindings].find(([, ifindex]) => ifindex === nh.ifindex)?.[0];
    result.delivered = { ifindex: nh.ifindex, mac: nh.mac, ...(uuid ? { interface_uuid: uuid } : {}) };
  }
  return result;
}

/** Leg one: the packet as the pod behind `interface_uuid` sends it. */
export function probeFromPort(
  inspection: DatapathInspection,
  view: HostView,
  request: PortProbeRequest,
): Promise<ProbeLeg> {
  return serially(() => {
    const iface = view.interfaces.get(request.interface_uuid);
    const ifindex = inspection.bindings.get(request.interface_uuid);
    if (!iface || ifindex === undefined) {
      throw errors.INVALID_FIELD({
        field: 'interface_uuid',
        reason: `no interface ${request.interface_uuid} is attached on ${inspection.hostName}`,
      });
    }
    const family = isIP(request.destination);
    if (family === 0) throw errors.INVALID_FIELD({ field: 'destination', reason: 'must be an IPv4 or IPv6 address' });
    const source = iface.addresses.map((cidr) => cidr.split('/')[0]!).find((address) => isIP(address) === family);
    if (!source) {
      throw errors.INVALID_FIELD({ field: 'interface_uuid', reason: `the interface has no IPv${family} address` });
    }
    const vrfId = view.routingInstances.get(iface.routing_instance)?.vrf_id;
    if (vrfId === undefined) {
      throw errors.INVALID_FIELD({
        field: 'interface_uuid',
        reason: `routing instance ${iface.routing_instance} is not on this host`,
      });
    }
    const icmp = family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    const protocol = request.protocol === 'icmp' ? icmp : PROTOCOLS[request.protocol];
    if (protocol === undefined) throw errors.INVALID_FIELD({ field: 'protocol', reason: 'must be icmp, tcp or udp' });
    const id = randomInt(1, 65535);
    const flow: FlowKey = {
      source,
      destination: request.destination,
      sourcePort: protocol === icmp ? id : randomInt(32768, 61000),
      destinationPort: protocol === icmp ? id : (request.port ?? 80),
      protocol,
      vrfId,
    };
    const ends = { src: source, dst: flow.destination, sport: flow.sourcePort, dport: flow.destinationPort };
    const l4 =
      protocol === IPPROTO_ICMP
        ? icmpEcho({ type: 8, id, seq: 1, payload: PAYLOAD })
        : protocol === IPPROTO_ICMPV6
          ? icmpv6Echo({ src: source, dst: flow.destination, type: 128, id, seq: 1 })
          : protocol === IPPROTO_TCP
            ? tcp({ ...ends, flags: TCP_SYN })
            : udp({ ...ends, payload: PAYLOAD });
    const routerMac = inspection.datapath.maps.config.get(0)?.routerMac ?? '00:00:5e:00:01:00';
    const packet = ethernet({
      dst: routerMac,
      src: iface.mac,
      type: family === 4 ? ETH_P_IP : ETH_P_IPV6,
      payload:
        family === 4
          ? ipv4({ src: source, dst: flow.destination, protocol, payload: l4, id, df: true })
          : ipv6({ src: source, dst: flow.destination, nextHeader: protocol, payload: l4 }),
    });
    const { datapath } = inspection;
    const tc = inspection.mode === 'tc';
    const program = tc ? 'weft_pod_egress_tc' : 'weft_pod_egress';
    let output: Buffer = Buffer.alloc(0);
    const { verdict, trace } = traced(inspection, flow, () => {
      const run = tc
        ? datapath.runTc('podEgressTc', packet, ifindex)
        : datapath.run('podEgress', packet, { ingressIfindex: ifindex });
      output = run.packet;
      return run.verdict;
    });
    const result = leg(inspection, view, program, (tc ? TC_NAMES : XDP_NAMES)[verdict] ?? String(verdict), trace, flow);
    const nh = trace.nextHop;
    if (trace.result === 'tunnel' && nh?.kind === 'tunnel') {
      // XDP encapsulates itself; TC leaves it to the kernel's VXLAN device: the inner frame either way.
      const inner = tc ? output : output.subarray(VXLAN_ENCAP_LEN);
      result.tunnel = { remote: nh.remoteAddress, vni: nh.vni, frame: inner.toString('hex') };
    }
    return result;
  });
}

/** Leg two: the frame another host's leg sends through the tunnel, arriving on this host's underlay. */
export function probeFromTunnel(
  inspection: DatapathInspection,
  view: HostView,
  request: TunnelProbeRequest,
): Promise<ProbeLeg> {
  return serially(() => {
    const zone = inspection.datapath.maps.vnis.get(request.vni);
    if (zone === undefined)
      throw errors.INVALID_FIELD({
        field: 'vni',
        reason: `VNI ${request.vni} has no routing instance on ${inspection.hostName}`,
      });
    const inner = Buffer.from(request.frame, 'hex');
    const frame = ethernet({
      dst: '02:00:00:00:00:01',
      src: '02:00:00:00:00:02',
      type: ETH_P_IP,
      payload: ipv4({
        src: request.from,
        dst: inspection.underlayAddress,
        protocol: IPPROTO_UDP,
        payload: udp({
          src: request.from,
          dst: inspection.underlayAddress,
          sport: 49152,
          dport: inspection.tunnelPort,
          payload: vxlan({ vni: request.vni, frame: inner }),
          checksum: false,
        }),
      }),
    });
    const flow: FlowKey = { ...request.flow, vrfId: zone };
    const { verdict, trace } = traced(
      inspection,
      flow,
      () => inspection.datapath.run('underlayIngress', frame, { ingressIfindex: inspection.underlayIfindex }).verdict,
    );
    return leg(inspection, view, 'weft_underlay_ingress', XDP_NAMES[verdict] ?? String(verdict), trace, flow);
  });
}
