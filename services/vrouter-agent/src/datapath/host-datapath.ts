// The agent's datapath (src/agent/datapath.ts) on BPF: loads the programs with the host's
// pinned maps, attaches the underlay program, attaches each pod port as the CNI flow asks, and
// converges the maps on the host's desired state through the reconciler. Programs stay attached
// and maps pinned when the agent stops, so the next agent adopts a datapath that never stopped.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '@weft/kit';
import type { Datapath as AgentDatapath, DatapathCounters } from '../agent/datapath.js';
import { errors } from '../errors.js';
import type { HostView } from '../host-state/host-state.js';
import type { Interface } from '../host-state/snapshot.js';
import type { DatapathInspection } from '../introspect/inspection.js';
import { DROP_REASON_NAMES, VXLAN_PORT } from '../maps/constants.js';
import type { PortRecord } from '../ports/port-store.js';
import { hostPinRoot } from './bpffs.js';
import { cleanupHost } from './cleanup.js';
import { Datapath, type FlowSampleReader } from './datapath.js';
import { datapathMissing } from './native.js';
import { UnderlayNeighbours } from './neighbours.js';
import { setPodOffloads } from './pod-offloads.js';
import { DatapathReconciler } from './reconciler.js';
import { attachTcIngress, detachTcIngress, TUNNEL_DEVICE, tcIngressProgram } from './tc.js';
import { attachXdp, detachXdp, type XdpMode } from './xdp.js';

const run = promisify(execFile);

/** The virtual gateway's MAC: the IANA VRRP range Tungsten Fabric's vrouter also answers with. */
export const DEFAULT_ROUTER_MAC = '00:00:5e:00:01:00';
/** TC mode: the MTU of a pod's host end, the largest a veth takes (see attachPortPrograms). */
const HOST_END_MTU = 65535;
/** Where the pod-side XDP_PASS program is pinned, for attaching it inside the pod's netns. */
const PASS_PIN = 'prog_weft_pass';

/**
 * xdp: XDP programs on the pod veths and the underlay device, encapsulation in XDP.
 * tc: TC programs on the pod veths and on a VXLAN device in external mode; keeps GSO and
 * checksum offload (see test/bench/README.md for what each is worth).
 */
export type DatapathMode = 'xdp' | 'tc';

/** Where the underlay's first stage runs in TC mode (see HostDatapathOptions.underlayStage). */
export type UnderlayStage = 'auto' | 'xdp' | 'xdp-generic' | 'tc' | 'off';

export interface HostDatapathOptions {
  hostName: string;
  /** The host's underlay device and its tunnel address. */
  underlayDevice: string;
  underlayAddress: string;
  pinRoot?: string;
  routerMac?: string;
  /** One packet in N becomes a flow record besides every new flow; 0 for new flows only. */
  sampleRate?: number;
  /** native (driver) XDP by default; generic where a device has no native XDP. */
  xdpMode?: XdpMode;
  /** Which programs carry pod traffic; tc by default. */
  mode?: DatapathMode;
  /**
   * TC mode: where the underlay's first stage (underlay_guard.c) runs. auto (the default): XDP
   * in the driver, before an skb exists, on a physical NIC (which delivers MTU-sized frames
   * anyway); at TC ingress on anything else. On a veth a native XDP program makes the kernel turn
   * GSO off on its peer, so every 64 KB packet from other hosts arrives cut into MTU-sized frames
   * (measured in the lab: TCP across hosts at 0.2-0.4x of Linux with 2-3x the CPU), and generic
   * XDP copies every GSO packet into one linear buffer; virtio_net turns the hypervisor's
   * receive offloads off for XDP.
   */
  underlayStage?: UnderlayStage;
  /** TC mode: name of the host's VXLAN device (created when missing). */
  tunnelDevice?: string;
  /**
   * TC mode: its UDP port, 4789 unless a test shares a namespace with another external VXLAN
   * device (only one per port and namespace).
   */
  tunnelPort?: number;
  logger: Logger;
}

/**
 * A device of this network namespace, through netlink (`ip -j link`): /sys/class/net shows the
 * namespace that sysfs was mounted in, and an agent started with `nsenter --net` in a lab host
 * keeps the machine's mounts.
 */
