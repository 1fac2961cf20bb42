// The Linux baseline of the datapath benchmark, in the lab's own shapes: two Linux hosts on the
// lab's underlay bridge (joined as the lab's hosts are), pods behind veth pairs with the MTU
// Weft's pods get, routed by the host's kernel between namespaces on one host, and through a
// Linux VXLAN device with routes across the two hosts. Offloads are the kernel's defaults, as
// Linux is deployed. Everything is named after the lab, so `lab down` removes it too.
import { inNs, sh } from './shell.js';
import { joinUnderlay, type Topology } from './topology.js';

export interface LinuxPod {
  netns: string;
  address: string;
}

export interface LinuxHosts {
  /** Two pods on the first Linux host. */
  oneHost: [LinuxPod, LinuxPod];
  /** A pod on each Linux host (the first is oneHost[0]). */
  acrossHosts: [LinuxPod, LinuxPod];
}

const VNI = 900;

/** Pod `index` on `host`: 10.9.<index>.2/24 behind the host's 10.9.<index>.1. */
function linuxPod(topology: Topology, host: string, index: number, mtu: number): LinuxPod {
  const netns = `${topology.lab}-lxp${index}`;
  const hostEnd = `lxp${index}`;
  sh('ip', ['netns', 'add', netns]);
  sh('ip', [
    '-n',
    host,
    'link',
    'add',
    hostEnd,
    'mtu',
    String(mtu),
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    netns,
  ]);
  inNs(host, 'ip', ['addr', 'add', `10.9.${index}.1/24`, 'dev', hostEnd]);
  inNs(host, 'ip', ['link', 'set', hostEnd, 'up']);
  inNs(netns, 'ip', ['link', 'set', 'eth0', 'mtu', String(mtu), 'up']);
  inNs(netns, 'ip', ['link', 'set', 'lo', 'up']);
  inNs(netns, 'ip', ['addr', 'add', `10.9.${index}.2/24`, 'dev', 'eth0']);
  inNs(netns, 'ip', ['route', 'add', 'default', 'via', `10.9.${index}.1`]);
  return { netns, address: `10.9.${index}.2` };
}

/** Builds both Linux hosts on the lab's underlay, with addresses .21 and .22 of its subnet. */
export function createLinuxHosts(topology: Topology, podMtu: number): LinuxHosts {
  const subnet = topology.controllerAddress.split('.').slice(0, 3).join('.');
  const hosts = [1, 2].map((index) => ({
    netns: `${topology.lab}-lx${index}`,
    address: `${subnet}.${20 + index}`,
  }));
  for (const [index, host] of hosts.entries()) {
    sh('ip', ['netns', 'add', host.netns]);
    joinUnderlay(topology, host.netns, `lx${index + 1}`, 'ul0', host.address);
    inNs(host.netns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  }
  const [one, two] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
  const a = linuxPod(topology, one.netns, 1, podMtu);
  const b = linuxPod(topology, one.netns, 2, podMtu);
  const c = linuxPod(topology, two.netns, 3, podMtu);
  // A VXLAN device on each host, with the overlay's routes through it.
  for (const [host, peer, own, far, farPods] of [
    [one, two, '10.9.255.1/24', '10.9.255.2', '10.9.3.0/24'],
    [two, one, '10.9.255.2/24', '10.9.255.1', '10.9.0.0/22'],
  ] as const) {
    inNs(host.netns, 'ip', [
      'link',
      'add',
      'vx',
      'type',
      'vxlan',
      'id',
      String(VNI),
      'local',
      host.address,
      'remote',
      peer.address,
      'dstport',
      '4789',
      'dev',
      'ul0',
    ]);
    inNs(host.netns, 'ip', ['addr', 'add', own, 'dev', 'vx']);
    inNs(host.netns, 'ip', ['link', 'set', 'vx', 'up']);
    inNs(host.netns, 'ip', ['route', 'add', farPods, 'via', far, 'dev', 'vx']);
  }
  return { oneHost: [a, b], acrossHosts: [a, c] };
}
