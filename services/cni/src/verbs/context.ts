// What every verb gets: the parsed environment and network config, the pod's identity, the
// agent client and a logger.
import type { Logger } from 'pino';
import type { AgentClient } from '../agent-client.js';
import type { PodIdentity } from '../cni-args.js';
import type { NetConf } from '../netconf.js';

export interface VerbContext {
  containerId: string;
  /** CNI_IFNAME: the name of the default network's interface (or, as a delegate, the one interface). */
  ifname: string;
  netns: string;
  pod: PodIdentity;
  netconf: NetConf;
  agent: AgentClient;
  log: Logger;
}
