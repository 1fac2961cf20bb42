// One host's datapath in user space: the BPF objects loaded with their maps pinned under
// the host's pin root (shared between the objects, reused across agent restarts), and a typed
// handle on each map. Attaching programs to devices is xdp.ts's job.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errors } from '../errors.js';
import {
  aclMap,
  configMap,
  conntrackMap,
  decodeFlowSample,
  FLOW_SAMPLES_MAP,
  type FlowSample,
  floatingIpMap,
  floatingSourceMap,
  hostRoute4Map,
  hostRoute6Map,
  interfaceMap,
  type MapSpec,
  peerMap,
  prefixRoute4Map,
  prefixRoute6Map,
  probeMap,
  serviceFlowMap,
  serviceMap,
  statsMap,
  txPortMap,
  vniMap,
  vrfMap,
} from '../maps/index.js';
import { BPFFS, ensureBpffs } from './bpffs.js';
import { BpfMap } from './map.js';
import { loadNative, type NativeBpf, type NativeMap, type NativeObject, type NativeProgram } from './native.js';
import { objects } from './paths.js';
import { runTc, runXdp, type XdpTestRun, type XdpTestRunOptions } from './test-run.js';

/** Pins under a host's root that are not maps of the objects but are still ours. */
const KEPT_PINS = ['prog_weft_pass'];

export type ProgramName =
  | 'podEgress'
  | 'underlayIngress'
  | 'pass'
  | 'podEgressTc'
  | 'tunnelIngressTc'
  | 'underlayGuard'
  | 'underlayGuardTc'
  | 'underlayNatTc'
  | 'bounce';

const PROGRAM_NAMES: Record<ProgramName, string> = {
  podEgress: 'weft_pod_egress',
  underlayIngress: 'weft_underlay_ingress',
  pass: 'weft_pass',
  podEgressTc: 'weft_pod_egress_tc',
  tunnelIngressTc: 'weft_tunnel_ingress_tc',
  underlayGuard: 'weft_underlay_guard',
  underlayGuardTc: 'weft_underlay_guard_tc',
  underlayNatTc: 'weft_underlay_nat_tc',
  bounce: 'weft_bounce',
};

function typedMaps(native: NativeBpf, found: Map<string, NativeMap>, cpus: number) {
  const bind = <K, V>(spec: MapSpec<K, V>) => {
    const info = found.get(spec.name);
    if (!info) throw errors.DATAPATH_UNAVAILABLE({ reason: `the BPF objects have no map ${spec.name}` });
    return new BpfMap(native, info, spec);
  };
  return {
    config: bind(configMap),
    interfaces: bind(interfaceMap),
    vrfs: bind(vrfMap),
    vnis: bind(vniMap),
    peers: bind(peerMap),
    hostRoutes4: bind(hostRoute4Map),
    hostRoutes6: bind(hostRoute6Map),
    prefixRoutes4: bind(prefixRoute4Map),
    prefixRoutes6: bind(prefixRoute6Map),
    acls: bind(aclMap),
    conntrack: bind(conntrackMap),
    txPorts: bind(txPortMap),
    stats: bind(statsMap(cpus)),
    probe: bind(probeMap),
    floatingIps: bind(floatingIpMap),
    floatingSources: bind(floatingSourceMap),
    services: bind(serviceMap),
    serviceFlows: bind(serviceFlowMap),
  };
}

export type DatapathMaps = ReturnType<typeof typedMaps>;

/** Reads sampled flow records from the ring buffer without blocking. */
export class FlowSampleReader {
  constructor(
    private readonly native: NativeBpf,
    private readonly ring: unknown,
  ) {}

  /** The records waiting now, at most `limit` (0: all). */
  drain(limit = 0): FlowSample[] {
    return this.native.consumeRing(this.ring, limit).map(decodeFlowSample);
  }
}

export class Datapath {
  private constructor(
    readonly native: NativeBpf,
    readonly pinRoot: string,
    private readonly loaded: NativeObject[],
    readonly programs: Record<ProgramName, NativeProgram>,
    readonly maps: DatapathMaps,
    private readonly ringFd: number,
  ) {}

