// Property types shared by several resources, in the VNC API's own shapes and names
// (IdPermsType, PermType2, KeyValuePairs, SubnetType, IpamSubnetType, PolicyRuleType…).
import { type Schema, type Static, t } from './schema.js';

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const uuid = (description?: string) =>
  t.string({ pattern: UUID_PATTERN, ...(description ? { description } : {}) });

/** One element of an fq_name; ":" is the separator of fq_name strings, so it cannot be part of a name. */
export const nameElement = t.string({ minLength: 1, maxLength: 255, pattern: '^[^:]+$' });
export const fqName: Schema<string[]> = { ...t.array(nameElement, 16), minItems: 1 };

export const idPerms = t.object(
  {
    enable: t.boolean('false disables the object without deleting it'),
    description: t.string({ maxLength: 4096 }),
    user_visible: t.boolean(),
    creator: t.string({ maxLength: 255 }),
    created: t.string({ description: 'set by the server' }),
    last_modified: t.string({ description: 'set by the server' }),
    uuid: t.object({
      uuid_mslong: t.integer(0, Number.MAX_SAFE_INTEGER),
      uuid_lslong: t.integer(0, Number.MAX_SAFE_INTEGER),
    }),
    permissions: t.object({
      owner: t.string(),
      owner_access: t.integer(0, 7),
      group: t.string(),
      group_access: t.integer(0, 7),
      other_access: t.integer(0, 7),
    }),
  },
  { description: 'IdPermsType' },
);
export type IdPerms = Static<typeof idPerms>;

export const perms2 = t.object(
  {
    owner: t.string({ maxLength: 255 }),
    owner_access: t.integer(0, 7),
    global_access: t.integer(0, 7),
    share: t.array(t.object({ tenant: t.string({ maxLength: 255 }), tenant_access: t.integer(0, 7) })),
  },
  { description: 'PermType2' },
);

export const keyValuePairs = t.object(
  {
    key_value_pair: t.array(
      t.object(
        { key: t.string({ minLength: 1, maxLength: 255 }), value: t.string({ maxLength: 65536 }) },
        { required: ['key'] },
      ),
      1024,
    ),
  },
  { description: 'KeyValuePairs' },
);
export type KeyValuePairs = Static<typeof keyValuePairs>;

/** An address in text form; the IPAM code checks that it parses and where it lies. */
export const ipAddress = (description?: string) => t.string({ maxLength: 64, ...(description ? { description } : {}) });

export const subnet = t.object(
  { ip_prefix: ipAddress('network address, e.g. 10.0.0.0'), ip_prefix_len: t.integer(0, 128) },
  { required: ['ip_prefix', 'ip_prefix_len'], description: 'SubnetType' },
);

/** Any xsd:integer the schema leaves unbounded: a signed 32-bit number. */
export const int32 = (description?: string) => t.integer(-(2 ** 31), 2 ** 31 - 1, description);

export const subnetList = t.object({ subnet: t.array(subnet, 1024) }, { description: 'SubnetListType' });

export const routeTable = t.object(
  {
    route: t.array(
      t.object({
        prefix: t.string({ maxLength: 64, description: 'prefix/length' }),
        next_hop: t.string({ maxLength: 2048, description: 'an address, or a service instance name' }),
        next_hop_type: t.enum(['service-instance', 'ip-address'] as const),
        community_attributes: t.object({ community_attribute: t.array(t.string({ maxLength: 64 }), 64) }),
      }),
      4096,
    ),
  },
  { description: 'RouteTableType' },
);

export const dhcpOptionList = t.object(
  {
    dhcp_option: t.array(
      t.object({
        dhcp_option_name: t.string({ maxLength: 255 }),
        dhcp_option_value: t.string({ maxLength: 4096 }),
        dhcp_option_value_bytes: t.string({ maxLength: 4096 }),
      }),
      256,
    ),
  },
  { description: 'DhcpOptionsListType' },
);

