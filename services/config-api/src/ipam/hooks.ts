// What the server assigns and checks per type when an object is written or deleted: subnets,
// network ids and VNIs of virtual networks, MACs of interfaces, addresses of instance, floating
// and alias IPs, security group ids; and, as Tungsten Fabric does, the names and ids of tags and
// tag types. Each hook runs inside the write's transaction.

import type { VnSubnets } from '@weft/model';
import { errors, invalid } from '../errors.js';
import type { StoredObject, WriteTx } from '../store/store.js';
import { parseAddress, prefixText } from './address.js';
import { type Allocator, addressScope } from './allocator.js';
import { normalizeSubnets, subnetsOfNetwork } from './subnets.js';
import { tagHooks } from './tags.js';

type Body = Record<string, unknown>;

export interface HookContext {
  tx: WriteTx;
  allocator: Allocator;
  uuid: string;
}

/** An object a create needs to exist first, and the input that creates it when it does not. */
export interface ImpliedObject {
  type: string;
  fqName: string[];
  input: Body;
}

export interface TypeHooks {
  /**
   * Objects this create implies (a tag, its tag type). Each is created first, in a write of its
   * own, when it is missing: a write changes one object, since on etcd each change is one
   * revision. An implied object is valid on its own, so the data set stays whole in between.
   */
  implies?(input: Body): ImpliedObject[];
  /** Rewrites a create's input before its place (fq_name) is decided. */
  prepare?(context: HookContext, input: Body): Body;
  /** Completes and checks a new object's body (mutating it). */
  create?(context: HookContext, body: Body): void;
  /** Completes and checks an updated body; `previous` is the stored one, `patch` what the caller sent. */
  update?(context: HookContext, body: Body, previous: Body, patch: Body): void;
}

const NUMBER_MAX = 2 ** 31 - 1;
const VNI_MAX = 16_777_215;

function reserveOrTaken(tx: WriteTx, scope: string, value: string, owner: string, field: string): void {
  if (!tx.reserve(scope, value, owner)) throw errors.VALUE_TAKEN({ field, value });
}

function networkOf(tx: WriteTx, uuid: string, field: string): StoredObject {
  const network = tx.get(uuid);
  if (network?.type !== 'virtual-network') {
    throw errors.REF_NOT_FOUND({ field, type: 'virtual-network', target: uuid });
  }
  return network;
}

const familyOf = (value: unknown) => (value === 'v4' ? 4 : value === 'v6' ? 6 : undefined);

function allocateFor(
  context: HookContext,
  network: StoredObject,
  body: Body,
  fields: { address: string; family: string },
): void {
  const requested = body[fields.address] as string | undefined;
  const address = context.allocator.allocateAddress(
    context.tx,
    { uuid: network.uuid, name: network.fqName.join(':') },
    subnetsOfNetwork(network),
    {
      address: requested,
      family: familyOf(body[fields.family]),
      subnetUuid: body.subnet_uuid as string | undefined,
      field: fields.address,
    },
    context.uuid,
  );
  body[fields.address] = address;
  body[fields.family] = parseAddress(address)?.family === 6 ? 'v6' : 'v4';
}

function keepImmutable(body: Body, previous: Body, patch: Body, fields: string[]): void {
  for (const field of fields) {
    if (field in patch && JSON.stringify(patch[field]) !== JSON.stringify(previous[field])) {
      throw invalid(field, 'cannot be changed once set; delete the object and create it again');
    }
    if (field in previous) body[field] = previous[field];
  }
}

