// What the introspection endpoints and probes read of a host's datapath: the loaded programs
// and maps, and how this host is wired. HostDatapath hands it out (inspect()); nothing here
// writes a map the reconciler owns.
import type { Datapath } from '../datapath/datapath.js';

export interface DatapathInspection {
  hostName: string;
  datapath: Datapath;
  mode: 'tc' | 'xdp';
  /** Attached ports: interface uuid → ifindex of the host end. */
  bindings: ReadonlyMap<string, number>;
  underlayIfindex: number;
  underlayAddress: string;
  /** The UDP port VXLAN arrives on. */
  tunnelPort: number;
}
