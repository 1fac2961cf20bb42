// Property types of Tungsten Fabric's BGP router and its peerings (bgp_schema.xsd).
import { int32, ipAddress } from './common.js';
import { t } from './schema.js';

const addressFamilies = t.object(
  {
    family: t.array(
      t.enum([
        'inet',
        'inet-labeled',
        'inet-vpn',
        'e-vpn',
        'erm-vpn',
        'route-target',
        'inet6',
        'inet-mvpn',
        'inet6-vpn',
      ] as const),
      16,
    ),
  },
  { description: 'AddressFamilies' },
);

const authData = t.object(
  {
    key_type: t.enum(['md5'] as const),
    key_items: t.array(t.object({ key_id: t.integer(0, 63), key: t.string({ maxLength: 255 }) }), 2),
  },
  { description: 'AuthenticationData' },
);

const holdTime = t.integer(0, 65535, 'seconds; 0 means the default (90)');

export const bgpRouterParameters = t.object(
  {
    admin_down: t.boolean(),
    vendor: t.string({ maxLength: 255 }),
    cluster_id: int32(),
    autonomous_system: t.integer(1, 4294967295),
    identifier: ipAddress('router id, dotted notation'),
    address: ipAddress('address the system reaches this router at'),
    port: t.integer(0, 65535),
    source_port: t.integer(0, 65535),
    hold_time: holdTime,
    address_families: addressFamilies,
    auth_data: authData,
    local_autonomous_system: t.integer(0, 4294967295),
    router_type: t.enum(['control-node', 'external-control-node', 'router', 'bgpaas-server', 'bgpaas-client'] as const),
    gateway_address: ipAddress(),
    ipv6_gateway_address: ipAddress(),
  },
  { description: 'BgpRouterParams' },
);

const sessionAttributes = t.object(
  {
    bgp_router: t.string({ maxLength: 2048 }),
    admin_down: t.boolean(),
    passive: t.boolean(),
    as_override: t.boolean(),
    hold_time: holdTime,
    loop_count: t.integer(0, 16),
    local_autonomous_system: t.integer(0, 4294967295),
    address_families: addressFamilies,
    auth_data: authData,
    family_attributes: t.array(
      t.object({
        address_family: t.string({ maxLength: 32 }),
        loop_count: t.integer(0, 16),
        prefix_limit: t.object({ maximum: int32(), idle_timeout: t.integer(0, 86400) }),
        default_tunnel_encap: t.array(t.enum(['gre', 'mpls', 'udp', 'vxlan'] as const), 4),
      }),
      16,
    ),
    private_as_action: t.enum(['remove', 'remove-all', 'replace-all'] as const),
    route_origin_override: t.object({
      origin_override: t.boolean(),
      origin: t.enum(['IGP', 'EGP', 'INCOMPLETE'] as const),
    }),
  },
  { description: 'BgpSessionAttributes' },
);

export const bgpPeeringAttributes = t.object(
  {
    session: t.array(
      t.object(
        { uuid: t.string({ maxLength: 64 }), attributes: t.array(sessionAttributes, 3) },
        { description: 'BgpSession' },
      ),
      16,
    ),
  },
  { description: 'BgpPeeringAttributes: the sessions between two BGP routers' },
);
