// The resource model: every type the config-api stores, defined once. REST validation, the
// OpenAPI document, gRPC validation and the TypeScript types all derive from this table
// (see ./model.ts), the way Tungsten Fabric derives its API server from one schema. Names,
// parents, references and property shapes follow Tungsten Fabric's published schema
// (vnc_cfg.xsd and the files it includes).
import { bgpPeeringAttributes, bgpRouterParameters } from './bgp.js';
import {
  actionList,
  dhcpOptionList,
  idPerms,
  int32,
  ipAddress,
  keyValuePairs,
  perms2,
  policyEntries,
  routeTable,
  routeTargetList,
  subnet,
  subnetList,
  uuid,
  vnSubnets,
} from './common.js';
import {
  draftModeState,
  firewallRuleEndpoint,
  firewallSequence,
  firewallService,
  firewallServiceGroup,
  matchTags,
  matchTagTypes,
  tagId,
  tagTypeId,
} from './firewall.js';
import {
  loadbalancerHealthmonitorProperties,
  loadbalancerListenerProperties,
  loadbalancerMemberProperties,
  loadbalancerPoolProperties,
  loadbalancerProperties,
} from './loadbalancer.js';
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
  /**
   * Possible parent types; empty for a top-level object. "config-root" among others means the
   * object may be top-level too (a global tag, say) or sit under one of the others.
   */
  parents: readonly string[];
  properties: Record<string, Schema>;
  refs: readonly RefDefinition[];
  /** Properties the server assigns: accepted in a body (so a read can be written back) and ignored. */
  serverAssigned?: readonly string[];
  /**
   * TF's ListProperty and MapProperty: a wrapper object around one list, whose elements
   * /prop-collection-get and /prop-collection-update read and change one at a time. A map names
   * the element field that keys it ("key" of a key_value_pair).
   */
  listProperties?: readonly string[];
  mapProperties?: Readonly<Record<string, string>>;
  /** Created by the system (control), not by tenants; still readable and writable through the API. */
  system?: boolean;
}

const sequence = t.object(
  {
    sequence: t.object(
      { major: t.integer(0, 2 ** 31 - 1), minor: t.integer(0, 2 ** 31 - 1) },
      { required: ['major', 'minor'] },
    ),
    timer: t.object({
      start_time: t.string({ maxLength: 64 }),
      on_interval: t.string({ maxLength: 64 }),
      off_interval: t.string({ maxLength: 64 }),
      end_time: t.string({ maxLength: 64 }),
    }),
  },
  { description: 'VirtualNetworkPolicyType: the order in which policies apply' },
);

