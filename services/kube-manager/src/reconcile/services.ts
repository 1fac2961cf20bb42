// A ClusterIP Service and its EndpointSlices → Tungsten Fabric's loadbalancer objects, which
// control compiles into the services of the pod network's routing instance and every agent with
// a pod on it balances in its datapath (kube-proxy's job, for the pods Weft serves):
//
// - a virtual-machine-interface `k8s-svc__<ns>__<name>` on the pod network: the port that holds
//   the virtual IP (no pod, no host), whose network is where the service is balanced;
// - a loadbalancer of the same name: vip_address is the Service's IPv4 clusterIP;
// - per Service port (TCP or UDP), a loadbalancer-listener and a loadbalancer-pool
//   `k8s-svc__<ns>__<name>__<port>-<protocol>`, the pool referring to the listener;
// - per ready endpoint address and that port's target (from the EndpointSlices labelled with the
//   Service's name, matched by port name and protocol), a loadbalancer-member `<address>-<port>`
//   of the pool.
//
// Level-based: each object carries a digest of what it was given, so an unchanged Service writes
// nothing. A Service that is gone, headless, ExternalName or without an IPv4 clusterIP has its
// objects removed (referrers first). IPv6 and SCTP are not balanced by the datapath; they are
// left out.
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { keyValueOf } from '@weft/model';
import { type ConfigApi, ConfigApiError, type VncObject } from '../config/config-api.js';
import { OWNER_ANNOTATION } from './pods.js';

const SPEC_ANNOTATION = 'weft/kube-manager-spec';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const PREFIX = 'k8s-svc';

export interface ServiceLike {
  metadata?: { name?: string; namespace?: string };
  spec?: {
    type?: string;
    clusterIP?: string;
    ports?: { name?: string; port?: number; protocol?: string }[];
  };
}

export interface EndpointSliceLike {
  metadata?: { labels?: Record<string, string> };
  addressType?: string;
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean } }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

export interface BalancedPort {
  protocol: 'TCP' | 'UDP';
  port: number;
  /** Ready backends, sorted. */
  members: { address: string; port: number }[];
}

export interface BalancedService {
  vip: string;
  ports: BalancedPort[];
}

/** What of a Service the datapath balances, or undefined for nothing. */
export function balancedService(
  service: ServiceLike | undefined,
  slices: readonly EndpointSliceLike[],
): BalancedService | undefined {
  const spec = service?.spec;
  const vip = spec?.clusterIP;
  if (!spec || spec.type === 'ExternalName' || !vip || !isIPv4(vip)) return undefined;
  const ports: BalancedPort[] = [];
  for (const servicePort of spec.ports ?? []) {
    const protocol = (servicePort.protocol ?? 'TCP') as string;
    if ((protocol !== 'TCP' && protocol !== 'UDP') || !servicePort.port) continue;
    const members = new Map<string, { address: string; port: number }>();
    for (const slice of slices) {
      if (slice.addressType !== undefined && slice.addressType !== 'IPv4') continue;
      const target = (slice.ports ?? []).find(
        (port) => (port.name ?? '') === (servicePort.name ?? '') && (port.protocol ?? 'TCP') === protocol,
      );
      if (!target?.port) continue;
      for (const endpoint of slice.endpoints ?? []) {
        // Kubernetes: a ready condition that is not given means ready.
        if (endpoint.conditions?.ready === false) continue;
        for (const address of endpoint.addresses ?? []) {
          if (isIPv4(address)) members.set(`${address}-${target.port}`, { address, port: target.port });
        }
      }
    }
    ports.push({
      protocol,
      port: servicePort.port,
      members: [...members.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, member]) => member),
    });
  }
  return { vip, ports };
}

export function serviceObjectName(namespace: string, name: string): string {
  return `${PREFIX}__${namespace}__${name}`;
}

/** The Service a loadbalancer object the manager made stands for, from its name. */
export function serviceOfObjectName(objectName: string): { namespace: string; name: string } | undefined {
  const [tag, namespace, name] = objectName.split('__');
  return tag === PREFIX && namespace && name ? { namespace, name } : undefined;
}

const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);

export interface ServiceSources {
  service(namespace: string, name: string): ServiceLike | undefined;
  slices(namespace: string, name: string): EndpointSliceLike[];
  ensureProject(namespace: string): Promise<string[]>;
  projectOf(namespace: string): string[];
}

export class ServiceReconciler {
  constructor(
    private readonly config: ConfigApi,
    private readonly sources: ServiceSources,
    private readonly podNetwork: string[],
  ) {}

