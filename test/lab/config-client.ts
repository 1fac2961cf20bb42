// The few config-api calls a lab user makes, through its public REST API (the Tungsten Fabric
// VNC API's shapes): networks with subnets, policies, security groups, logical routers,
// virtual-routers, and a pod's virtual-machine with one interface and address per network.
import { HOST_BINDING_KEY, INTERFACE_ORDER_ANNOTATION } from '@weft/model';

export interface Ref {
  uuid: string;
  fq_name: string[];
}

export const PROJECT = ['default-domain', 'default-project'];

export class ConfigClient {
  constructor(
    readonly restUrl: string,
    /** Sent as X-Auth-Token; config-api in the lab authenticates. */
    readonly token?: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.restUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.token ? { 'x-auth-token': this.token } : {}),
      },
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

  /**
   * A security group that lets in only its own members (any protocol, from the group's
   * addresses) and lets its members send anywhere: Tungsten Fabric's default group.
   */
  createMembersOnlyGroup(name: string): Promise<Ref> {
    const self = [...PROJECT, name].join(':');
    const rule = (direction: 'ingress' | 'egress', ethertype: 'IPv4' | 'IPv6') => ({
      direction: '>',
      protocol: 'any',
      ethertype,
      src_addresses: [direction === 'ingress' ? { security_group: self } : { security_group: 'local' }],
      dst_addresses: [
        direction === 'ingress'
          ? { security_group: 'local' }
          : {
              subnet:
                ethertype === 'IPv4'
                  ? { ip_prefix: '0.0.0.0', ip_prefix_len: 0 }
                  : { ip_prefix: '::', ip_prefix_len: 0 },
            },
      ],
      src_ports: [{ start_port: -1, end_port: -1 }],
      dst_ports: [{ start_port: -1, end_port: -1 }],
      action_list: { simple_action: 'pass' },
    });
    return this.create('security-group', {
      fq_name: [...PROJECT, name],
      parent_type: 'project',
      security_group_entries: {
        policy_rule: [rule('ingress', 'IPv4'), rule('egress', 'IPv4'), rule('egress', 'IPv6')],
      },
    });
  }

  /** Puts an interface in these security groups (replacing its list). */
  setSecurityGroups(vmi: Ref, groups: Ref[]): Promise<unknown> {
    return this.update('virtual-machine-interface', vmi.uuid, {
      security_group_refs: groups.map((group) => ({ to: group.fq_name, uuid: group.uuid })),
    });
  }

  /** A router interface on a network: an interface bound to no host, for a logical router to attach. */
  createRouterInterface(name: string, network: Ref): Promise<Ref> {
    return this.create('virtual-machine-interface', {
      fq_name: [...PROJECT, name],
      parent_type: 'project',
      virtual_network_refs: [{ to: network.fq_name, uuid: network.uuid }],
      virtual_machine_interface_device_owner: 'network:router_interface',
    });
  }

  /** A logical router attaching the networks of these router interfaces. */
  createLogicalRouter(name: string, routerInterfaces: Ref[]): Promise<Ref> {
    return this.create('logical-router', {
      fq_name: [...PROJECT, name],
      parent_type: 'project',
      virtual_machine_interface_refs: routerInterfaces.map((vmi) => ({ to: vmi.fq_name, uuid: vmi.uuid })),
    });
  }

  /** Attaches exactly these router interfaces to a logical router (none: detaches them all). */
  setRouterInterfaces(router: Ref, routerInterfaces: Ref[]): Promise<unknown> {
    return this.update('logical-router', router.uuid, {
      virtual_machine_interface_refs: routerInterfaces.map((vmi) => ({ to: vmi.fq_name, uuid: vmi.uuid })),
    });
  }

  /** A public network's pool of floating IPs (a network with router_external set, and its pool). */
  async createFloatingIpPool(name: string, cidr: string): Promise<{ network: Ref; pool: Ref }> {
    const network = await this.createNetwork(name, cidr);
    await this.update('virtual-network', network.uuid, { router_external: true });
    const pool = await this.create('floating-ip-pool', {
      fq_name: [...network.fq_name, `${name}-pool`],
      parent_type: 'virtual-network',
    });
    return { network, pool };
  }

  /** A floating IP of a pool (the next free address unless given), associated with an interface or none. */
  createFloatingIp(pool: Ref, name: string, vmi?: Ref, address?: string): Promise<Ref> {
    return this.create('floating-ip', {
      fq_name: [...pool.fq_name, name],
      parent_type: 'floating-ip-pool',
      ...(address ? { floating_ip_address: address } : {}),
      virtual_machine_interface_refs: vmi ? [{ to: vmi.fq_name, uuid: vmi.uuid }] : [],
    });
  }

  /** Associates a floating IP with an interface (another one: it moves), or with none. */
  associateFloatingIp(fip: Ref, vmi?: Ref): Promise<unknown> {
    return this.update('floating-ip', fip.uuid, {
      virtual_machine_interface_refs: vmi ? [{ to: vmi.fq_name, uuid: vmi.uuid }] : [],
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
        virtual_machine_interface_bindings: { key_value_pair: [{ key: HOST_BINDING_KEY, value: host }] },
        annotations: { key_value_pair: [{ key: INTERFACE_ORDER_ANNOTATION, value: String(order) }] },
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
