// Config objects in the VNC API's JSON form, as config-api stores them, for tests and benchmarks
// that feed control without config-api (unit tests, the memory server). Shapes follow
// services/config-api's resource model.
import { randomUUID } from 'node:crypto';

export interface VncFixture extends Record<string, unknown> {
  uuid: string;
  fq_name: string[];
}

const PROJECT = ['default-domain', 'admin'];

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
    policies?: { uuid: string; fq_name: string[]; major?: number }[];
    routeTargets?: string[];
  },
): VncFixture {
  const gateway = prefix.replace(/\.0$/, '.1');
  return {
    uuid: randomUUID(),
    fq_name: [...PROJECT, name],
    parent_type: 'project',
    network_ipam_refs: [
      {
        to: ['default-domain', 'default-project', 'default-network-ipam'],
        uuid: randomUUID(),
        attr: {
          ipam_subnets: [
            {
              subnet: { ip_prefix: prefix, ip_prefix_len: prefixLength },
              default_gateway: gateway,
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
      to: policy.fq_name,
      uuid: policy.uuid,
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
): VncFixture {
  return {
    uuid: randomUUID(),
    fq_name: [...PROJECT, name],
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

export function virtualMachine(name: string): VncFixture {
  return { uuid: randomUUID(), fq_name: [name], display_name: name };
}

export function machineInterface(
  name: string,
  {
    network,
    vm,
    host,
    mac,
    securityGroups = [],
  }: { network: VncFixture; vm: VncFixture; host: string; mac: string; securityGroups?: VncFixture[] },
): VncFixture {
  return {
    uuid: randomUUID(),
    fq_name: [...PROJECT, name],
    parent_type: 'project',
    virtual_network_refs: [{ to: network.fq_name, uuid: network.uuid }],
    virtual_machine_refs: [{ to: vm.fq_name, uuid: vm.uuid }],
    security_group_refs: securityGroups.map((group) => ({ to: group.fq_name, uuid: group.uuid })),
    virtual_machine_interface_mac_addresses: { mac_address: [mac] },
    virtual_machine_interface_bindings: { key_value_pair: [{ key: 'host_id', value: host }] },
  };
}

export function instanceIp(address: string, vmi: VncFixture, network: VncFixture): VncFixture {
  return {
    uuid: randomUUID(),
    fq_name: [randomUUID()],
    instance_ip_address: address,
    virtual_machine_interface_refs: [{ to: vmi.fq_name, uuid: vmi.uuid }],
    virtual_network_refs: [{ to: network.fq_name, uuid: network.uuid }],
  };
}

export function securityGroup(name: string, id: number, rules: Record<string, unknown>[]): VncFixture {
  return {
    uuid: randomUUID(),
    fq_name: [...PROJECT, name],
    parent_type: 'project',
    security_group_id: id,
    security_group_entries: { policy_rule: rules },
  };
}