const quota = t.object(
  {
    ...Object.fromEntries(
      [
        'defaults',
        'floating_ip',
        'instance_ip',
        'virtual_machine_interface',
        'virtual_network',
        'virtual_router',
        'virtual_DNS',
        'virtual_DNS_record',
        'bgp_router',
        'network_ipam',
        'access_control_list',
        'network_policy',
        'floating_ip_pool',
        'service_template',
        'service_instance',
        'logical_router',
        'security_group',
        'security_group_rule',
        'subnet',
        'global_vrouter_config',
        'loadbalancer_pool',
        'loadbalancer_member',
        'loadbalancer_healthmonitor',
        'virtual_ip',
        'security_logging_object',
        'route_table',
        'firewall_group',
        'firewall_policy',
        'firewall_rule',
      ].map((name) => [name, t.integer(-1, 2 ** 31 - 1, '-1 for no limit')]),
    ),
    host_based_service: t.integer(0, 1),
  },
  { description: 'QuotaType (not enforced)' },
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
    refs: [
      { to: 'namespace', attr: subnet, description: 'the networking namespace of the project, with its prefix' },
      { to: 'alias-ip-pool' },
    ],
  },
  {
    type: 'network-ipam',
    description: 'IP address management settings that virtual networks take their subnets through.',
    parents: ['project'],
    properties: {
      network_ipam_mgmt: t.object(
        {
          ipam_method: t.enum(['dhcp', 'fixed'] as const),
          ipam_dns_method: t.enum(['none', 'default-dns-server', 'tenant-dns-server', 'virtual-dns-server'] as const),
          ipam_dns_server: t.object({
            tenant_dns_server_address: t.object({ ip_address: t.array(ipAddress(), 16) }),
            virtual_dns_server_name: t.string({ maxLength: 2048 }),
          }),
          dhcp_option_list: dhcpOptionList,
          cidr_block: subnet,
          host_routes: routeTable,
        },
        { description: 'IpamType' },
      ),
      ipam_subnet_method: t.enum(['user-defined-subnet', 'flat-subnet', 'auto-subnet'] as const),
    },
    refs: [{ to: 'virtual-DNS', description: 'the virtual DNS server of the networks using this ipam' }],
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
        network_id: t.integer(0, 2 ** 31 - 1, 'not used (TF deprecated it)'),
        mirror_destination: t.boolean(),
        max_flows: t.integer(0, 4294967296),
      }),
      virtual_network_network_id: t.integer(1, 2 ** 31 - 1, 'assigned by the server'),
      route_target_list: routeTargetList,
      import_route_target_list: routeTargetList,
      export_route_target_list: routeTargetList,
      is_shared: t.boolean(),
      router_external: t.boolean(),
      flood_unknown_unicast: t.boolean(),
      port_security_enabled: t.boolean(),
    },
    serverAssigned: ['virtual_network_network_id'],
    refs: [
      { to: 'network-ipam', attr: vnSubnets, description: 'the subnets this network takes from the ipam' },
      { to: 'network-policy', attr: sequence },
      { to: 'route-table', description: 'static routes of the network' },
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
      { to: 'interface-route-table', description: 'static routes pointing to this interface' },
    ],
    mapProperties: { virtual_machine_interface_bindings: 'key' },
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
  // ---- Security policy (firewall_policy.xsd, tag.xsd): stored, listed and watched; the datapath
  // does not enforce firewall rules yet.
  {
    type: 'tag-type',
    description: 'A kind of tag (application, tier, site…); created by the server with its first tag.',
    parents: [],
    properties: { tag_type_id: tagTypeId },
    serverAssigned: ['tag_type_id'],
    refs: [],
  },
  {
    type: 'tag',
    description: 'A type=value label attached to objects through their tag_refs (global, or scoped to a project).',
    parents: ['config-root', 'project'],
    properties: {
      tag_type_name: t.string({ minLength: 1, maxLength: 255, pattern: '^[^:=]+$', description: 'e.g. application' }),
      tag_value: t.string({ minLength: 1, maxLength: 255, pattern: '^[^:]+$', description: 'e.g. web' }),
      tag_predefined: t.boolean(),
      tag_id: tagId,
    },
    serverAssigned: ['tag_id'],
    refs: [{ to: 'tag-type', description: 'set by the server from tag_type_name' }],
  },
  {
    type: 'policy-management',
    description: 'A group of firewall policies, rules, address and service groups (global or per project).',
    parents: ['config-root', 'project'],
    properties: {},
    refs: [],
  },
  {
    type: 'address-group',
    description: 'A set of prefixes (and labelled workloads) firewall rules match.',
    parents: ['project', 'policy-management'],
    properties: { address_group_prefix: subnetList, draft_mode_state: draftModeState },
    serverAssigned: ['draft_mode_state'],
    listProperties: ['address_group_prefix'],
    refs: [],
  },
  {
    type: 'service-group',
    description: 'A set of (protocol, ports) firewall rules match.',
    parents: ['project', 'policy-management'],
    properties: { service_group_firewall_service_list: firewallServiceGroup, draft_mode_state: draftModeState },
    serverAssigned: ['draft_mode_state'],
    listProperties: ['service_group_firewall_service_list'],
    refs: [],
  },
  {
    type: 'firewall-rule',
    description:
      'Traffic between two endpoints (tags, address groups, networks) with a service, and what to do with it.',
    parents: ['project', 'policy-management'],
    properties: {
      action_list: actionList,
      service: firewallService,
      endpoint_1: firewallRuleEndpoint,
      endpoint_2: firewallRuleEndpoint,
      match_tags: matchTags,
      match_tag_types: matchTagTypes,
      direction: t.enum(['<', '>', '<>'] as const),
      draft_mode_state: draftModeState,
    },
    serverAssigned: ['match_tag_types', 'draft_mode_state'],
    listProperties: ['match_tags'],
    refs: [{ to: 'service-group' }, { to: 'address-group' }, { to: 'virtual-network' }],
  },
  {
    type: 'firewall-policy',
    description: 'An ordered list of firewall rules (the sequence is the attr of each reference).',
    parents: ['project', 'policy-management'],
    properties: { draft_mode_state: draftModeState },
    serverAssigned: ['draft_mode_state'],
    refs: [{ to: 'firewall-rule', attr: firewallSequence }],
  },
  {
    type: 'application-policy-set',
    description: 'The firewall policies, in order, that apply to the workloads of an application tag.',
    parents: ['project', 'policy-management'],
    properties: { all_applications: t.boolean('set by the server'), draft_mode_state: draftModeState },
    serverAssigned: ['all_applications', 'draft_mode_state'],
    refs: [{ to: 'firewall-policy', attr: firewallSequence }],
  },
  // ---- Routing
  {
    type: 'logical-router',
    description: 'Connects virtual networks as if through a router; may have an external gateway network.',
    parents: ['project'],
    properties: {
      configured_route_target_list: routeTargetList,
      vxlan_network_identifier: t.string({ maxLength: 16 }),
      logical_router_dhcp_relay_server: t.object({ ip_address: t.array(ipAddress(), 16) }),
      logical_router_gateway_external: t.boolean(),
      logical_router_type: t.enum(['snat-routing', 'vxlan-routing'] as const),
    },
    refs: [
      { to: 'virtual-machine-interface', description: 'router ports: the networks of these interfaces are connected' },
      { to: 'route-table' },
      {
        to: 'virtual-network',
        attr: t.object(
          { logical_router_virtual_network_type: t.enum(['ExternalGateway', 'InternalVirtualNetwork'] as const) },
          { description: 'LogicalRouterVirtualNetworkType' },
        ),
      },
    ],
  },
  {
    type: 'route-table',
    description: 'Static routes of the virtual networks that refer to it.',
    parents: ['project'],
    properties: { routes: routeTable },
    refs: [],
  },
  {
    type: 'interface-route-table',
    description: 'Static routes whose next hop is each interface that refers to it.',
    parents: ['project'],
    properties: { interface_route_table_routes: routeTable },
    refs: [],
  },
  {
    type: 'bgp-router',
    description: 'A BGP speaker (control node or external router) and its peerings.',
    parents: ['routing-instance'],
    properties: { bgp_router_parameters: bgpRouterParameters },
    refs: [{ to: 'bgp-router', attr: bgpPeeringAttributes, description: 'peers, with the session attributes' }],
  },
  // ---- Addresses
  {
    type: 'alias-ip-pool',
    description: 'Addresses of a virtual network that interfaces of other networks can also answer to.',
    parents: ['virtual-network'],
    properties: {},
    refs: [],
  },
  {
    type: 'alias-ip',
    description: "An address of the pool's network, added to an interface.",
    parents: ['alias-ip-pool'],
    properties: {
      alias_ip_address: ipAddress('the next free address of the pool network when not given'),
      alias_ip_address_family: t.enum(['v4', 'v6'] as const),
    },
    refs: [{ to: 'project' }, { to: 'virtual-machine-interface' }],
  },
  {
    type: 'virtual-DNS',
    description: 'A DNS server for the workloads of the networks whose ipam refers to it.',
    parents: ['domain'],
    properties: {
      virtual_DNS_data: t.object(
        {
          domain_name: t.string({ minLength: 1, maxLength: 255 }),
          dynamic_records_from_client: t.boolean(),
          record_order: t.enum(['fixed', 'random', 'round-robin'] as const),
          default_ttl_seconds: int32(),
          next_virtual_DNS: t.string({ maxLength: 2048 }),
          floating_ip_record: t.enum(['dashed-ip', 'dashed-ip-tenant-name', 'vm-name', 'vm-name-tenant-name'] as const),
          external_visible: t.boolean(),
          reverse_resolution: t.boolean(),
          soa_record: t.object({ negative_cache_ttl_seconds: int32() }),
        },
        { required: ['domain_name'], description: 'VirtualDnsType' },
      ),
    },
    refs: [],
  },
  {
    type: 'namespace',
    description: 'A networking namespace of a domain, with the prefix its networks belong to.',
    parents: ['domain'],
    properties: { namespace_cidr: subnet },
    refs: [],
  },
  // ---- Load balancing (LBaaS v2)
  {
    type: 'loadbalancer',
    description: 'A load balancer with one virtual IP, and listeners and pools behind it.',
    parents: ['project'],
    properties: {
      loadbalancer_properties: loadbalancerProperties,
      loadbalancer_provider: t.string({ maxLength: 255 }),
    },
    refs: [{ to: 'virtual-machine-interface', description: 'the interface holding the virtual IP' }],
  },
  {
    type: 'loadbalancer-listener',
    description: 'An application (protocol, port) a load balancer serves.',
    parents: ['project'],
    properties: { loadbalancer_listener_properties: loadbalancerListenerProperties },
    refs: [{ to: 'loadbalancer' }],
  },
  {
    type: 'loadbalancer-pool',
    description: 'The member servers a listener balances over.',
    parents: ['project'],
    properties: {
      loadbalancer_pool_properties: loadbalancerPoolProperties,
      loadbalancer_pool_provider: t.string({ maxLength: 255 }),
      loadbalancer_pool_custom_attributes: keyValuePairs,
    },
    refs: [{ to: 'loadbalancer-listener' }, { to: 'virtual-machine-interface' }, { to: 'loadbalancer-healthmonitor' }],
  },
  {
    type: 'loadbalancer-member',
    description: 'One server of a pool.',
    parents: ['loadbalancer-pool'],
    properties: { loadbalancer_member_properties: loadbalancerMemberProperties },
    refs: [],
  },
  {
    type: 'loadbalancer-healthmonitor',
    description: 'How the members of the pools that refer to it are checked.',
    parents: ['project'],
    properties: { loadbalancer_healthmonitor_properties: loadbalancerHealthmonitorProperties },
    refs: [],
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

/** References every type may have: TF's object-tag link, from any object to the tags attached to it. */
export const commonRefs: readonly RefDefinition[] = [{ to: 'tag', description: 'tags attached to the object' }];

/** Map properties every type has: annotations, keyed by "key". */
export const commonMapProperties: Readonly<Record<string, string>> = { annotations: 'key' };
