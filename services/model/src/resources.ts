// The resource model: every type the config-api stores, defined once. REST validation, the
// OpenAPI document, gRPC validation and the TypeScript types all derive from this table
// (see ./derive.ts), the way Tungsten Fabric derives its API server from one schema.
import { idPerms, ipAddress, keyValuePairs, perms2, policyEntries, uuid, vnSubnets } from './common.js';
import { type Schema, t } from './schema.js';

export interface RefDefinition {
  /** The referenced type. */
  to: string;
  /** Schema of the reference's attr, when it carries one. */
  attr?: Schema;
  description?: string;
}

export interface ResourceDefinition {
  type: string;
  description: string;
  /** Possible parent types; empty for a top-level object (TF's config-root). */
  parents: readonly string[];
  properties: Record<string, Schema>;
  refs: readonly RefDefinition[];
  /** Properties the server assigns: accepted in a body (so a read can be written back) and ignored. */
  serverAssigned?: readonly string[];
  /** Created by the system (control), not by tenants; still readable and writable through the API. */
  system?: boolean;
}

const sequence = t.object(
  {
    sequence: t.object(
      { major: t.integer(0, 2 ** 31 - 1), minor: t.integer(0, 2 ** 31 - 1) },
      { required: ['major', 'minor'] },
    ),
  },
  { description: 'VirtualNetworkPolicyType: the order in which policies apply' },
);

const quota = t.object(
  Object.fromEntries(
    [
      'defaults',
      'virtual_network',
      'subnet',
      'virtual_machine_interface',
      'instance_ip',
      'floating_ip',
      'floating_ip_pool',
      'security_group',
      'security_group_rule',
      'network_policy',
      'network_ipam',
      'virtual_router',
    ].map((name) => [name, t.integer(-1, 2 ** 31 - 1, '-1 for no limit')]),
  ),
  { description: 'QuotaType' },
);

