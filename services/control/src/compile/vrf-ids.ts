// VRF ids: one per virtual network, stable while control runs. The network's own
// virtual_network_network_id (unique, assigned by config-api) is used when present, so that two
// control replicas, and a restarted control, give every agent the same id for the same network.
// Only a network without one gets an id from control's own range, above every network id.

const OWN_RANGE_START = 2 ** 31;

export class VrfIdAllocator {
  readonly #byNetwork = new Map<string, number>();
  #next = OWN_RANGE_START;

  /** The VRF id of a network; the same answer for the same network uuid while running. */
  idOf(networkUuid: string, networkId: number | undefined): number {
    const known = this.#byNetwork.get(networkUuid);
    if (known !== undefined) return known;
    const id = networkId && networkId > 0 ? networkId : this.#next++;
    this.#byNetwork.set(networkUuid, id);
    return id;
  }

  /** Forgets the id of a network that no longer exists. */
  forget(networkUuid: string): void {
    this.#byNetwork.delete(networkUuid);
  }
}
