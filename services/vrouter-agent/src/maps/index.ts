// Every map of the datapath, as user space encodes it. One module per map; this file lists
// them and the struct layouts they depend on (for the layout test).
import { aclLayout, aclRuleLayout } from './acls.js';
import type { StructLayout } from './codec.js';
import { configLayout } from './config.js';
import { conntrackLayout } from './conntrack.js';
import { floatingIpLayout } from './floating-ips.js';
import { flowKeyLayout } from './flow-key.js';
import { flowSampleLayout } from './flow-samples.js';
import { route4KeyLayout } from './host-routes4.js';
import { route6KeyLayout } from './host-routes6.js';
import { interfaceLayout } from './interfaces.js';
import { nextHopLayout } from './next-hop.js';
import { peerLayout } from './peers.js';
import { lpm4KeyLayout } from './prefix-routes4.js';
import { lpm6KeyLayout } from './prefix-routes6.js';
import { probeAclLayout, probeTraceLayout } from './probes.js';
import { l4AddressLayout, serviceFlowKeyLayout, serviceKeyLayout, serviceLayout } from './services.js';
import { statsLayout } from './stats.js';
import { vrfLayout } from './vrfs.js';

export * from './acls.js';
export * from './codec.js';
export * from './config.js';
export * from './conntrack.js';
export * from './constants.js';
export * from './floating-ips.js';
export * from './floating-sources.js';
export * from './flow-key.js';
export * from './flow-samples.js';
export * from './host-routes4.js';
export * from './host-routes6.js';
export * from './interfaces.js';
export * from './next-hop.js';
export * from './peers.js';
export * from './prefix-routes4.js';
export * from './prefix-routes6.js';
export * from './probes.js';
export * from './services.js';
export * from './stats.js';
export * from './tx-ports.js';
export * from './vnis.js';
export * from './vrfs.js';

/** Every C struct user space encodes or decodes. */
export const structLayouts: StructLayout[] = [
  configLayout,
  interfaceLayout,
  vrfLayout,
  nextHopLayout,
  route4KeyLayout,
  route6KeyLayout,
  lpm4KeyLayout,
  lpm6KeyLayout,
  flowKeyLayout,
  conntrackLayout,
  aclRuleLayout,
  aclLayout,
  statsLayout,
  flowSampleLayout,
  peerLayout,
  probeAclLayout,
  probeTraceLayout,
  floatingIpLayout,
  l4AddressLayout,
  serviceKeyLayout,
  serviceLayout,
  serviceFlowKeyLayout,
];