export const resources = [
  {
    type: 'global-system-config',
    description: 'System-wide settings: the autonomous system and the encapsulations in order of preference.',
    parents: [],
    properties: {
      autonomous_system: t.integer(1, 4294967295, 'BGP autonomous system number'),
      encapsulation_priorities: t.object({
        encapsulation: t.array(t.enum(['VXLAN', 'MPLSoUDP', 'MPLSoGRE'] as const), 3),
      }),
      ibgp_auto_mesh: t.boolean(),
    },
    refs: [],
  },
  {
    type: 'domain',
    description: 'A namespace of projects.',
    parents: [],
    properties: {
      domain_limits: t.object({
        project_limit: t.integer(0, 2 ** 31 - 1),
        virtual_network_limit: t.integer(0, 2 ** 31 - 1),
        security_group_limit: t.integer(0, 2 ** 31 - 1),
      }),
    },
    refs: [],
  },
  {
    type: 'project',
    description: 'A tenant: owns networks, interfaces, policies and security groups.',
    parents: ['domain'],
    properties: { quota },
    refs: [],
  },
  {
    type: 'network-ipam',
    description: 'IP address management settings that virtual networks take their subnets through.',
    parents: ['project'],
    properties: {
      network_ipam_mgmt: t.object({
        ipam_method: t.enum(['dhcp', 'fixed'] as const),
        ipam_dns_method: t.enum(['none', 'default-dns-server', 'tenant-dns-server', 'virtual-dns-server'] as const),
      }),
      ipam_subnet_method: t.enum(['user-defined-subnet', 'flat-subnet', 'auto-subnet'] as const),
    },
    refs: [],
  },
  {
    type: 'virtual-network',
    description: 'A layer-2/layer-3 network of its own; subnets are the attr of its network_ipam_refs.',
    parents: ['project'],
    properties: {
      virtual_network_properties: t.object({
        vxlan_network_identifier: t.integer(1, 16777215, 'VNI; assigned by the server when not given'),
        forwarding_mode: t.enum(['l2_l3', 'l2', 'l3'] as const),
        mtu: t.integer(68, 9216),
        allow_transit: t.boolean(),
        rpf: t.enum(['enable', 'disable'] as const),
      }),
      virtual_network_network_id: t.integer(1, 2 ** 31 - 1, 'assigned by the server'),
      route_target_list: t.object({
        route_target: t.array(t.string({ pattern: '^target:[0-9.]+:[0-9]+$', description: 'target:ASN:number' }), 1024),
      }),
      import_route_target_list: t.object({
        route_target: t.array(t.string({ pattern: '^target:[0-9.]+:[0-9]+$' }), 1024),
      }),
      export_route_target_list: t.object({
        route_target: t.array(t.string({ pattern: '^target:[0-9.]+:[0-9]+$' }), 1024),
      }),
      is_shared: t.boolean(),
      router_external: t.boolean(),
      flood_unknown_unicast: t.boolean(),
      port_security_enabled: t.boolean(),
    },
    serverAssigned: ['virtual_network_network_id'],
    refs: [
      { to: 'network-ipam', attr: vnSubnets, description: 'the subnets this network takes from the ipam' },
      { to: 'network-policy', attr: sequence },
    ],
  },
  {
    type: 'virtual-machine',
    description: 'A workload (virtual machine or pod) that owns interfaces.',
    parents: [],
    properties: {
      server_type: t.enum(['virtual-server', 'baremetal-server', 'container'] as const),
    },
    refs: [],
  },
  {
    type: 'virtual-machine-interface',
    description: 'A port of a workload on one virtual network.',
    parents: ['project', 'virtual-machine'],
    properties: {
      virtual_machine_interface_mac_addresses: t.object({
        mac_address: t.array(t.string({ maxLength: 17, pattern: '^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$' }), 1),
      }),
      virtual_machine_interface_bindings: keyValuePairs,
      virtual_machine_interface_device_owner: t.string({ maxLength: 255 }),
      virtual_machine_interface_disable_policy: t.boolean(),
      virtual_machine_interface_mtu: t.integer(68, 9216),
      port_security_enabled: t.boolean(),
    },
    refs: [
      { to: 'virtual-network' },
      { to: 'virtual-machine' },
      { to: 'security-group' },
      { to: 'virtual-router', description: 'the host the interface is bound to, besides bindings.host_id' },
    ],
  },
  {
    type: 'instance-ip',
    description: 'An address of an interface, allocated from a subnet of its virtual network.',
    parents: [],
    properties: {
      instance_ip_address: ipAddress('the next free address when not given'),
      instance_ip_family: t.enum(['v4', 'v6'] as const),
      instance_ip_mode: t.enum(['active-active', 'active-standby'] as const),
      instance_ip_secondary: t.boolean(),
      subnet_uuid: t.string({ maxLength: 64, description: 'allocate from this subnet only' }),
    },
    refs: [{ to: 'virtual-network' }, { to: 'virtual-machine-interface' }],
  },
  {
    type: 'network-policy',
    description: 'Rules between virtual networks, applied to the networks that refer to it.',
    parents: ['project'],
    properties: { network_policy_entries: policyEntries },
    refs: [],
  },
  {
    type: 'security-group',
    description: 'Stateful rules applied to the interfaces that refer to it, ingress and egress.',
    parents: ['project'],
    properties: {
      security_group_entries: policyEntries,
      security_group_id: t.integer(1, 2 ** 31 - 1, 'assigned by the server'),
      configured_security_group_id: t.integer(0, 2 ** 31 - 1),
    },
    serverAssigned: ['security_group_id'],
    refs: [],
  },
  {
    // Minimal, for control's routing between attached networks; the full Tungsten Fabric type
    // (route targets, gateway, VNI) replaces it.
    type: 'logical-router',
    description: 'Routes between the virtual networks of its router interfaces, without a policy.',
    parents: ['project'],
    properties: {},
    refs: [{ to: 'virtual-machine-interface', description: 'router interfaces: each attaches its network' }],
  },
  {
    type: 'floating-ip-pool',
    description: 'Addresses of a virtual network that can float to interfaces of other networks.',
    parents: ['virtual-network'],
    properties: {
      floating_ip_pool_subnets: t.object({ subnet_uuid: t.array(t.string({ maxLength: 64 }), 1024) }),
    },
    refs: [],
  },
  {
    type: 'floating-ip',
    description: "An address of a pool's network, mapped to an interface.",
    parents: ['floating-ip-pool'],
    properties: {
      floating_ip_address: ipAddress('the next free address of the pool network when not given'),
      floating_ip_address_family: t.enum(['v4', 'v6'] as const),
      floating_ip_fixed_ip_address: ipAddress(),
    },
    refs: [{ to: 'virtual-machine-interface' }, { to: 'project' }],
  },
  {
    type: 'virtual-router',
    description: 'A compute host running the vrouter-agent.',
    parents: ['global-system-config'],
    properties: {
      virtual_router_ip_address: ipAddress('the address tunnels to this host use'),
      virtual_router_type: t.enum(['embedded', 'tor-agent', 'tor-service-node'] as const),
    },
    refs: [{ to: 'virtual-machine' }],
  },
  {
    type: 'routing-instance',
    description: 'The VRF of a virtual network; created by the system.',
    parents: ['virtual-network'],
    properties: {
      routing_instance_is_default: t.boolean(),
      routing_instance_id: t.integer(0, 2 ** 31 - 1),
    },
    refs: [],
    system: true,
  },
  {
    type: 'access-control-list',
    description: 'Compiled rules of a network or security group; created by the system.',
    parents: ['virtual-network', 'security-group'],
    properties: {
      access_control_list_entries: t.object({
        dynamic: t.boolean(),
        acl_rule: t.array(
          t.object({
            rule_uuid: t.string({ maxLength: 64 }),
            match_condition: t.object({
              protocol: t.string({ maxLength: 16 }),
              ethertype: t.enum(['IPv4', 'IPv6'] as const),
            }),
            action_list: t.object({ simple_action: t.enum(['pass', 'deny'] as const) }),
          }),
          65536,
        ),
      }),
      access_control_list_hash: t.integer(0, Number.MAX_SAFE_INTEGER),
    },
    refs: [],
    system: true,
  },
] as const satisfies readonly ResourceDefinition[];

/** Properties every object has, besides its type's own. */
export const commonProperties = {
  uuid: uuid('assigned by the server when not given'),
  display_name: t.string({ maxLength: 255 }),
  id_perms: idPerms,
  perms2,
  annotations: keyValuePairs,
} satisfies Record<string, Schema>;
