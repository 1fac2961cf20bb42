// The few config-api calls a lab user makes, through its public REST API (the Tungsten Fabric
// VNC API's shapes): networks with subnets, policies, virtual-routers, and a pod's
// virtual-machine with one interface and address per network.

export interface Ref {
  uuid: string;
  fq_name: string[];
}

export const PROJECT = ['default-domain', 'default-project'];

export class ConfigClient {
  constructor(readonly restUrl: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.restUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  async create(type: string, object: Record<string, unknown>): Promise<Ref> {
    const answer = await this.request<Record<string, Ref>>('POST', `/${type}s`, { [type]: object });
    const created = answer[type];
    if (!created) throw new Error(`POST /${type}s answered without the ${type}`);
    return created;
  }

  async read<T = Record<string, unknown>>(type: string, uuid: string): Promise<T> {
    const answer = await this.request<Record<string, T>>('GET', `/${type}/${uuid}`);
    return answer[type] as T;
  }

  update(type: string, uuid: string, fields: Record<string, unknown>): Promise<unknown> {
    return this.request('PUT', `/${type}/${uuid}`, { [type]: fields });
  }

  remove(type: string, uuid: string): Promise<unknown> {
    return this.request('DELETE', `/${type}/${uuid}`);
  }

  async fqNameToId(type: string, fqName: string[]): Promise<string | undefined> {
    try {
      return (await this.request<{ uuid: string }>('POST', '/fqname-to-id', { type, fq_name: fqName })).uuid;
    } catch {
      return undefined;
    }
  }

  /** A virtual network with one IPv4 subnet on the project's default IPAM. */
  createNetwork(name: string, cidr: string): Promise<Ref> {
    const [prefix, length] = cidr.split('/');
    return this.create('virtual-network', {
      fq_name: [...PROJECT, name],
      parent_type: 'project',
      network_ipam_refs: [
        {
          to: [...PROJECT, 'default-network-ipam'],
          attr: { ipam_subnets: [{ subnet: { ip_prefix: prefix, ip_prefix_len: Number(length) } }] },
        },
      ],
    });
  }

  /** A policy that passes (or denies) all traffic between two networks, both ways. */
  createPolicy(name: string, a: string, b: string, action: 'pass' | 'deny'): Promise<Ref> {
    const network = (vn: string) => [{ virtual_network: [...PROJECT, vn].join(':') }];
    return this.create('network-policy', {
      fq_name: [...PROJECT, name],
      parent_type: 'project',
      network_policy_entries: {
        policy_rule: [
          {
            direction: '<>',
            protocol: 'any',
            src_addresses: network(a),
            dst_addresses: network(b),
            src_ports: [{ start_port: -1, end_port: -1 }],
            dst_ports: [{ start_port: -1, end_port: -1 }],
            action_list: { simple_action: action },
          },
        ],
      },
    });
  }

  /** Applies policies to a network (replacing its list). */
  setNetworkPolicies(network: Ref, policies: Ref[]): Promise<unknown> {
    return this.update('virtual-network', network.uuid, {
      network_policy_refs: policies.map((policy, index) => ({
        to: policy.fq_name,
        uuid: policy.uuid,
        attr: { sequence: { major: index, minor: 0 } },
      })),
    });
  }

  async ensureVirtualRouter(name: string, address: string): Promise<string> {
    const existing = await this.fqNameToId('virtual-router', ['default-global-system-config', name]);
    if (existing) return existing;
    const router = await this.create('virtual-router', {
      fq_name: ['default-global-system-config', name],
      parent_type: 'global-system-config',
      virtual_router_ip_address: address,
    });
    return router.uuid;
  }

  /**
   * A pod as an orchestrator describes it: a virtual-machine, and per network (in the pod's
   * order, the first the default) an interface bound to the host and an instance-ip.
   */
  async createPod(
    podName: string,
    host: string,
    networks: string[],
  ): Promise<{ vm: Ref; interfaces: Ref[]; ips: Ref[] }> {
    const vm = await this.create('virtual-machine', { fq_name: [podName], display_name: podName });
    const interfaces: Ref[] = [];
    const ips: Ref[] = [];
    for (const [order, network] of networks.entries()) {
      const vmi = await this.create('virtual-machine-interface', {
        fq_name: [...PROJECT, `${podName.replace('/', '__')}-${network}`],
        parent_type: 'project',
        virtual_network_refs: [{ to: [...PROJECT, network] }],
        virtual_machine_refs: [{ to: vm.fq_name }],
        virtual_machine_interface_bindings: { key_value_pair: [{ key: 'host_id', value: host }] },
        annotations: { key_value_pair: [{ key: 'weft/interface-order', value: String(order) }] },
      });
      interfaces.push(vmi);
      ips.push(
        await this.create('instance-ip', {
          fq_name: [`${podName.replace('/', '__')}-${network}-ip`],
          virtual_network_refs: [{ to: [...PROJECT, network] }],
          virtual_machine_interface_refs: [{ to: vmi.fq_name, uuid: vmi.uuid }],
        }),
      );
    }
    return { vm, interfaces, ips };
  }

  async deletePod(pod: { vm: Ref; interfaces: Ref[]; ips: Ref[] }): Promise<void> {
    for (const ip of pod.ips) await this.remove('instance-ip', ip.uuid);
    for (const vmi of pod.interfaces) await this.remove('virtual-machine-interface', vmi.uuid);
    await this.remove('virtual-machine', pod.vm.uuid);
  }
}