  /** Loads the datapath with its maps pinned under pinRoot: adopted when there, else created. */
  static open(pinRoot: string): Datapath {
    const native = loadNative();
    if (pinRoot.startsWith(`${BPFFS}/`)) ensureBpffs();
    mkdirSync(pinRoot, { recursive: true });
    const loaded: NativeObject[] = [];
    try {
      for (const path of Object.values(objects)) {
        loaded.push(native.openObject(path, pinRoot));
      }
    } catch (cause) {
      for (const object of loaded) native.closeObject(object.handle);
      throw errors.KERNEL_CALL_FAILED(
        { operation: 'load the BPF datapath', reason: (cause as Error).message },
        { cause },
      );
    }
    const programs = new Map(loaded.flatMap((object) => object.programs.map((p) => [p.name, p] as const)));
    const maps = new Map(loaded.flatMap((object) => object.maps.map((m) => [m.name, m] as const)));
    const program = (name: ProgramName) => {
      const found = programs.get(PROGRAM_NAMES[name]);
      if (!found)
        throw errors.DATAPATH_UNAVAILABLE({ reason: `the BPF objects have no program ${PROGRAM_NAMES[name]}` });
      return found;
    };
    const ring = maps.get(FLOW_SAMPLES_MAP);
    if (!ring) throw errors.DATAPATH_UNAVAILABLE({ reason: `the BPF objects have no map ${FLOW_SAMPLES_MAP}` });
    return new Datapath(
      native,
      pinRoot,
      loaded,
      {
        podEgress: program('podEgress'),
        underlayIngress: program('underlayIngress'),
        pass: program('pass'),
        podEgressTc: program('podEgressTc'),
        tunnelIngressTc: program('tunnelIngressTc'),
        underlayGuard: program('underlayGuard'),
        underlayGuardTc: program('underlayGuardTc'),
        underlayNatTc: program('underlayNatTc'),
        bounce: program('bounce'),
      },
      typedMaps(native, maps, native.possibleCpus()),
      ring.fd,
    );
  }

  /** Runs an XDP program on one packet in the kernel (BPF_PROG_TEST_RUN), against the real maps. */
  run(
    program: 'podEgress' | 'underlayIngress' | 'underlayGuard' | 'pass',
    packet: Buffer,
    options: XdpTestRunOptions = {},
  ): XdpTestRun {
    return runXdp(this.native, this.programs[program].fd, packet, options);
  }

  /** Runs a TC program on one packet in the kernel, as if it arrived on ingressIfindex. */
  runTc(
    program: 'podEgressTc' | 'tunnelIngressTc' | 'underlayGuardTc' | 'underlayNatTc',
    packet: Buffer,
    ingressIfindex: number,
  ): XdpTestRun {
    return runTc(this.native, this.programs[program].fd, packet, ingressIfindex);
  }

  flowSamples(): FlowSampleReader {
    return new FlowSampleReader(this.native, this.native.openRing(this.ringFd));
  }

  /** The names the objects' maps are pinned under (each carries its layout version). */
  mapNames(): string[] {
    return this.loaded.flatMap((object) => object.maps.map((m) => m.name));
  }

  /**
   * Unpins what this version of the datapath does not use: maps of an older layout (an older
   * versioned name) that an upgraded agent replaced. Called once the new programs are attached
   * and the new maps filled, so the old programs kept forwarding on the old maps until then.
   * Returns the names removed.
   */
  removeStalePins(): string[] {
    const current = new Set([...this.mapNames(), ...KEPT_PINS]);
    const stale = readdirSync(this.pinRoot).filter((name) => name.startsWith('weft_') && !current.has(name));
    for (const name of stale) rmSync(join(this.pinRoot, name), { force: true });
    return stale;
  }

  /** Closes this process's handles; pinned maps, and programs attached to devices, stay. */
  close(): void {
    for (const object of this.loaded) this.native.closeObject(object.handle);
    this.loaded.length = 0;
  }

  /** Removes every pin under a host's pin root: the maps go once nothing else holds them. */
  static removePins(pinRoot: string): void {
    rmSync(pinRoot, { recursive: true, force: true });
  }
}