const virtualNetwork: TypeHooks = {
  create({ tx, allocator, uuid }, body) {
    normalizeSubnets(body.network_ipam_refs as { attr?: VnSubnets }[] | undefined);
    const networkId = allocator.allocateNumber(tx, 'virtual-network-id', uuid, 1, NUMBER_MAX);
    const properties: Body = { forwarding_mode: 'l2_l3', ...(body.virtual_network_properties as Body | undefined) };
    const requested = properties.vxlan_network_identifier as number | undefined;
    if (requested !== undefined) {
      reserveOrTaken(tx, 'vni', String(requested), uuid, 'virtual_network_properties.vxlan_network_identifier');
    } else if (networkId <= VNI_MAX && tx.reserve('vni', String(networkId), uuid)) {
      properties.vxlan_network_identifier = networkId;
    } else {
      properties.vxlan_network_identifier = allocator.allocateNumber(tx, 'vni', uuid, 1, VNI_MAX);
    }
    body.virtual_network_properties = properties;
    body.virtual_network_network_id = networkId;
  },
  update({ tx, allocator, uuid }, body, previous, patch) {
    body.virtual_network_network_id = previous.virtual_network_network_id;
    if ('network_ipam_refs' in patch) {
      const subnets = normalizeSubnets(body.network_ipam_refs as { attr?: VnSubnets }[] | undefined);
      const before = normalizeSubnets(
        structuredClone(previous.network_ipam_refs as { attr?: VnSubnets }[] | undefined),
      );
      for (const { value } of tx.reservations(addressScope(uuid))) {
        const address = parseAddress(value)!;
        const inside = (s: (typeof subnets)[number]) =>
          s.prefix.family === address.family && address.value >= s.prefix.network && address.value <= s.prefix.last;
        if (!subnets.some(inside)) {
          const old = before.find(inside);
          throw errors.SUBNET_IN_USE({
            field: 'network_ipam_refs',
            subnet: old ? prefixText(old.prefix) : 'its subnet',
            address: value,
          });
        }
      }
    }
    const oldProperties = (previous.virtual_network_properties ?? {}) as Body;
    const properties = { ...oldProperties, ...(body.virtual_network_properties as Body | undefined) };
    const oldVni = oldProperties.vxlan_network_identifier as number | undefined;
    const newVni = (properties.vxlan_network_identifier as number | undefined) ?? oldVni;
    if (newVni !== oldVni && newVni !== undefined) {
      reserveOrTaken(tx, 'vni', String(newVni), uuid, 'virtual_network_properties.vxlan_network_identifier');
      if (oldVni !== undefined) {
        tx.release('vni', String(oldVni));
        allocator.released('vni');
      }
    }
    properties.vxlan_network_identifier = newVni;
    body.virtual_network_properties = properties;
  },
};

function macOf(body: Body): string | undefined {
  const list = (body.virtual_machine_interface_mac_addresses as { mac_address?: string[] } | undefined)?.mac_address;
  return list?.[0]?.toLowerCase();
}

const virtualMachineInterface: TypeHooks = {
  create({ tx, allocator, uuid }, body) {
    const requested = macOf(body);
    if (requested) reserveOrTaken(tx, 'mac', requested, uuid, 'virtual_machine_interface_mac_addresses.mac_address[0]');
    body.virtual_machine_interface_mac_addresses = { mac_address: [requested ?? allocator.allocateMac(tx, uuid)] };
  },
  update({ tx, uuid }, body, previous) {
    const before = macOf(previous);
    const after = macOf(body) ?? before;
    if (after !== before && after) {
      reserveOrTaken(tx, 'mac', after, uuid, 'virtual_machine_interface_mac_addresses.mac_address[0]');
      if (before) tx.release('mac', before);
    }
    body.virtual_machine_interface_mac_addresses = { mac_address: after ? [after] : [] };
  },
};

const instanceIp: TypeHooks = {
  create(context, body) {
    const ref = (body.virtual_network_refs as { uuid: string }[] | undefined)?.[0];
    if (!ref) throw invalid('virtual_network_refs', 'an instance-ip needs a reference to its virtual network');
    if ((body.virtual_network_refs as unknown[]).length > 1) {
      throw invalid('virtual_network_refs', 'an instance-ip belongs to exactly one virtual network');
    }
    const network = networkOf(context.tx, ref.uuid, 'virtual_network_refs[0]');
    allocateFor(context, network, body, { address: 'instance_ip_address', family: 'instance_ip_family' });
  },
  update(_context, body, previous, patch) {
    keepImmutable(body, previous, patch, [
      'instance_ip_address',
      'instance_ip_family',
      'virtual_network_refs',
      'subnet_uuid',
    ]);
  },
};

/** A floating or alias IP: an address of the network its pool (the parent) belongs to. */
function poolAddress(fields: { address: string; family: string }): TypeHooks {
  return {
    create(context, body) {
      const pool = context.tx.get(body.parent_uuid as string);
      const network = networkOf(context.tx, pool?.parentUuid ?? '', 'parent_uuid');
      allocateFor(context, network, body, fields);
    },
    update(_context, body, previous, patch) {
      keepImmutable(body, previous, patch, [fields.address, fields.family]);
    },
  };
}

const securityGroup: TypeHooks = {
  create({ tx, allocator, uuid }, body) {
    body.security_group_id = allocator.allocateNumber(tx, 'security-group-id', uuid, 8_000_000, NUMBER_MAX);
  },
  update(_context, body, previous) {
    body.security_group_id = previous.security_group_id;
  },
};

export const hooks: Record<string, TypeHooks> = {
  'virtual-network': virtualNetwork,
  'virtual-machine-interface': virtualMachineInterface,
  'instance-ip': instanceIp,
  'floating-ip': poolAddress({ address: 'floating_ip_address', family: 'floating_ip_address_family' }),
  'alias-ip': poolAddress({ address: 'alias_ip_address', family: 'alias_ip_address_family' }),
  'security-group': securityGroup,
  ...tagHooks,
};
