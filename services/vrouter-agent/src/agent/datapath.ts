// What the agent needs from its datapath, whatever implements it: the BPF programs and maps of
// this host (src/datapath). The agent depends on this interface only, so that its wiring reads
// in one place and each side is tested on its own.
import type { FlowSampleReader } from '../datapath/datapath.js';
import type { HostView } from '../host-state/host-state.js';
import type { DatapathInspection } from '../introspect/inspection.js';
import type { PortDatapath } from '../ports/port-datapath.js';
import type { PortRecord } from '../ports/port-store.js';

export interface DatapathCounters {
  /** Per attached port (by interface uuid): packets and bytes each way. */
  interfaces: Record<string, { rxPackets: number; rxBytes: number; txPackets: number; txBytes: number }>;
  /** Drops by reason: no_route, policy, malformed, mtu. */
  drops: Record<string, number>;
}

export interface Datapath extends PortDatapath {
  /** Loads the programs, adopting maps already pinned by an earlier agent, and attaches them. */
  start(): Promise<void>;
  /**
   * Converges the maps on the desired state and the attached ports, in one batch. Called only
   * after the first full sync with control, so an agent that restarts flushes nothing early.
   */
  reconcile(view: HostView, ports: PortRecord[]): Promise<void>;
  counters(): Promise<DatapathCounters>;
  /** The sampled flow records, once loaded; a datapath without them exports no flows. */
  flowSamples?(): FlowSampleReader | undefined;
  /** The loaded datapath, for GET /datapath and probes; a datapath without BPF maps has none. */
  inspect?(): DatapathInspection | undefined;
  /** Stops managing; programs and maps stay pinned and keep forwarding (hitless restart). */
  stop(): Promise<void>;
  /** Removes every program, map, pin and device the agent made. */
  cleanup(): Promise<void>;
}
