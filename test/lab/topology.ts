// The lab's network: hosts as network namespaces joined by an underlay, the way hosts of a data
// center sit on one L2 segment. The underlay is a bridge inside its own namespace; the machine's
// own namespace joins it too (as the controller's address), so that agents in host namespaces
// reach control and NATS, and users reach the config-api on localhost.
//
//   root netns: <lab>-ctl 10.255.<n>.254 ─┐
//                                          ├─ br0 in <lab>-ul
//   <lab>-h1: ul0 10.255.<n>.11 ──────────┤
//   <lab>-h2: ul0 10.255.<n>.12 ──────────┤
//   <lab>-gw: ul0 10.255.<n>.1 ───────────┘  (with --gateway: FRR's bgpd and zebra)
//     └─ out0 198.51.100.1 ── eth0 198.51.100.2 <lab>-out (a client outside the overlay)
//
// With a gateway, every host's default route points at it, as a data centre's hosts reach the
// rest of the world through their top-of-rack router: pods with floating IPs leave that way.
import { inNs, netnsExists, sh, shQuiet } from './shell.js';

/** Which programs carry the pods' traffic on a host (the agent's WEFT_AGENT_DATAPATH_MODE). */
export type LabDatapathMode = 'tc' | 'xdp';

export interface LabHost {
  name: string;
  netns: string;
  underlayAddress: string;
  underlayDevice: string;
  datapathMode: LabDatapathMode;
  /** The agent's WEFT_AGENT_UNDERLAY_STAGE (TC mode); its default when absent. */
  underlayStage?: LabUnderlayStage;
}

/** Where a TC-mode host runs the first stage for traffic from other hosts. */
export type LabUnderlayStage = 'auto' | 'xdp' | 'xdp-generic' | 'tc' | 'off';

/** The gateway router between the underlay and the outside, and a client outside. */
export interface LabGateway {
  netns: string;
  underlayAddress: string;
  /** FRR's AS; Weft speaks as LAB_WEFT_ASN. */
  asn: number;
  outsideNetns: string;
  /** The outside network (/24): the gateway's address on it, and the client's. */
  outsideGatewayAddress: string;
  outsideClientAddress: string;
}

/** The AS control's speaker uses in the lab. */
export const LAB_WEFT_ASN = 64512;

export interface Topology {
  lab: string;
  controllerAddress: string;
  hosts: LabHost[];
  gateway?: LabGateway;
}

export function planTopology(
  lab: string,
  hostCount: number,
  subnet: number,
  modes: LabDatapathMode[] = [],
  underlayStage: (LabUnderlayStage | undefined)[] = [],
  gateway = false,
): Topology {
  return {
    lab,
    controllerAddress: `10.255.${subnet}.254`,
    ...(gateway
      ? {
          gateway: {
            netns: `${lab}-gw`,
            underlayAddress: `10.255.${subnet}.1`,
            asn: 64500,
            outsideNetns: `${lab}-out`,
            outsideGatewayAddress: '198.51.100.1',
            outsideClientAddress: '198.51.100.2',
          },
        }
      : {}),
    hosts: Array.from({ length: hostCount }, (_, index) => ({
      name: `${lab}-h${index + 1}`,
      netns: `${lab}-h${index + 1}`,
      underlayAddress: `10.255.${subnet}.${11 + index}`,
      underlayDevice: 'ul0',
      datapathMode: modes[index] ?? 'tc',
      ...(underlayStage[index] ? { underlayStage: underlayStage[index] } : {}),
    })),
  };
}

const underlayNs = (lab: string) => `${lab}-ul`;

export function createTopology(topology: Topology): void {
  const { lab } = topology;
  const ul = underlayNs(lab);
  sh('ip', ['netns', 'add', ul]);
  inNs(ul, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
  inNs(ul, 'ip', ['link', 'set', 'br0', 'up']);

  sh('ip', ['link', 'add', `${lab}-ctl`, 'type', 'veth', 'peer', 'name', 'ctl', 'netns', ul]);
  sh('ip', ['addr', 'add', `${topology.controllerAddress}/24`, 'dev', `${lab}-ctl`]);
  sh('ip', ['link', 'set', `${lab}-ctl`, 'up']);
  inNs(ul, 'ip', ['link', 'set', 'ctl', 'master', 'br0', 'up']);

  for (const [index, host] of topology.hosts.entries()) {
    sh('ip', ['netns', 'add', host.netns]);
    joinUnderlay(topology, host.netns, `h${index + 1}`, host.underlayDevice, host.underlayAddress);
  }
  const gateway = topology.gateway;
  if (gateway) {
    sh('ip', ['netns', 'add', gateway.netns]);
    joinUnderlay(topology, gateway.netns, 'gw', 'ul0', gateway.underlayAddress);
    inNs(gateway.netns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    sh('ip', ['netns', 'add', gateway.outsideNetns]);
    sh('ip', [
      '-n',
      gateway.netns,
      'link',
      'add',
      'out0',
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      gateway.outsideNetns,
    ]);
    inNs(gateway.netns, 'ip', ['addr', 'add', `${gateway.outsideGatewayAddress}/24`, 'dev', 'out0']);
    inNs(gateway.netns, 'ip', ['link', 'set', 'out0', 'up']);
    inNs(gateway.outsideNetns, 'ip', ['addr', 'add', `${gateway.outsideClientAddress}/24`, 'dev', 'eth0']);
    inNs(gateway.outsideNetns, 'ip', ['link', 'set', 'eth0', 'up']);
    inNs(gateway.outsideNetns, 'ip', ['link', 'set', 'lo', 'up']);
    inNs(gateway.outsideNetns, 'ip', ['route', 'add', 'default', 'via', gateway.outsideGatewayAddress]);
    for (const host of topology.hosts) {
      inNs(host.netns, 'ip', ['route', 'add', 'default', 'via', gateway.underlayAddress]);
    }
  }
}

/**
 * Joins a network namespace to the lab's underlay bridge: `device` (inside it) with `address`,
 * its peer `port` on the bridge. Hosts join this way, and so do the Linux hosts that the datapath
 * benchmark compares with, so that both cross the same underlay.
 */
export function joinUnderlay(topology: Topology, netns: string, port: string, device: string, address: string): void {
  const ul = underlayNs(topology.lab);
  sh('ip', ['-n', ul, 'link', 'add', port, 'type', 'veth', 'peer', 'name', device, 'netns', netns]);
  inNs(ul, 'ip', ['link', 'set', port, 'master', 'br0', 'up']);
  // The datapath redirects tunnel packets out of the device with XDP; the peer end delivers them
  // only with GRO on (or an XDP program of its own), as a pod's end does.
  inNs(ul, 'ethtool', ['-K', port, 'gro', 'on']);
  inNs(netns, 'ip', ['addr', 'add', `${address}/24`, 'dev', device]);
  inNs(netns, 'ip', ['link', 'set', device, 'up']);
  inNs(netns, 'ip', ['link', 'set', 'lo', 'up']);
}

/** Removes every namespace and link of the lab; safe to run on a half-made or gone lab. */
export function destroyTopology(lab: string): void {
  for (const line of sh('ip', ['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name.startsWith(`${lab}-`)) shQuiet('ip', ['netns', 'del', name]);
  }
  shQuiet('ip', ['link', 'del', `${lab}-ctl`]);
}

export function topologyExists(lab: string): boolean {
  return netnsExists(underlayNs(lab));
}
