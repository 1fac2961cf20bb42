// What the CNI side needs from the datapath: attach a pod's host-side device to the forwarding
// program for one interface, and take it off again. The BPF datapath implements it; the CNI
// server depends only on this.
import type { Interface } from '../host-state/snapshot.js';
import type { PortRecord } from './port-store.js';

export interface PortDatapath {
  /** Attaches `port.host_ifname` for `iface`; idempotent (an adopted port is attached again). */
  attachPort(port: PortRecord, iface: Interface): Promise<void>;
  /** Detaches it; a device already gone is not an error. */
  detachPort(port: PortRecord): Promise<void>;
  /** Why ADD cannot be served now, or undefined when the datapath is loaded. */
  unavailable(): string | undefined;
}
