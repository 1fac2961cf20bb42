// weftctl probe POD-A POD-B: a packet from A to B run through the real datapath, leg by leg, by
// the agents themselves (POST /probe on A's host, then POST /probe/tunnel on B's when it goes
// through a tunnel): each ACL it meets and the rule that decided (named by the policy or
// security group it came from), the drop and its reason, the tunnel, the delivery. The pods,
// their interfaces and addresses are found through config-api; the agents through analytics.
import { isIP } from 'node:net';
import { agentOfHost, agentOfUnderlay } from '../api/agents.js';
import type { VncObject } from '../api/config-api.js';
import { errors } from '../errors.js';
import { request } from '../http.js';
import { toYaml } from '../output/objects.js';
import { Progress, paint } from '../output/terminal.js';
import { isUuid, resolveType } from '../resources.js';
import type { Session } from '../session.js';

export interface ProbeOptions {
  from: string;
  to: string;
  protocol: 'icmp' | 'tcp' | 'udp';
  port: number;
  fromNetwork?: string;
  toNetwork?: string;
  /** Between two pods: over their IPv6 addresses (an address given says its own family). */
  ipv6: boolean;
  /** What the caller expects; with waitMs, probe again until it is so or the time is up. */
  expect: 'delivered' | 'dropped';
  waitMs: number;
}

interface PodInterface {
  uuid: string;
  pod: string;
  network: string;
  host: string;
  address: string;
  order: number;
}

interface AclVerdict {
  acl: string;
  rule: number | null;
  action: string;
  origin?: { type: string; name: string; rule: number };
  missing?: boolean;
}

interface Leg {
  host: string;
  program: string;
  verdict: string;
  result: 'none' | 'drop' | 'local' | 'tunnel';
  reason?: string;
  acls: AclVerdict[];
  delivered?: { interface_uuid?: string; ifindex: number; mac: string };
  tunnel?: { remote: string; vni: number; frame: string };
  flow: Record<string, unknown>;
}

const last = (fqName: string[] | undefined) => fqName?.[fqName.length - 1] ?? '';

async function podOf(session: Session, name: string): Promise<VncObject> {
  const api = session.configApi;
  const type = resolveType(await api.types(), 'virtual-machine');
  if (isUuid(name)) return api.read(type, name);
  // A pod is its virtual-machine, named NAMESPACE/NAME by an orchestrator (default/NAME here).
  const matches = (await api.list(type)).filter((vm) =>
    [name, `default/${name}`].some((wanted) => last(vm.fq_name) === wanted || vm.display_name === wanted),
  );
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1)
    throw errors.ambiguous(
      `pod ${name}`,
      matches.map((vm) => vm.fq_name.join(':')),
    );
  throw errors.notFound(`pod ${name}`, 'a pod is a virtual-machine: `weftctl get virtual-machine` lists them');
}

async function interfacesOf(session: Session, pod: VncObject): Promise<PodInterface[]> {
  const api = session.configApi;
  const types = await api.types();
  const vmiType = resolveType(types, 'virtual-machine-interface');
  const ipType = resolveType(types, 'instance-ip');
  const refs = (pod.virtual_machine_interface_back_refs as { uuid: string }[] | undefined) ?? [];
  const found: PodInterface[] = [];
  for (const ref of refs) {
    const vmi = await api.read(vmiType, ref.uuid);
    const pairs = (field: string) =>
      (vmi[field] as { key_value_pair?: { key: string; value: string }[] } | undefined)?.key_value_pair ?? [];
    const host = pairs('virtual_machine_interface_bindings').find((pair) => pair.key === 'host_id')?.value ?? '';
    const order = Number(
      pairs('annotations').find((pair) => pair.key === 'weft/interface-order')?.value ?? found.length,
    );
    const network = last((vmi.virtual_network_refs as { to: string[] }[] | undefined)?.[0]?.to);
    for (const ipRef of (vmi.instance_ip_back_refs as { uuid: string }[] | undefined) ?? []) {
      const ip = await api.read(ipType, ipRef.uuid);
      const address = String(ip.instance_ip_address ?? '');
      if (isIP(address)) found.push({ uuid: vmi.uuid, pod: pod.fq_name.join(':'), network, host, address, order });
    }
  }
  return found.sort((a, b) => a.order - b.order);
}

/** The pod's interface on a network (else its first) with an address of the family. */
function pick(interfaces: PodInterface[], pod: string, network: string | undefined, family: 4 | 6): PodInterface {
  const ofFamily = interfaces.filter((item) => isIP(item.address) === family);
  const chosen = network ? ofFamily.find((item) => item.network === last(network.split(':'))) : ofFamily[0];
  if (!chosen) {
    throw errors.notFound(
      `an interface of pod ${pod}${network ? ` on network ${network}` : ''} with an IPv${family} address`,
      interfaces.length
        ? `its addresses: ${interfaces.map((item) => `${item.address} on ${item.network}`).join(', ')}`
        : 'is the pod set up (CNI ADD)?',
    );
  }
  return chosen;
}

