// Config objects typed by the resource model (@weft/model), as config-api stores them, for tests
// and benchmarks that feed control without config-api (unit tests, the memory server).
import { randomUUID } from 'node:crypto';
import { type ConfigObjectOf, HOST_BINDING_KEY, type PolicyRule } from '@weft/model';
import { type AnyStoredObject, type CompiledType, ConfigStore } from '../config-feed/store.js';

const PROJECT = ['default-domain', 'admin'];

type Named = { uuid: string; fq_name: string[] };

function base(fqName: string[]): { uuid: string; fq_name: string[]; name: string } {
  return { uuid: randomUUID(), fq_name: fqName, name: fqName.at(-1)! };
}

const ref = (object: Named) => ({ to: object.fq_name, uuid: object.uuid });

export function virtualNetwork(
  name: string,
  {
    prefix,
    prefixLength = 24,
    vni,
    networkId,
    policies = [],
    routeTargets,
  }: {
    prefix: string;
    prefixLength?: number;
    vni?: number;
    networkId?: number;
    policies?: (Named & { major?: number })[];
    routeTargets?: string[];
  },
): ConfigObjectOf<'virtual-network'> {
  return {
    ...base([...PROJECT, name]),
    parent_type: 'project',
    network_ipam_refs: [
      {
        to: ['default-domain', 'default-project', 'default-network-ipam'],
        uuid: randomUUID(),
        attr: {
          ipam_subnets: [
            {
              subnet: { ip_prefix: prefix, ip_prefix_len: prefixLength },
              default_gateway: prefix.replace(/\.0$/, '.1'),
              dns_server_address: prefix.replace(/\.0$/, '.2'),
            },
          ],
        },
      },
    ],
    virtual_network_properties: vni ? { vxlan_network_identifier: vni } : {},
    ...(networkId ? { virtual_network_network_id: networkId } : {}),
    ...(routeTargets ? { route_target_list: { route_target: routeTargets } } : {}),
    network_policy_refs: policies.map((policy, index) => ({
      ...ref(policy),
      attr: { sequence: { major: policy.major ?? index, minor: 0 } },
    })),
  };
}

export function networkPolicy(
  name: string,
  rules: {
    action: 'pass' | 'deny';
    from: string;
    to: string;
    protocol?: string;
    direction?: '>' | '<>';
    dstPorts?: [number, number];
  }[],
): ConfigObjectOf<'network-policy'> {
  return {
    ...base([...PROJECT, name]),
    parent_type: 'project',
    network_policy_entries: {
      policy_rule: rules.map((rule) => ({
        direction: rule.direction ?? '<>',
        protocol: rule.protocol ?? 'any',
        src_addresses: [{ virtual_network: rule.from }],
        dst_addresses: [{ virtual_network: rule.to }],
        src_ports: [{ start_port: -1, end_port: -1 }],
        dst_ports: [{ start_port: rule.dstPorts?.[0] ?? -1, end_port: rule.dstPorts?.[1] ?? -1 }],
        action_list: { simple_action: rule.action },
      })),
    },
  };
}

export function virtualMachine(name: string): ConfigObjectOf<'virtual-machine'> {
  return { ...base([name]), display_name: name };
}

export function machineInterface(
  name: string,
  {
    network,
    vm,
    host,
    mac,
    securityGroups = [],
  }: { network: Named; vm: Named; host: string; mac: string; securityGroups?: Named[] },
): ConfigObjectOf<'virtual-machine-interface'> {
  return {
    ...base([...PROJECT, name]),
    parent_type: 'project',
    virtual_network_refs: [ref(network)],
    virtual_machine_refs: [ref(vm)],
    security_group_refs: securityGroups.map(ref),
    virtual_machine_interface_mac_addresses: { mac_address: [mac] },
    virtual_machine_interface_bindings: { key_value_pair: [{ key: HOST_BINDING_KEY, value: host }] },
  };
}

