// POST /virtual-network/<uuid>/ip-alloc, /ip-free and /subnet-ip-count: addresses of a network
// taken and given back without an instance-ip, as Tungsten Fabric's virtual_network_ip_alloc
// and virtual_network_ip_free do (for addresses another system hands out). They are held by the
// network itself: no instance-ip gets them, and deleting the network frees them.
import { errors, invalid } from '../../errors.js';
import { parseAddress, prefixText } from '../../ipam/address.js';
import { addressScope } from '../../ipam/allocator.js';
import { type Subnet, subnetsOfNetwork } from '../../ipam/subnets.js';
import type { StoredObject, WriteTx } from '../../store/store.js';
import type { ConfigService } from '../config-service.js';

type Body = Record<string, unknown>;

/** The most addresses one ip-alloc takes: one request stays short. */
const MAX_COUNT = 4096;

function networkOf(view: { get(uuid: string): StoredObject | undefined }, uuid: string): StoredObject {
  const network = view.get(uuid.toLowerCase());
  if (network?.type !== 'virtual-network') throw errors.NOT_FOUND({ type: 'virtual-network', uuid });
  return network;
}

/** A subnet named by its uuid or by its prefix ("10.1.0.0/24"), as TF's clients name them either way. */
function subnetUuidOf(subnets: Subnet[], given: string, network: StoredObject): string {
  const found = subnets.find((subnet) => subnet.uuid === given || prefixText(subnet.prefix) === given);
  if (!found) throw invalid('subnet', `${given} is not a subnet of ${network.fqName.join(':')}`);
  return found.uuid;
}

export function ipAlloc(service: ConfigService, uuid: string, request: Body): Promise<{ ip_addr: string[] }> {
  const { count = 1, subnet, family } = request;
  if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_COUNT) {
    throw invalid('count', `is a number of addresses from 1 to ${MAX_COUNT}`);
  }
  if (subnet !== undefined && subnet !== null && typeof subnet !== 'string')
    throw invalid('subnet', 'must be a string');
  if (family !== undefined && family !== null && family !== 'v4' && family !== 'v6') {
    throw invalid('family', 'is v4 or v6');
  }
  return service.transact((tx: WriteTx) => {
    const network = networkOf(tx, uuid);
    const subnets = subnetsOfNetwork(network);
    const subnetUuid = typeof subnet === 'string' ? subnetUuidOf(subnets, subnet, network) : undefined;
    const addresses: string[] = [];
    for (let index = 0; index < (count as number); index++) {
      addresses.push(
        service.allocator.allocateAddress(
          tx,
          { uuid: network.uuid, name: network.fqName.join(':') },
          subnets,
          {
            family: family === 'v6' ? 6 : family === 'v4' ? 4 : undefined,
            ...(subnetUuid ? { subnetUuid } : {}),
            field: 'count',
          },
          network.uuid,
        ),
      );
    }
    return { ip_addr: addresses };
  });
}

export function ipFree(service: ConfigService, uuid: string, request: Body): Promise<Body> {
  const list = request.ip_addr ?? [];
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || !parseAddress(item))) {
    throw invalid('ip_addr', 'is a list of IP addresses');
  }
  return service.transact((tx) => {
    const network = networkOf(tx, uuid);
    const scope = addressScope(network.uuid);
    (list as string[]).forEach((address, index) => {
      const holder = tx.reservationOwner(scope, address);
      if (holder === undefined) return;
      if (holder !== network.uuid) {
        const object = tx.get(holder);
        throw errors.ADDRESS_TAKEN({
          field: `ip_addr[${index}]`,
          address,
          reason: `is held by ${object ? `${object.type} ${object.uuid}` : holder}: delete that instead`,
        });
      }
      tx.release(scope, address);
    });
    service.allocator.released(scope);
    return {};
  });
}

/** How many addresses are held in each subnet (given as prefixes or subnet uuids). */
export function subnetIpCount(service: ConfigService, uuid: string, request: Body): { ip_count_list: number[] } {
  const list = request.subnet_list ?? [];
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) {
    throw invalid('subnet_list', 'is a list of subnets');
  }
  const network = networkOf(service.store, uuid);
  const subnets = subnetsOfNetwork(network);
  const held = service.store.reservations(addressScope(network.uuid)).map((entry) => parseAddress(entry.value)!);
  return {
    ip_count_list: (list as string[]).map((given) => {
      const subnet = subnets.find((candidate) => candidate.uuid === subnetUuidOf(subnets, given, network))!;
      return held.filter(
        (address) =>
          address.family === subnet.prefix.family &&
          address.value >= subnet.prefix.network &&
          address.value <= subnet.prefix.last,
      ).length;
    }),
  };
}