  async reconcile(namespace: string, name: string): Promise<void> {
    const wanted = balancedService(this.sources.service(namespace, name), this.sources.slices(namespace, name));
    const base = serviceObjectName(namespace, name);
    if (!wanted) {
      await this.#removeAll(this.sources.projectOf(namespace), base);
      return;
    }
    const project = await this.sources.ensureProject(namespace);
    const vipPort = [...project, base];
    await this.#ensure('virtual-machine-interface', vipPort, 'project', {
      virtual_network_refs: [{ to: this.podNetwork }],
    });
    await this.#ensure('loadbalancer', vipPort, 'project', {
      loadbalancer_properties: { vip_address: wanted.vip, admin_state: true },
      loadbalancer_provider: 'weft',
      virtual_machine_interface_refs: [{ to: vipPort }],
    });
    const keep = new Set<string>();
    for (const port of wanted.ports) {
      const fq = [...project, `${base}__${port.port}-${port.protocol.toLowerCase()}`];
      keep.add(fq.join(':'));
      await this.#ensure('loadbalancer-listener', fq, 'project', {
        loadbalancer_listener_properties: { protocol: port.protocol, protocol_port: port.port, admin_state: true },
        loadbalancer_refs: [{ to: vipPort }],
      });
      const pool = await this.#ensure('loadbalancer-pool', fq, 'project', {
        loadbalancer_pool_properties: { protocol: port.protocol, admin_state: true },
        loadbalancer_listener_refs: [{ to: fq }],
      });
      const members = new Set<string>();
      for (const member of port.members) {
        const memberFq = [...fq, `${member.address}-${member.port}`];
        members.add(memberFq.join(':'));
        await this.#ensure(
          'loadbalancer-member',
          memberFq,
          'loadbalancer-pool',
          {
            loadbalancer_member_properties: { address: member.address, protocol_port: member.port, admin_state: true },
          },
          pool,
        );
      }
      for (const member of await this.#membersOf(fq)) {
        if (!members.has(member.fq_name.join(':'))) await this.#remove('loadbalancer-member', member.uuid);
      }
    }
    // Ports the Service no longer has.
    for (const type of ['loadbalancer-pool', 'loadbalancer-listener'] as const) {
      for (const object of await this.#ownedUnder(project, `${base}__`, type)) {
        if (keep.has(object.fq_name.join(':'))) continue;
        if (type === 'loadbalancer-pool') {
          for (const member of await this.#membersOf(object.fq_name))
            await this.#remove('loadbalancer-member', member.uuid);
        }
        await this.#remove(type, object.uuid);
      }
    }
  }

  /** Makes the object hold exactly these fields; writes nothing when it already does. */
  async #ensure(
    type: string,
    fqName: string[],
    parentType: string,
    fields: Record<string, unknown>,
    parent?: string,
  ): Promise<string> {
    const wanted = digest(fields);
    const body = {
      ...fields,
      annotations: {
        key_value_pair: [
          { key: OWNER_ANNOTATION, value: 'service' },
          { key: SPEC_ANNOTATION, value: wanted },
        ],
      },
    };
    const existing = await this.config.readByName(type, fqName);
    if (!existing) {
      try {
        const made = await this.config.create(type, {
          fq_name: fqName,
          parent_type: parentType,
          ...(parent ? { parent_uuid: parent } : {}),
          ...body,
        });
        return made.uuid;
      } catch (error) {
        if (!(error instanceof ConfigApiError && error.status === 409)) throw error;
        return (await this.config.idOf(type, fqName))!;
      }
    }
    if (keyValueOf(existing.annotations as never, SPEC_ANNOTATION) !== wanted) {
      await this.config.update(type, existing.uuid, body);
    }
    return existing.uuid;
  }

  async #membersOf(poolFq: readonly string[]): Promise<VncObject[]> {
    const prefix = `${poolFq.join(':')}:`;
    return (await this.config.list('loadbalancer-member')).filter(
      (member) => member.fq_name.join(':').startsWith(prefix) && member.fq_name.length === poolFq.length + 1,
    );
  }

  async #ownedUnder(project: readonly string[], namePrefix: string, type: string): Promise<VncObject[]> {
    return (await this.config.list(type)).filter(
      (object) =>
        object.fq_name.length === project.length + 1 &&
        object.fq_name.slice(0, -1).join(':') === project.join(':') &&
        object.fq_name.at(-1)!.startsWith(namePrefix) &&
        keyValueOf(object.annotations as never, OWNER_ANNOTATION) !== undefined,
    );
  }

  async #remove(type: string, uuid: string): Promise<void> {
    try {
      await this.config.remove(type, uuid);
    } catch (error) {
      if (!(error instanceof ConfigApiError && error.status === 404)) throw error;
    }
  }

  /** Every object of the Service, referrers first: members, pools, listeners, balancer, port. */
  async #removeAll(project: readonly string[], base: string): Promise<void> {
    for (const pool of await this.#ownedUnder(project, `${base}__`, 'loadbalancer-pool')) {
      for (const member of await this.#membersOf(pool.fq_name)) await this.#remove('loadbalancer-member', member.uuid);
      await this.#remove('loadbalancer-pool', pool.uuid);
    }
    for (const listener of await this.#ownedUnder(project, `${base}__`, 'loadbalancer-listener')) {
      await this.#remove('loadbalancer-listener', listener.uuid);
    }
    for (const type of ['loadbalancer', 'virtual-machine-interface'] as const) {
      const uuid = await this.config.idOf(type, [...project, base]);
      if (uuid) await this.#remove(type, uuid);
    }
  }
}