function device(name: string): { ifindex: number; mac: string; mtu: number; kind: string } | undefined {
  try {
    const [link] = JSON.parse(
      execFileSync('ip', ['-j', '-d', 'link', 'show', 'dev', name], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as {
      ifindex: number;
      address: string;
      mtu: number;
      linkinfo?: { info_kind?: string };
    }[];
    return link && { ifindex: link.ifindex, mac: link.address, mtu: link.mtu, kind: link.linkinfo?.info_kind ?? '' };
  } catch {
    return undefined;
  }
}

/**
 * What kind of device a network device is: the link kind of a virtual one (veth, bridge, vlan…),
 * else its driver (ethtool -i), which is what tells a NIC from a paravirtual one.
 */
function deviceKind(name: string, linkKind: string): string {
  if (linkKind) return linkKind;
  try {
    const info = execFileSync('ethtool', ['-i', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /^driver:\s*(\S+)/m.exec(info)?.[1] ?? '';
  } catch {
    return '';
  }
}

/**
 * Whether XDP runs on a device without costing it anything: a physical NIC's driver, which
 * receives MTU-sized frames anyway. Not a virtual link (on a veth, native XDP turns GSO off on
 * its peer), nor virtio_net, which turns the hypervisor's receive offloads off for XDP and
 * needs a queue per CPU. Unknown devices count as not.
 */
function runsXdpInPlace(kind: string): boolean {
  const virtual = ['veth', 'bridge', 'bond', 'vlan', 'macvlan', 'ipvlan', 'vxlan', 'geneve', 'dummy', 'tun', 'netkit'];
  return kind !== '' && !virtual.includes(kind) && kind !== 'virtio_net';
}

/** The maps an earlier agent left pinned on this host, by name (with their layout versions). */
function pinnedMaps(pinRoot: string): Set<string> {
  if (!existsSync(pinRoot)) return new Set();
  return new Set(readdirSync(pinRoot).filter((name) => name.startsWith('weft_')));
}

/**
 * An upgrade in which any map changed layout: an earlier datapath left its maps, and at least
 * one map of this one was not among them (a new versioned name, so it starts empty). A restart
 * or an upgrade with every layout the same adopts every map, full.
 */
function isLayoutUpgrade(pinnedBefore: Set<string>, datapath: Datapath): boolean {
  return pinnedBefore.size > 0 && datapath.mapNames().some((name) => !pinnedBefore.has(name));
}

export class HostDatapath implements AgentDatapath {
  readonly pinRoot: string;
  private datapath: Datapath | undefined;
  private reconciler: DatapathReconciler | undefined;
  private readonly neighbours: UnderlayNeighbours;
  /** Attached ports: interface uuid → ifindex of the host end. */
  private readonly attached = new Map<string, { ifindex: number; port: PortRecord }>();
  private view: HostView | undefined;
  private deferAttach = false;
  private readonly deferredPorts = new Map<string, PortRecord>();
  private underlayIfindex = 0;
  private underlayKind = '';
  private tunnelIfindex = 0;
  private samples: FlowSampleReader | undefined;

  constructor(private readonly options: HostDatapathOptions) {
    this.pinRoot = options.pinRoot ?? hostPinRoot(options.hostName);
    this.neighbours = new UnderlayNeighbours(options.underlayDevice);
  }

  unavailable(): string | undefined {
    if (this.datapath) return undefined;
    return datapathMissing() ?? 'the datapath is not loaded yet';
  }

  get mode(): DatapathMode {
    return this.options.mode ?? 'tc';
  }

  async start(): Promise<void> {
    const underlay = device(this.options.underlayDevice);
    if (!underlay) {
      throw errors.INVALID_FIELD({
        field: 'underlayDevice',
        reason: `no device "${this.options.underlayDevice}" on this host`,
      });
    }
    // An upgrade in which a map changed layout: this version's programs would start on that
    // map empty, so they wait for the first converge while the older programs keep forwarding
    // on the older maps.
    const pinnedBefore = pinnedMaps(this.pinRoot);
    const datapath = Datapath.open(this.pinRoot);
    this.deferAttach = isLayoutUpgrade(pinnedBefore, datapath);
    this.datapath = datapath;
    this.underlayIfindex = underlay.ifindex;
    this.underlayKind = deviceKind(this.options.underlayDevice, underlay.kind);
    this.tunnelIfindex = this.mode === 'tc' ? await this.tunnelDevice() : underlay.ifindex;
    if (!this.deferAttach) await this.attachHost();
    const tunnelIfindex = this.tunnelIfindex;
    this.reconciler = new DatapathReconciler(
      datapath,
      {
        routerMac: this.options.routerMac ?? DEFAULT_ROUTER_MAC,
        underlay: { ...underlay, address: this.options.underlayAddress },
        sampleRate: this.options.sampleRate ?? 0,
        tunnelIfindex,
        tunnelPort: this.mode === 'tc' ? (this.options.tunnelPort ?? VXLAN_PORT) : VXLAN_PORT,
      },
      // In TC mode the kernel's VXLAN device resolves the outer MAC itself.
      { underlayMacOf: (address) => (this.mode === 'tc' ? '00:00:00:00:00:00' : this.neighbours.macOf(address)) },
    );
  }

  /** The programs of the host's own devices: the tunnel device (TC) or the underlay (XDP). */
  private async attachHost(): Promise<void> {
    const { datapath } = this.loaded(true);
    if (this.mode === 'tc') {
      attachTcIngress(datapath.native, this.tunnelIfindex, datapath.programs.tunnelIngressTc.fd);
      await this.attachUnderlayStage();
    } else {
      // The new program replaces the old one on the device in one step: no packet sees neither.
      await this.attach(this.underlayIfindex, datapath.programs.underlayIngress.fd);
      // A TC-mode agent's first stage would judge what XDP mode passes to the kernel.
      this.detachUnderlayTcStage();
      const passPin = join(this.pinRoot, PASS_PIN);
      rmSync(passPin, { force: true });
      datapath.native.objPin(datapath.programs.pass.fd, passPin);
    }
  }

  /** The program of one pod port's host end (and, in XDP mode, what its pod end needs). */
  private async attachPortPrograms(port: PortRecord, ifindex: number): Promise<void> {
    const { datapath } = this.loaded(true);
    if (this.mode === 'tc') {
      attachTcIngress(datapath.native, ifindex, datapath.programs.podEgressTc.fd);
      await detachXdp(ifindex, this.options.xdpMode ?? 'native').catch(() => undefined);
      // The datapath, not the veth, judges a packet's size: a pod that raised its MTU must reach
      // the program to be told, by ICMP, what the next hop carries (path MTU discovery). A
      // veth drops what exceeds its peer's MTU without a word.
      await run('ip', ['link', 'set', 'dev', port.host_ifname, 'mtu', String(HOST_END_MTU)]).catch((error: Error) =>
        this.options.logger.warn({ port: port.host_ifname, err: error }, 'could not raise the host end MTU'),
      );
    } else {
      await this.attach(ifindex, datapath.programs.podEgress.fd);
      await this.attachPodEndPass(port);
    }
    await this.setOffloads(port);
  }

  /**
   * The pod end's offloads for this mode (pod-offloads.ts): left on in TC mode (set again, so
   * that a pod made for XDP mode gets them back), TX checksum off in XDP mode. A pod whose
   * namespace cannot be entered keeps what it has, and says so.
   */
  private async setOffloads(port: PortRecord): Promise<void> {
    if (!port.netns) return;
    await setPodOffloads(port.netns, port.ifname, this.mode).catch((error: Error) =>
      this.options.logger.warn({ port: port.host_ifname, err: error }, 'could not set the pod end offloads'),
    );
  }

  /** The host's VXLAN device in external mode (created when missing), up; its ifindex. */
  private async tunnelDevice(): Promise<number> {
    const name = this.options.tunnelDevice ?? TUNNEL_DEVICE;
    if (!device(name)) {
      await run('ip', [
        'link',
        'add',
        name,
        'type',
        'vxlan',
        'external',
        'dstport',
        String(this.options.tunnelPort ?? VXLAN_PORT),
        'local',
        this.options.underlayAddress,
        'nolearning',
      ]);
    }
    await run('ip', ['link', 'set', name, 'up']);
    return device(name)!.ifindex;
  }

  /** Where the underlay's first stage runs (TC mode), with auto resolved for this device. */
  get underlayStage(): Exclude<UnderlayStage, 'auto'> {
    const chosen = this.options.underlayStage ?? 'auto';
    if (chosen !== 'auto') return chosen;
    return runsXdpInPlace(this.underlayKind) ? 'xdp' : 'tc';
  }

  /**
   * The first stage for traffic from other hosts, where underlayStage says; a program of the
   * same place is replaced in one step (an XDP one left by an agent in XDP mode too), and the
   * other places are cleared.
   */
  private async attachUnderlayStage(): Promise<void> {
    const { datapath } = this.loaded(true);
    const where = this.underlayStage;
    const ifindex = this.underlayIfindex;
    if (where === 'xdp' || where === 'xdp-generic') {
      await this.attach(ifindex, datapath.programs.underlayGuard.fd, where === 'xdp' ? 'native' : 'generic');
    } else {
      for (const mode of ['native', 'generic'] as const) await detachXdp(ifindex, mode).catch(() => undefined);
    }
    // Floating addresses (bpf/lib/nat.h) are translated at TC ingress whatever the first stage:
    // with it when it runs there, alone when it runs in XDP (which passes them) or not at all.
    const tc = where === 'tc' ? datapath.programs.underlayGuardTc : datapath.programs.underlayNatTc;
    attachTcIngress(datapath.native, ifindex, tc.fd);
  }

  /** Takes the first stage off the underlay's TC ingress, when it is ours that sits there. */
  private detachUnderlayTcStage(): void {
    const { datapath } = this.loaded(true);
    const id = tcIngressProgram(datapath.native, this.underlayIfindex);
    const program = id ? datapath.native.programInfoById(id) : null;
    if (program?.name.startsWith('weft_underlay')) detachTcIngress(datapath.native, this.underlayIfindex);
  }

  private async attach(ifindex: number, fd: number, mode: XdpMode = this.options.xdpMode ?? 'native'): Promise<void> {
    try {
      await attachXdp(ifindex, fd, mode);
    } catch (error) {
      if (mode !== 'native') throw error;
      this.options.logger.warn({ ifindex, err: error }, 'native XDP refused; attaching in generic mode');
      await attachXdp(ifindex, fd, 'generic');
    }
  }

  private loaded(opening = false): { datapath: Datapath; reconciler: DatapathReconciler } {
    if (!this.datapath || (!this.reconciler && !opening)) {
      throw errors.DATAPATH_UNAVAILABLE({ reason: this.unavailable() ?? 'not started' });
    }
    return { datapath: this.datapath, reconciler: this.reconciler as DatapathReconciler };
  }

  async attachPort(port: PortRecord, _iface: Interface): Promise<void> {
    this.loaded();
    const host = device(port.host_ifname);
    if (!host) {
      throw errors.INVALID_FIELD({ field: 'host_ifname', reason: `no device "${port.host_ifname}" on this host` });
    }
    if (this.deferAttach) this.deferredPorts.set(port.interface_uuid, port);
    else await this.attachPortPrograms(port, host.ifindex);
    this.attached.set(port.interface_uuid, { ifindex: host.ifindex, port });
    if (this.view) await this.converge();
  }

  /** XDP_REDIRECT into a veth is delivered only when the receiving end runs XDP itself (XDP_PASS is enough). */
  private async attachPodEndPass(port: PortRecord): Promise<void> {
    const inPod = (command: string, ...args: string[]) => run('nsenter', [`--net=${port.netns}`, command, ...args]);
    const pinned = join(this.pinRoot, PASS_PIN);
    // bpftool, not ip: ip's BPF loader would create its own directories under bpffs.
    await inPod('bpftool', 'net', 'attach', 'xdpdrv', 'pinned', pinned, 'dev', port.ifname, 'overwrite').catch(() =>
      inPod('bpftool', 'net', 'attach', 'xdpgeneric', 'pinned', pinned, 'dev', port.ifname, 'overwrite'),
    );
  }

  async detachPort(port: PortRecord): Promise<void> {
    this.attached.delete(port.interface_uuid);
    const host = device(port.host_ifname);
    if (host && this.mode === 'tc' && this.datapath) detachTcIngress(this.datapath.native, host.ifindex);
    if (host && this.mode === 'xdp')
      await detachXdp(host.ifindex, this.options.xdpMode ?? 'native').catch(() => undefined);
    if (this.view) await this.converge();
  }

  async reconcile(view: HostView, ports: PortRecord[]): Promise<void> {
    this.loaded();
    this.view = view;
    // Ports known to the agent but not attached by this process (adopted after a restart or an
    // upgrade) are bound by their device.
    for (const port of ports) {
      if (this.attached.has(port.interface_uuid)) continue;
      const host = device(port.host_ifname);
      if (!host) continue;
      this.attached.set(port.interface_uuid, { ifindex: host.ifindex, port });
      // It still runs the previous agent's program, which an upgrade must replace (an atomic
      // swap on the hook). After a layout change that program reads maps this version stops
      // filling: the port takes this version's programs once the new maps hold everything.
      if (this.deferAttach) this.deferredPorts.set(port.interface_uuid, port);
      else
        await this.attachPortPrograms(port, host.ifindex).catch((error: Error) =>
          // A pod on its way out: it keeps the previous program, on the same maps.
          this.options.logger.warn(
            { port: port.host_ifname, err: error },
            "could not put this agent's programs on a port",
          ),
        );
    }
    const live = new Set(ports.map((port) => port.interface_uuid));
    for (const uuid of this.attached.keys()) if (!live.has(uuid)) this.attached.delete(uuid);
    await this.converge();
  }

  private async converge(): Promise<void> {
    const { reconciler } = this.loaded();
    if (!this.view) return;
    reconciler.replaceDesired(this.view);
    reconciler.replaceBindings(new Map([...this.attached].map(([uuid, { ifindex }]) => [uuid, ifindex])));
    if (this.mode === 'xdp') await this.neighbours.resolve(reconciler.tunnelEndpoints());
    // The agent reconciles only after its first full sync with control: sweeping is safe.
    reconciler.markSynced();
    const report = reconciler.reconcile();
    for (const error of report.errors) this.options.logger.warn(error, 'control sent what the datapath cannot hold');
    if (this.deferAttach) {
      // The new maps hold everything now: the new programs can take over.
      await this.attachHost();
      for (const [uuid, port] of this.deferredPorts) {
        const host = this.attached.get(uuid);
        if (host) await this.attachPortPrograms(port, host.ifindex);
      }
      this.deferredPorts.clear();
      this.deferAttach = false;
    }
    // Nothing runs on maps of an older layout any more: they can go.
    const stale = this.datapath?.removeStalePins() ?? [];
    if (stale.length > 0) this.options.logger.info({ maps: stale }, 'unpinned maps of an older datapath version');
  }

  async counters(): Promise<DatapathCounters> {
    const { datapath } = this.loaded();
    const counters: DatapathCounters = { interfaces: {}, drops: {} };
    const add = (reason: string, value: bigint) => {
      const key = reason.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      counters.drops[key] = (counters.drops[key] ?? 0) + Number(value);
    };
    const byIfindex = new Map([...this.attached].map(([uuid, { ifindex }]) => [ifindex, uuid]));
    for (const [ifindex, stats] of datapath.maps.stats.entries()) {
      for (const reason of DROP_REASON_NAMES) add(reason, stats.drops[reason]);
      const uuid = byIfindex.get(ifindex);
      if (!uuid) continue;
      // rx: what the pod sent into the datapath; tx: what the datapath forwarded of it.
      counters.interfaces[uuid] = {
        rxPackets: Number(stats.rxPackets),
        rxBytes: Number(stats.rxBytes),
        txPackets: Number(stats.txLocal + stats.txTunnel),
        txBytes: 0,
      };
    }
    return counters;
  }

  /** The loaded datapath and this host's wiring, for introspection and probes (src/introspect, src/probe). */
  inspect(): DatapathInspection | undefined {
    if (!this.datapath) return undefined;
    return {
      hostName: this.options.hostName,
      datapath: this.datapath,
      mode: this.mode,
      bindings: new Map([...this.attached].map(([uuid, { ifindex }]) => [uuid, ifindex])),
      underlayIfindex: this.underlayIfindex,
      underlayAddress: this.options.underlayAddress,
      // The XDP underlay program takes VXLAN on the standard port only.
      tunnelPort: VXLAN_PORT,
    };
  }

  /** The sampled flow records; one reader per load of the datapath. */
  flowSamples(): FlowSampleReader | undefined {
    if (!this.datapath) return undefined;
    this.samples ??= this.datapath.flowSamples();
    return this.samples;
  }

  async stop(): Promise<void> {
    this.samples = undefined;
    this.datapath?.close();
    this.datapath = undefined;
    this.reconciler = undefined;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    const report = await cleanupHost(this.pinRoot);
    this.options.logger.info(report, 'datapath removed');
  }
}