export const ipamSubnet = t.object(
  {
    subnet,
    subnet_uuid: t.string({ maxLength: 64, description: 'assigned by the server when not given' }),
    subnet_name: t.string({ maxLength: 255 }),
    default_gateway: ipAddress('defaults to the first address of the subnet'),
    dns_server_address: ipAddress('defaults to the last usable address of the subnet'),
    allocation_pools: t.array(
      t.object(
        { start: ipAddress(), end: ipAddress(), vrouter_specific_pool: t.boolean() },
        { required: ['start', 'end'] },
      ),
      256,
    ),
    addr_from_start: t.boolean('true allocates from the first address up, false (default) from the last down'),
    enable_dhcp: t.boolean(),
    dns_nameservers: t.array(ipAddress(), 16),
    dhcp_option_list: dhcpOptionList,
    host_routes: routeTable,
    alloc_unit: t.integer(1, 2 ** 31 - 1, 'addresses per allocation; 1 here'),
    created: t.string({ maxLength: 64 }),
    last_modified: t.string({ maxLength: 64 }),
    subscriber_tag: t.string({ maxLength: 255 }),
    vlan_tag: t.integer(0, 4094),
    dhcp_relay_server: t.array(ipAddress(), 16),
  },
  { required: ['subnet'], description: 'IpamSubnetType' },
);
export type IpamSubnet = Static<typeof ipamSubnet>;

export const routeTargetList = t.object(
  { route_target: t.array(t.string({ pattern: '^target:[0-9.]+:[0-9]+$', description: 'target:ASN:number' }), 1024) },
  { description: 'RouteTargetList' },
);

export const vnSubnets = t.object(
  {
    ipam_subnets: t.array(ipamSubnet, 1024),
    host_routes: routeTable,
  },
  { description: 'VnSubnetsType: the subnets a virtual network takes from one network-ipam' },
);
export type VnSubnets = Static<typeof vnSubnets>;

export const portRange = t.object(
  { start_port: t.integer(-1, 65535), end_port: t.integer(-1, 65535) },
  { required: ['start_port', 'end_port'], description: 'PortType; -1 means any' },
);

const addressMatch = t.object(
  {
    virtual_network: t.string({ maxLength: 2048, description: 'fq_name string, or "any"' }),
    security_group: t.string({ maxLength: 2048, description: 'fq_name string, "local" or "any"' }),
    network_policy: t.string({ maxLength: 2048 }),
    subnet,
    subnet_list: t.array(subnet, 256),
  },
  { description: 'AddressType: a rule matches by virtual network, subnet or security group' },
);

const mirrorTo = t.object(
  {
    analyzer_name: t.string({ maxLength: 2048 }),
    encapsulation: t.string({ maxLength: 64 }),
    analyzer_ip_address: ipAddress(),
    analyzer_mac_address: t.string({ maxLength: 17 }),
    routing_instance: t.string({ maxLength: 2048 }),
    udp_port: t.integer(0, 65535),
    juniper_header: t.boolean(),
    nh_mode: t.enum(['dynamic', 'static'] as const),
    static_nh_header: t.object({
      vtep_dst_ip_address: ipAddress(),
      vtep_dst_mac_address: t.string({ maxLength: 17 }),
      vni: t.integer(1, 16777215),
    }),
    nic_assisted_mirroring: t.boolean(),
    nic_assisted_mirroring_vlan: t.integer(0, 4094),
  },
  { description: 'MirrorActionType' },
);

export const actionList = t.object(
  {
    simple_action: t.enum(['pass', 'deny'] as const),
    gateway_name: t.string({ maxLength: 2048 }),
    apply_service: t.array(t.string({ maxLength: 2048 }), 64),
    mirror_to: mirrorTo,
    assign_routing_instance: t.string({ maxLength: 2048 }),
    log: t.boolean(),
    alert: t.boolean(),
    qos_action: t.string({ maxLength: 2048 }),
    host_based_service: t.boolean(),
  },
  { description: 'ActionListType: what happens to traffic a rule matches' },
);

export const policyRule = t.object(
  {
    rule_uuid: t.string({ maxLength: 64 }),
    rule_sequence: t.object({ major: t.integer(-1, 2 ** 31 - 1), minor: t.integer(-1, 2 ** 31 - 1) }),
    direction: t.enum(['>', '<>'] as const, '">" one way, "<>" both ways'),
    protocol: t.string({
      pattern: '^(any|tcp|udp|icmp|icmp6|[0-9]{1,3})$',
      description: 'any, tcp, udp, icmp, icmp6 or a number',
    }),
    ethertype: t.enum(['IPv4', 'IPv6'] as const),
    src_addresses: t.array(addressMatch, 256),
    dst_addresses: t.array(addressMatch, 256),
    src_ports: t.array(portRange, 256),
    dst_ports: t.array(portRange, 256),
    application: t.array(t.string({ maxLength: 255 }), 64),
    action_list: actionList,
    created: t.string({ maxLength: 64 }),
    last_modified: t.string({ maxLength: 64 }),
  },
  { description: 'PolicyRuleType' },
);
export type PolicyRule = Static<typeof policyRule>;

export const policyEntries = t.object({ policy_rule: t.array(policyRule, 4096) }, { description: 'PolicyEntriesType' });