function describeAcl(acl: AclVerdict): string {
  if (acl.missing) return `${acl.acl}: missing on this host, denied (fail closed)`;
  if (acl.rule === null) return `${acl.acl}: no rule matched, default ${acl.action}`;
  const origin = acl.origin
    ? `  (${acl.origin.type} ${acl.origin.name}, rule ${acl.origin.rule})`
    : '  (within the network)';
  return `${acl.acl} rule ${acl.rule}: ${acl.action}${origin}`;
}

/** What stopped the probe, in one line: the policy and rule when a policy did. */
function dropCause(leg: Leg): string {
  const denied = leg.acls.find((acl) => acl.action !== 'pass');
  if (leg.reason === 'policy' && denied) {
    if (denied.origin)
      return `by ${denied.origin.type} ${denied.origin.name}, rule ${denied.origin.rule} (${denied.acl} rule ${denied.rule})`;
    return `by ${denied.acl} (${denied.rule === null ? 'no rule matched: default deny' : `rule ${denied.rule}`})`;
  }
  return `(${leg.reason ?? leg.verdict})`;
}

export async function probe(session: Session, options: ProbeOptions): Promise<number> {
  const fromPod = await podOf(session, options.from);
  const family = isIP(options.to) === 6 || (options.ipv6 && !isIP(options.to)) ? 6 : 4;
  const source = pick(await interfacesOf(session, fromPod), options.from, options.fromNetwork, family);
  let destination: string;
  let target = options.to;
  if (isIP(options.to)) destination = options.to;
  else {
    const toPod = await podOf(session, options.to);
    const chosen = pick(await interfacesOf(session, toPod), options.to, options.toNetwork, family);
    destination = chosen.address;
    target = `${options.to} (${chosen.address} on ${chosen.network})`;
  }
  if (!source.host) throw errors.notFound(`the host of pod ${options.from}`, 'its interface has no host_id binding');
  const first = await agentOfHost(session, source.host);
  const once = async (): Promise<Leg[]> => {
    const legs: Leg[] = [
      await request<Leg>(session.agent(source.host, first.url), 'POST', '/probe', {
        body: { interface_uuid: source.uuid, destination, protocol: options.protocol, port: options.port },
      }),
    ];
    const tunnel = legs[0]!.tunnel;
    if (legs[0]!.result === 'tunnel' && tunnel) {
      const second = await agentOfUnderlay(session, tunnel.remote);
      legs.push(
        await request<Leg>(session.agent(second.host, second.url), 'POST', '/probe/tunnel', {
          body: { frame: tunnel.frame, vni: tunnel.vni, from: first.underlay, flow: legs[0]!.flow },
        }),
      );
    }
    return legs;
  };
  // Config takes a moment to reach the datapath: --wait probes again until the expected outcome.
  const deadline = Date.now() + options.waitMs;
  const progress = new Progress(session.terminal.progress && options.waitMs > 0);
  let legs = await once();
  while ((legs[legs.length - 1]!.result === 'local') !== (options.expect === 'delivered') && Date.now() < deadline) {
    progress.update(`waiting for the probe to be ${options.expect}…`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    legs = await once();
  }
  progress.done();
  const end = legs[legs.length - 1]!;
  const delivered = end.result === 'local';
  const summary = {
    from: { pod: options.from, address: source.address, network: source.network, host: source.host },
    to: options.to,
    destination,
    protocol: options.protocol,
    delivered,
    ...(delivered ? {} : { dropped: { host: end.host, reason: end.reason ?? end.verdict, cause: dropCause(end) } }),
    legs: legs.map(({ tunnel: t, ...rest }) => (t ? { ...rest, tunnel: { remote: t.remote, vni: t.vni } } : rest)),
  };
  if (session.output === 'json') session.print(JSON.stringify(summary, null, 2));
  else if (session.output === 'yaml') session.print(toYaml(summary));
  else {
    const colour = session.terminal.colour;
    const lines = [`probe ${options.protocol} ${options.from} (${source.address} on ${source.network}) → ${target}`];
    for (const leg of legs) {
      lines.push(`${leg.host}  ${leg.program}: ${leg.verdict}`);
      for (const acl of leg.acls) lines.push(`  policy    ${describeAcl(acl)}`);
      if (leg.result === 'tunnel' && leg.tunnel)
        lines.push(`  tunnel    VXLAN to ${leg.tunnel.remote}, vni ${leg.tunnel.vni}`);
      if (leg.result === 'local' && leg.delivered)
        lines.push(`  delivered to ifindex ${leg.delivered.ifindex}, mac ${leg.delivered.mac}`);
      if (leg.result === 'drop') lines.push(`  dropped   ${leg.reason}`);
      if (leg.result === 'none') lines.push('  (the datapath made no forwarding decision: not routed by Weft)');
    }
    lines.push(
      delivered
        ? paint(colour, 'green', `DELIVERED to ${options.to} on ${end.host}`)
        : paint(colour, 'red', `DROPPED on ${end.host} ${dropCause(end)}`),
    );
    session.print(lines.join('\n'));
  }
  return delivered === (options.expect === 'delivered') ? 0 : 8;
}
