// NetworkPolicy (networking.k8s.io/v1) → Weft security groups, with Kubernetes' semantics on the
// pod's default network (eth0):
//
// - each policy is a security group `k8s-np__<ns>__<name>` holding its rules: ingress rules
//   (peer → local) when it isolates ingress, egress rules (local → peer) when it isolates egress;
// - each peer with a podSelector or namespaceSelector is a rule-less group
//   `k8s-np__<ns>__<name>__<in|out><rule>-<peer>` whose members are the pods it selects, so the
//   rule names the group and control fills in the members' addresses as they come and go; an
//   ipBlock is its CIDR less its exceptions;
// - a pod's interface is in the groups of the policies that select it and of the peers it is;
//   security groups only allow, and an interface in any group denies what none allows, so a pod
//   that no policy isolates in a direction also gets `k8s-allow-ingress` / `k8s-allow-egress`;
//   a pod in no group keeps no group and stays open, as an unselected pod is.
import { createHash } from 'node:crypto';
import { keyValueOf } from '@weft/model';
import { excludeCidr } from 'cidr-tools';
import { type ConfigApi, ConfigApiError, type VncObject } from '../config/config-api.js';
import { type LabelSelector, selects } from '../kube/label-selector.js';
import { OWNER_ANNOTATION } from './pods.js';

/** Annotation on a group the manager made: a digest of the rules it was given, so that an unchanged policy writes nothing. */
const SPEC_ANNOTATION = 'weft/kube-manager-spec';
export const ALLOW_INGRESS_GROUP = 'k8s-allow-ingress';
export const ALLOW_EGRESS_GROUP = 'k8s-allow-egress';

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface PolicyRuleSpec {
  from?: Peer[];
  to?: Peer[];
  ports?: PolicyPort[];
}
export interface NetworkPolicyLike {
  metadata?: { name?: string; namespace?: string };
  spec?: {
    podSelector?: LabelSelector;
    policyTypes?: string[];
    ingress?: PolicyRuleSpec[];
    egress?: PolicyRuleSpec[];
  };
}

export interface PolicySources {
  policies(): NetworkPolicyLike[];
  namespaceLabels(namespace: string): Record<string, string> | undefined;
  projectOf(namespace: string): string[];
  ensureProject(namespace: string): Promise<string[]>;
}

/** A problem in a policy that retrying does not fix (a named port, say). */
export class PolicySpecError extends Error {}

type Rule = Record<string, unknown>;
const ALL_PORTS = [{ start_port: -1, end_port: -1 }];
const ANYWHERE = { subnet: { ip_prefix: '0.0.0.0', ip_prefix_len: 0 } };
const LOCAL = { security_group: 'local' };

function typesOf(policy: NetworkPolicyLike): { ingress: boolean; egress: boolean } {
  const types = policy.spec?.policyTypes ?? ['Ingress', ...(policy.spec?.egress ? ['Egress'] : [])];
  return { ingress: types.includes('Ingress'), egress: types.includes('Egress') };
}

export function policyGroupName(policy: NetworkPolicyLike): string {
  return `k8s-np__${policy.metadata?.namespace}__${policy.metadata?.name}`;
}

function peerGroupName(policy: NetworkPolicyLike, direction: 'in' | 'out', rule: number, peer: number): string {
  return `${policyGroupName(policy)}__${direction}${rule}-${peer}`;
}

function subnet(cidr: string) {
  const [prefix, length] = cidr.split('/');
  return { subnet: { ip_prefix: prefix, ip_prefix_len: Number(length ?? 32) } };
}

function portsOf(
  policy: NetworkPolicyLike,
  ports: PolicyPort[] | undefined,
): { protocol: string; dst_ports: unknown[] }[] {
  if (!ports?.length) return [{ protocol: 'any', dst_ports: ALL_PORTS }];
  return ports.map((port) => {
    if (typeof port.port === 'string') {
      throw new PolicySpecError(
        `NetworkPolicy ${policy.metadata?.namespace}/${policy.metadata?.name}: named port "${port.port}" is not supported`,
      );
    }
    const protocol = (port.protocol ?? 'TCP').toLowerCase();
    const start = port.port ?? -1;
    return {
      protocol,
      dst_ports: [{ start_port: start, end_port: port.port === undefined ? -1 : (port.endPort ?? start) }],
    };
  });
}

