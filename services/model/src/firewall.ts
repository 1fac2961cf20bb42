// Property types of Tungsten Fabric's security policy resources (firewall_policy.xsd and
// tag.xsd): services, endpoints and the sequence of rules in a policy.
import { int32, portRange, subnet } from './common.js';
import { t } from './schema.js';

export const firewallService = t.object(
  {
    protocol: t.string({ maxLength: 16, description: 'tcp, udp, icmp, any or a number' }),
    protocol_id: t.integer(0, 255),
    src_ports: portRange,
    dst_ports: portRange,
  },
  { description: 'FirewallServiceType' },
);

export const firewallServiceGroup = t.object(
  { firewall_service: t.array(firewallService, 1024) },
  { required: ['firewall_service'], description: 'FirewallServiceGroupType' },
);

export const firewallRuleEndpoint = t.object(
  {
    subnet,
    virtual_network: t.string({ maxLength: 2048, description: 'fq_name string of a virtual network' }),
    address_group: t.string({ maxLength: 2048, description: 'fq_name string of an address group' }),
    tags: t.array(t.string({ maxLength: 1024, description: 'type=value' }), 64),
    tag_ids: t.array(t.integer(0, Number.MAX_SAFE_INTEGER), 64),
    any: t.boolean(),
  },
  { description: 'FirewallRuleEndpointType: one side of a firewall rule' },
);

export const firewallSequence = t.object(
  { sequence: t.string({ maxLength: 64, description: 'position in the list, e.g. "1.01"' }) },
  { required: ['sequence'], description: 'FirewallSequence' },
);

export const matchTags = t.object(
  { tag_list: t.array(t.string({ maxLength: 255, description: 'a tag type, e.g. application' }), 64) },
  { required: ['tag_list'], description: 'FirewallRuleMatchTagsType' },
);

export const matchTagTypes = t.object(
  { tag_type: t.array(int32(), 64) },
  { description: 'FirewallRuleMatchTagsTypeIdList: the ids of match_tags, set by the server' },
);

export const draftModeState = t.enum(['created', 'updated', 'deleted'] as const, 'set by the server');

/** Tag type ids are 16 bits, written 0x0001. */
export const tagTypeId = t.string({ pattern: '^0x[0-9A-Fa-f]{4}$', description: '0xTTTT, set by the server' });
/** Tag ids are the type id followed by a 16-bit value id: 0xTTTTVVVV. */
export const tagId = t.string({ pattern: '^0x[0-9A-Fa-f]{8}$', description: '0xTTTTVVVV, set by the server' });
