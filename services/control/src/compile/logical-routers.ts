// Logical routers → the networks they attach: the network of each of their router interfaces
// (virtual_machine_interface_refs), as in Tungsten Fabric. Attached networks exchange routes
// and pass each other's traffic without a policy; detaching an interface cuts its network off.
import type { StoredObject } from '../config-feed/store.js';
import { pairKey } from './network-policies.js';
import { refUuids } from './vnc.js';

/** The networks a router attaches; `networkOf` gives an interface's network when both exist. */
export function attachedNetworks(
  router: StoredObject<'logical-router'> | undefined,
  networkOf: (interfaceUuid: string) => string | undefined,
): Set<string> {
  const networks = new Set<string>();
  for (const uuid of refUuids(router?.body.virtual_machine_interface_refs)) {
    const network = networkOf(uuid);
    if (network) networks.add(network);
  }
  return networks;
}

/** Every pair of the networks, which the router connects. */
export function routerPairs(networks: ReadonlySet<string>): Set<string> {
  const list = [...networks];
  const pairs = new Set<string>();
  for (let i = 0; i < list.length; i += 1)
    for (let j = i + 1; j < list.length; j += 1) pairs.add(pairKey(list[i]!, list[j]!));
  return pairs;
}