/** The groups a policy compiles into: its own with the rules, and one rule-less group per selector peer. */
export function compilePolicy(policy: NetworkPolicyLike, project: string[]): { name: string; rules: Rule[] }[] {
  const groupFq = (name: string) => [...project, name].join(':');
  const own: Rule[] = [];
  const peers: { name: string; rules: Rule[] }[] = [];
  const types = typesOf(policy);
  const directions = [
    { direction: 'in' as const, isolated: types.ingress, rules: policy.spec?.ingress ?? [], key: 'from' as const },
    { direction: 'out' as const, isolated: types.egress, rules: policy.spec?.egress ?? [], key: 'to' as const },
  ];
  for (const { direction, isolated, rules, key } of directions) {
    if (!isolated) continue;
    for (const [ruleIndex, rule] of rules.entries()) {
      const listed = rule[key];
      const addresses: Record<string, unknown>[] = !listed?.length
        ? [ANYWHERE]
        : listed.flatMap((peer, peerIndex): Record<string, unknown>[] => {
            if (peer.ipBlock) {
              const kept = peer.ipBlock.except?.length
                ? excludeCidr([peer.ipBlock.cidr], peer.ipBlock.except)
                : [peer.ipBlock.cidr];
              return (kept as string[]).map(subnet);
            }
            const name = peerGroupName(policy, direction, ruleIndex, peerIndex);
            peers.push({ name, rules: [] });
            return [{ security_group: groupFq(name) }];
          });
      for (const { protocol, dst_ports } of portsOf(policy, rule.ports)) {
        for (const address of addresses) {
          own.push({
            direction: '>',
            protocol,
            ethertype: 'IPv4',
            src_addresses: [direction === 'in' ? address : LOCAL],
            dst_addresses: [direction === 'in' ? LOCAL : address],
            src_ports: ALL_PORTS,
            dst_ports,
            action_list: { simple_action: 'pass' },
          });
        }
      }
    }
  }
  return [{ name: policyGroupName(policy), rules: own }, ...peers];
}

export function allowAllGroup(direction: 'ingress' | 'egress'): { name: string; rules: Rule[] } {
  return {
    name: direction === 'ingress' ? ALLOW_INGRESS_GROUP : ALLOW_EGRESS_GROUP,
    rules: [
      {
        direction: '>',
        protocol: 'any',
        ethertype: 'IPv4',
        src_addresses: [direction === 'ingress' ? ANYWHERE : LOCAL],
        dst_addresses: [direction === 'ingress' ? LOCAL : ANYWHERE],
        src_ports: ALL_PORTS,
        dst_ports: ALL_PORTS,
        action_list: { simple_action: 'pass' },
      },
    ],
  };
}

export interface PodIdentity {
  namespace: string;
  labels: Record<string, string> | undefined;
}

/** The fq_names of the groups a pod's default interface belongs in, sorted; none when no policy concerns it. */
export function podGroups(pod: PodIdentity, sources: PolicySources): string[][] {
  const groups: string[][] = [];
  let ingressIsolated = false;
  let egressIsolated = false;
  const namespaceLabels = sources.namespaceLabels(pod.namespace);
  for (const policy of sources.policies()) {
    const namespace = policy.metadata!.namespace!;
    const project = sources.projectOf(namespace);
    if (namespace === pod.namespace && selects(policy.spec?.podSelector, pod.labels)) {
      groups.push([...project, policyGroupName(policy)]);
      const types = typesOf(policy);
      ingressIsolated ||= types.ingress;
      egressIsolated ||= types.egress;
    }
    const types = typesOf(policy);
    for (const [direction, rules, key, isolated] of [
      ['in', policy.spec?.ingress ?? [], 'from', types.ingress],
      ['out', policy.spec?.egress ?? [], 'to', types.egress],
    ] as const) {
      if (!isolated) continue;
      for (const [ruleIndex, rule] of rules.entries()) {
        for (const [peerIndex, peer] of (rule[key] ?? []).entries()) {
          if (peer.ipBlock) continue;
          const namespaceMatches = peer.namespaceSelector
            ? selects(peer.namespaceSelector, namespaceLabels)
            : pod.namespace === namespace;
          if (namespaceMatches && selects(peer.podSelector, pod.labels)) {
            groups.push([...project, peerGroupName(policy, direction, ruleIndex, peerIndex)]);
          }
        }
      }
    }
  }
  if (groups.length === 0) return [];
  const own = sources.projectOf(pod.namespace);
  if (!ingressIsolated) groups.push([...own, ALLOW_INGRESS_GROUP]);
  if (!egressIsolated) groups.push([...own, ALLOW_EGRESS_GROUP]);
  return groups.sort((a, b) => a.join(':').localeCompare(b.join(':')));
}