export function instanceIp(address: string, vmi: Named, network: Named): ConfigObjectOf<'instance-ip'> {
  return {
    ...base([randomUUID()]),
    instance_ip_address: address,
    virtual_machine_interface_refs: [ref(vmi)],
    virtual_network_refs: [ref(network)],
  };
}

/** A floating-ip of a pool (named by fq_name) associated with an interface, or none. */
export function floatingIp(
  address: string,
  vmi: Named | undefined,
  options: { fixed?: string; created?: string } = {},
): ConfigObjectOf<'floating-ip'> {
  return {
    ...base([...PROJECT, 'public', 'pool', address]),
    parent_type: 'floating-ip-pool',
    floating_ip_address: address,
    ...(options.fixed ? { floating_ip_fixed_ip_address: options.fixed } : {}),
    ...(options.created ? { id_perms: { created: options.created } } : {}),
    virtual_machine_interface_refs: vmi ? [ref(vmi)] : [],
  };
}

export function securityGroup(name: string, id: number, rules: PolicyRule[]): ConfigObjectOf<'security-group'> {
  return {
    ...base([...PROJECT, name]),
    parent_type: 'project',
    security_group_id: id,
    security_group_entries: { policy_rule: rules },
  };
}

/** A logical router with these router interfaces: their networks route to each other. */
export function logicalRouter(name: string, routerInterfaces: Named[]): ConfigObjectOf<'logical-router'> {
  return {
    ...base([...PROJECT, name]),
    parent_type: 'project',
    virtual_machine_interface_refs: routerInterfaces.map(ref),
  };
}

/** A stored object as control's feed makes it from config-api's answer. */
export function stored<T extends CompiledType>(type: T, object: ConfigObjectOf<T>, revision: number): AnyStoredObject {
  return { type, uuid: object.uuid, fqName: object.fq_name, body: object, revision } as AnyStoredObject;
}

/** A store holding these objects, revisions in the order given. */
export function storeOf(objects: { [T in CompiledType]: [T, ConfigObjectOf<T>] }[CompiledType][]): ConfigStore {
  const store = new ConfigStore();
  for (const [index, [type, object]] of objects.entries()) store.upsert(stored(type, object, index + 1));
  return store;
}

/** The port that holds a loadbalancer's virtual IP in a network: no pod, no host. */
export function virtualIpPort(name: string, network: Named): ConfigObjectOf<'virtual-machine-interface'> {
  return { ...base([...PROJECT, name]), parent_type: 'project', virtual_network_refs: [ref(network)] };
}

/** A loadbalancer's virtual IP, held by a port. */
export function loadbalancer(name: string, vip: string, port: Named): ConfigObjectOf<'loadbalancer'> {
  return {
    ...base([...PROJECT, name]),
    parent_type: 'project',
    loadbalancer_properties: { vip_address: vip },
    virtual_machine_interface_refs: [ref(port)],
  };
}

export function loadbalancerListener(
  lb: Named,
  protocol: 'TCP' | 'UDP',
  port: number,
): ConfigObjectOf<'loadbalancer-listener'> {
  return {
    ...base([...PROJECT, `${lb.fq_name.at(-1)}-${protocol}-${port}`]),
    parent_type: 'project',
    loadbalancer_listener_properties: { protocol, protocol_port: port },
    loadbalancer_refs: [ref(lb)],
  };
}

export function loadbalancerPool(listener: Named): ConfigObjectOf<'loadbalancer-pool'> {
  return {
    ...base([...PROJECT, `${listener.fq_name.at(-1)}-pool`]),
    parent_type: 'project',
    loadbalancer_listener_refs: [ref(listener)],
  };
}

/** One backend of a pool; adminState false is a member that is not ready. */
export function loadbalancerMember(
  pool: Named,
  address: string,
  port: number,
  adminState?: boolean,
): ConfigObjectOf<'loadbalancer-member'> {
  return {
    ...base([...pool.fq_name, address]),
    parent_type: 'loadbalancer-pool',
    parent_uuid: pool.uuid,
    loadbalancer_member_properties: {
      address,
      protocol_port: port,
      ...(adminState === undefined ? {} : { admin_state: adminState }),
    },
  };
}