function digest(rules: Rule[]): string {
  return createHash('sha256').update(JSON.stringify(rules)).digest('hex').slice(0, 32);
}

export class SecurityGroupWriter {
  constructor(private readonly config: ConfigApi) {}

  /** Makes the group hold exactly these rules; writes nothing when it already does. */
  async ensure(project: string[], group: { name: string; rules: Rule[] }): Promise<void> {
    const fqName = [...project, group.name];
    const existing = await this.config.readByName('security-group', fqName);
    const wanted = digest(group.rules);
    const fields = {
      security_group_entries: { policy_rule: group.rules },
      annotations: {
        key_value_pair: [
          { key: OWNER_ANNOTATION, value: 'network-policy' },
          { key: SPEC_ANNOTATION, value: wanted },
        ],
      },
    };
    if (!existing) {
      try {
        await this.config.create('security-group', { fq_name: fqName, parent_type: 'project', ...fields });
      } catch (error) {
        if (!(error instanceof ConfigApiError && error.status === 409)) throw error;
      }
      return;
    }
    if (keyValueOf(existing.annotations as never, SPEC_ANNOTATION) === wanted) return;
    await this.config.update('security-group', existing.uuid, fields);
  }

  /** Takes the group off every interface, then deletes it. */
  async remove(group: VncObject): Promise<void> {
    const fqString = group.fq_name.join(':');
    for (const ref of (group.virtual_machine_interface_back_refs as { uuid: string }[] | undefined) ?? []) {
      const vmi = await this.config.read('virtual-machine-interface', ref.uuid);
      if (!vmi) continue;
      const refs = ((vmi.security_group_refs as { to: string[] }[] | undefined) ?? []).filter(
        (item) => item.to.join(':') !== fqString,
      );
      await this.config.update('virtual-machine-interface', vmi.uuid, {
        security_group_refs: refs.map((item) => ({ to: item.to })),
      });
    }
    await this.config.remove('security-group', group.uuid);
  }
}

export class NetworkPolicyReconciler {
  readonly #groups: SecurityGroupWriter;

  constructor(
    private readonly config: ConfigApi,
    private readonly sources: PolicySources,
    private readonly policy: (namespace: string, name: string) => NetworkPolicyLike | undefined,
  ) {
    this.#groups = new SecurityGroupWriter(config);
  }

  async reconcile(namespace: string, name: string): Promise<void> {
    const policy = this.policy(namespace, name);
    const prefix = `k8s-np__${namespace}__${name}`;
    const wanted = policy ? compilePolicy(policy, await this.sources.ensureProject(namespace)) : [];
    const project = this.sources.projectOf(namespace);
    for (const group of wanted) await this.#groups.ensure(project, group);
    // Groups of this policy that it no longer compiles into (it is gone, or lost a peer).
    const names = new Set(wanted.map((group) => group.name));
    for (const group of await this.config.list('security-group')) {
      const last = group.fq_name.at(-1)!;
      const ours =
        group.fq_name.slice(0, -1).join(':') === project.join(':') &&
        (last === prefix || last.startsWith(`${prefix}__`));
      if (ours && !names.has(last)) await this.#groups.remove(group);
    }
  }

  ensureAllowGroup(project: string[], direction: 'ingress' | 'egress'): Promise<void> {
    return this.#groups.ensure(project, allowAllGroup(direction));
  }
}
