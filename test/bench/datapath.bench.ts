// Datapath benchmark: nanoseconds per packet for each path through the XDP programs (and, for
// floating IPs, which only TC mode translates, through the TC programs), measured
// by the kernel with BPF_PROG_TEST_RUN against the real maps of a seeded host (host-fixture.ts).
// Baseline: an XDP program that only returns XDP_PASS, run on the same packet in the same run,
// so the figure over it is what the datapath itself costs.
//
// Why many runs of one repeat rather than one run of a large repeat: the kernel runs a repeated
// test on the same buffer without restoring it, so a program that changes the packet sees its
// own output the second time (TTL runs out after 63 runs, a VXLAN packet gets encapsulated
// again, a decapsulated one is no longer VXLAN). Each run is timed in the kernel around the
// program alone (not the system call), so the mean over many runs is still the per-packet cost;
// the kernel's timer read is in every figure, the baseline's too.
// Test runs stop at the verdict: a redirect's transmit by the driver is not in these figures.
import { execFileSync, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { tempDir, waitFor } from '@weft/kit/testing';
import {
  attachXdp,
  createHostFixture,
  datapathMissing,
  detachXdp,
  GATEWAY,
  type HostFixture,
  maps,
  packets,
  REMOTE_HOST_ADDRESS,
  REMOTE_HOST_MAC,
  ROUTER_MAC,
  TcAction,
  UNDERLAY_ADDRESS,
  UNDERLAY_MAC,
  VNI,
  VRF,
} from '@weft/vrouter-agent';
import { frrMissing } from '../lab/gateway.js';
import { freeLabPorts, freeUnderlaySubnet, Lab, labUnavailable } from '../lab/lab.js';
import { createLinuxHosts, type LinuxPod } from '../lab/linux-hosts.js';
import { netnsPath } from '../lab/shell.js';
import { joinUnderlay, type LabDatapathMode, type LabUnderlayStage } from '../lab/topology.js';
import { type Endpoints, iperf3, tcpRoundTrips } from '../lab/traffic.js';

const RUNS = Number(process.env.BENCH_DATAPATH_RUNS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_DATAPATH_ROUNDS ?? 5);
/** The target for a forwarded packet with policy. */
const TARGET_NS = 150;

const { ethernet, ipv4, tcp, udp, vxlan, arp } = packets;
/** A floating IP of pod a, and a client outside the overlay. */
const FLOATING_IP = '203.0.113.10';
const OUTSIDE_CLIENT = '198.51.100.7';

function tcpFrame(dst: string, src: string, from: string, to: string, sport: number, dport: number, ttl = 64) {
  return ethernet({
    dst,
    src,
    type: packets.ETH_P_IP,
    payload: ipv4({
      src: from,
      dst: to,
      protocol: packets.IPPROTO_TCP,
      ttl,
      payload: tcp({
        src: from,
        dst: to,
        sport,
        dport,
        flags: packets.TCP_ACK,
        payload: Buffer.alloc(1000, 0x5a),
      }),
    }),
  });
}

function tunnelled(inner: Buffer) {
  return ethernet({
    dst: UNDERLAY_MAC,
    src: REMOTE_HOST_MAC,
    type: packets.ETH_P_IP,
    payload: ipv4({
      src: REMOTE_HOST_ADDRESS,
      dst: UNDERLAY_ADDRESS,
      protocol: packets.IPPROTO_UDP,
      df: true,
      payload: udp({
        src: REMOTE_HOST_ADDRESS,
        dst: UNDERLAY_ADDRESS,
        sport: 50000,
        dport: 4789,
        checksum: false,
        payload: vxlan({ vni: VNI, frame: inner }),
      }),
    }),
  });
}

interface Case {
  path: string;
  program: 'podEgress' | 'underlayIngress' | 'podEgressTc' | 'underlayGuardTc';
  packet: Buffer;
  ingress: number;
  verdict: number;
  /** Sets the maps up for this case; runs before its measurement. */
  setup?: () => void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Median over rounds of the mean kernel-timed nanoseconds per run. */
function measure(host: HostFixture, program: Case['program'] | 'pass', c: Case): number {
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let total = 0;
    for (let i = 0; i < RUNS; i++) {
      const run =
        program === 'podEgressTc' || program === 'underlayGuardTc'
          ? host.datapath.runTc(program, c.packet, c.ingress)
          : host.datapath.run(program, c.packet, { ingressIfindex: c.ingress });
      if (program !== 'pass' && run.verdict !== c.verdict) {
        throw new Error(`${c.path}: verdict ${run.verdict}, expected ${c.verdict}`);
      }
      total += run.durationNs;
    }
    rounds.push(total / RUNS);
  }
  return Math.round(median(rounds));
}

/** A policy of `rules` rules the flow walks past before the one that lets it through. */
function policy(rules: number): maps.AclEntry {
  const deny = Array.from({ length: rules - 1 }, (_, i) => ({
    protocol: packets.IPPROTO_UDP,
    destinationPorts: [1000 + i, 1000 + i] as [number, number],
    action: 'deny' as const,
  }));
  return { defaultAction: 'deny', rules: [...deny, { destination: { prefix: '10.1.0.0/16' }, action: 'pass' }] };
}

function main() {
  const missing = datapathMissing();
  if (missing) {
    process.stdout.write(`datapath benchmark skipped: ${missing}\n`);
    return;
  }
  const host = createHostFixture();
  try {
    const { a, b, c } = host;
    const m = host.datapath.maps;
    const withPolicy = () => {
      m.acls.update([
        [1, policy(8)],
        [2, policy(8)],
      ]);
      m.vrfs.set(VRF, { vni: VNI, aclId: 1, gateway4: GATEWAY });
      m.interfaces.set(a.ifindex, { vrfId: VRF, aclId: 2, mtu: 1450, mac: a.mac, portSecurity: true });
      m.interfaces.set(b.ifindex, { vrfId: VRF, aclId: 2, mtu: 1450, mac: b.mac, portSecurity: true });
    };
    const cases: Case[] = [
      {
        path: 'local delivery, no policy',
        program: 'podEgress',
        packet: tcpFrame(ROUTER_MAC, a.mac, a.ip, b.ip, 40000, 80),
        ingress: a.ifindex,
        verdict: maps.XdpAction.redirect,
      },
      {
        path: 'encapsulation (VXLAN), no policy',
        program: 'podEgress',
        packet: tcpFrame(ROUTER_MAC, a.mac, a.ip, c.ip, 40001, 80),
        ingress: a.ifindex,
        verdict: maps.XdpAction.redirect,
      },
      {
        path: 'decapsulation, no policy',
        program: 'underlayIngress',
        packet: tunnelled(tcpFrame(ROUTER_MAC, c.mac, c.ip, a.ip, 80, 40001, 63)),
        ingress: host.underlay.ifindex,
        verdict: maps.XdpAction.redirect,
      },
      {
        path: 'local delivery, network policy + 2 security groups (established flow)',
        program: 'podEgress',
        packet: tcpFrame(ROUTER_MAC, a.mac, a.ip, b.ip, 40002, 80),
        ingress: a.ifindex,
        verdict: maps.XdpAction.redirect,
        setup: withPolicy,
      },
      {
        path: 'encapsulation, network policy + security group (established flow)',
        program: 'podEgress',
        packet: tcpFrame(ROUTER_MAC, a.mac, a.ip, c.ip, 40003, 80),
        ingress: a.ifindex,
        verdict: maps.XdpAction.redirect,
      },
      {
        path: 'decapsulation, network policy + security group (established flow)',
        program: 'underlayIngress',
        packet: tunnelled(tcpFrame(ROUTER_MAC, c.mac, c.ip, a.ip, 80, 40003, 63)),
        ingress: host.underlay.ifindex,
        verdict: maps.XdpAction.redirect,
      },
      {
        path: 'policy deny: 8 rules walked in 3 ACLs on every packet',
        program: 'podEgress',
        packet: tcpFrame(ROUTER_MAC, a.mac, a.ip, '10.1.0.3', 40004, 22),
        ingress: a.ifindex,
        verdict: maps.XdpAction.drop,
        setup: () => {
          m.acls.set(2, { ...policy(8), rules: policy(8).rules.slice(0, 7) });
        },
      },
      {
        path: 'gateway ARP reply',
        program: 'podEgress',
        packet: ethernet({
          dst: 'ff:ff:ff:ff:ff:ff',
          src: a.mac,
          type: packets.ETH_P_ARP,
          payload: arp({ op: 1, senderMac: a.mac, senderIp: a.ip, targetMac: '00:00:00:00:00:00', targetIp: GATEWAY }),
        }),
        ingress: a.ifindex,
        verdict: maps.XdpAction.tx,
      },
      {
        path: 'underlay traffic that is not Weft’s (passed)',
        program: 'underlayIngress',
        packet: tcpFrame(UNDERLAY_MAC, REMOTE_HOST_MAC, REMOTE_HOST_ADDRESS, UNDERLAY_ADDRESS, 5555, 22),
        ingress: host.underlay.ifindex,
        verdict: maps.XdpAction.pass,
      },
      // Floating IPs (bpf/lib/nat.h): TC programs, with TC local delivery beside them to show what
      // the translation adds to forwarding on the same hook.
      {
        path: 'TC: local delivery, network policy + 2 security groups (established flow)',
        program: 'podEgressTc',
        packet: tcpFrame(ROUTER_MAC, a.mac, a.ip, b.ip, 40005, 80),
        ingress: a.ifindex,
        verdict: TcAction.redirect,
        setup: () => {
          withPolicy();
          m.floatingIps.set(FLOATING_IP, { fixedAddress: a.ip, ifindex: a.ifindex, vrfId: VRF });
          m.floatingSources.set({ vrfId: VRF, address: a.ip }, FLOATING_IP);
        },
      },
      {
        path: 'TC: floating IP, outside → pod, destination NAT, network policy + security group (established flow)',
        program: 'underlayGuardTc',
        packet: tcpFrame(UNDERLAY_MAC, REMOTE_HOST_MAC, OUTSIDE_CLIENT, FLOATING_IP, 50000, 80),
        ingress: host.underlay.ifindex,
        verdict: TcAction.redirect,
      },
      {
        path: 'TC: floating IP, pod → outside, source NAT (established flow)',
        program: 'podEgressTc',
        packet: tcpFrame(ROUTER_MAC, a.mac, a.ip, OUTSIDE_CLIENT, 80, 50000),
        ingress: a.ifindex,
        verdict: TcAction.redirect,
      },
    ];

    const rows: string[] = [];
    let policyForwardNs = 0;
    for (const c of cases) {
      c.setup?.();
      const baseline = measure(host, 'pass', c);
      const ns = measure(host, c.program, c);
      if (c.path.startsWith('local delivery, network policy')) policyForwardNs = ns;
      rows.push(`| ${c.path} | ${ns} | ${baseline} | ${(ns / Math.max(baseline, 1)).toFixed(1)}× | ${ns - baseline} |`);
    }
    const out = [
      `BPF_PROG_TEST_RUN, mean of ${RUNS.toLocaleString('en')} kernel-timed runs per round, median of ${ROUNDS} rounds; 1054-byte TCP packets.`,
      '',
      '| path | ns/packet | XDP_PASS baseline ns | ratio | datapath cost ns |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      `Forwarded packet with policy: ${policyForwardNs} ns (target < ${TARGET_NS} ns): ${policyForwardNs < TARGET_NS ? 'met' : 'NOT met'}.`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    host.dispose();
  }
}

// ── Pods as users get them: throughput and latency against Linux in the same shapes ────────
// A lab (test/lab) of four hosts, two in each datapath mode, builds every Weft pod through REST
// and weft-cni exactly as users get them; two Linux hosts join the same underlay bridge, with
// pods behind veth pairs routed by the kernel (one host) and a Linux VXLAN device with routes
// (across hosts). Every pod has the MTU weft-cni gives (underlay 1500 less the VXLAN header).
// Rounds alternate the contenders, in a rotating order, so a busy moment of the shared machine
// hits all alike; each figure is the median over the rounds.

const SECONDS = Number(process.env.BENCH_DATAPATH_SECONDS ?? 3);
const ROUNDS_TRAFFIC = Number(process.env.BENCH_DATAPATH_TRAFFIC_ROUNDS ?? 5);
const POD_MTU = 1450;

/** Weft's contenders: a pair of lab hosts each, in one datapath configuration. */
const WEFT: Array<{ key: string; label: string; mode: LabDatapathMode; underlayStage?: LabUnderlayStage }> = [
  // As deployed: the lab's underlay is a veth, so the first stage runs at TC ingress.
  { key: 'tc', label: 'Weft TC', mode: 'tc' },
  { key: 'tcx', label: 'Weft TC, first stage in XDP on the veth', mode: 'tc', underlayStage: 'xdp' },
  { key: 'tcg', label: 'Weft TC, first stage in generic XDP', mode: 'tc', underlayStage: 'xdp-generic' },
  { key: 'tcoff', label: 'Weft TC, no first stage', mode: 'tc', underlayStage: 'off' },
  { key: 'xdp', label: 'Weft XDP', mode: 'xdp' },
];
const chosen = (process.env.BENCH_DATAPATH_WEFT ?? 'tc,xdp').split(',');
const weftContenders = WEFT.filter((item) => chosen.includes(item.key));

interface Sample {
  gbit1: number;
  gbit4: number;
  cpuPerGbit: number;
  p50: number;
  p99: number;
}

function load(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');
}

async function measureOnce(endpoints: Endpoints): Promise<Sample> {
  const one = await iperf3(endpoints, { seconds: SECONDS });
  const four = await iperf3(endpoints, { seconds: SECONDS, streams: 4 });
  const latency = await tcpRoundTrips(endpoints, { seconds: SECONDS });
  return {
    gbit1: one.gbitPerSecond,
    gbit4: four.gbitPerSecond,
    cpuPerGbit: (one.clientCpuPercent + one.serverCpuPercent) / one.gbitPerSecond,
    p50: latency.p50Us,
    p99: latency.p99Us,
  };
}

const MEASURES: Array<{ key: keyof Sample; label: string; digits: number }> = [
  { key: 'gbit1', label: 'TCP, 1 stream, Gbit/s', digits: 2 },
  { key: 'gbit4', label: 'TCP, 4 streams, Gbit/s', digits: 2 },
  { key: 'p50', label: 'TCP request/response latency p50, µs', digits: 1 },
  { key: 'p99', label: 'TCP request/response latency p99, µs', digits: 1 },
  { key: 'cpuPerGbit', label: 'CPU per Gbit/s (1 stream), % of a core', digits: 1 },
];

function range(values: number[], digits: number): string {
  return `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
}

async function podsAsUsersGetThem(): Promise<string[]> {
  const missingTool = ['iperf3', 'sockperf', 'nsenter', 'ethtool'].find(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
  );
  if (missingTool) return [`Pod throughput skipped: ${missingTool} is not installed.`];
  const unavailable = labUnavailable();
  if (unavailable) return [`Pod throughput skipped: ${unavailable}.`];
  const dir = tempDir('weft-bench-datapath-');
  const ports = await freeLabPorts();
  const loadBefore = load();
  // Two hosts per Weft contender: h1 and h2 for the first, h3 and h4 for the next…
  const lab = await Lab.up({
    name: `wfb${process.pid % 100_000}`,
    hosts: 2 * weftContenders.length,
    modes: weftContenders.flatMap((item) => [item.mode, item.mode]),
    underlayStage: weftContenders.flatMap((item) => [item.underlayStage, item.underlayStage]),
    subnet: freeUnderlaySubnet(20 + ((process.pid + 50) % 200)),
    dir: dir.path,
    ports,
  });
  try {
    await lab.config.createNetwork('bench', '10.31.0.0/24');
    for (const [index, item] of weftContenders.entries()) {
      const [first, second] = [`h${2 * index + 1}`, `h${2 * index + 2}`];
      await lab.addPod(`${item.key}-a`, first, ['bench']);
      await lab.addPod(`${item.key}-b`, first, ['bench']);
      await lab.addPod(`${item.key}-c`, second, ['bench']);
    }
    const linux = createLinuxHosts(lab.topology, POD_MTU);
    const netnsOf = (pod: string) => lab.pods.find((item) => item.name === pod)!.netns;
    const weft = (client: string, server: string): Endpoints => ({
      clientNs: netnsOf(client),
      serverNs: netnsOf(server),
      serverAddress: lab.podAddress(server, 'bench'),
    });
    const contenders = ['linux', ...weftContenders.map((item) => item.key)];
    const labels = ['Linux', ...weftContenders.map((item) => item.label)];
    const linuxPair = ([client, server]: [LinuxPod, LinuxPod]): Endpoints => ({
      clientNs: client.netns,
      serverNs: server.netns,
      serverAddress: server.address,
    });
    const shape = (path: string, baseline: string, linuxPods: [LinuxPod, LinuxPod], serverPod: string) => ({
      path,
      baseline,
      endpoints: {
        linux: linuxPair(linuxPods),
        ...Object.fromEntries(
          weftContenders.map((item) => [item.key, weft(`${item.key}-a`, `${item.key}-${serverPod}`)]),
        ),
      } as Record<string, Endpoints>,
    });
    const shapes = [
      shape('pod to pod, one host', 'Linux routing between namespaces', linux.oneHost, 'b'),
      shape('pod to pod, across hosts', 'a Linux VXLAN device with routes', linux.acrossHosts, 'c'),
    ];
    for (const shape of shapes) {
      for (const contender of contenders) {
        const { clientNs, serverAddress } = shape.endpoints[contender]!;
        await waitFor(() => pings(clientNs, serverAddress), {
          timeoutMs: 20_000,
          intervalMs: 200,
          what: `${clientNs} to reach ${serverAddress}`,
        });
      }
    }
    const lines: string[] = [];
    for (const shape of shapes) {
      const samples: Record<string, Sample[]> = Object.fromEntries(contenders.map((key) => [key, []]));
      for (let round = 0; round < ROUNDS_TRAFFIC; round++) {
        const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!);
        for (const contender of order) samples[contender]!.push(await measureOnce(shape.endpoints[contender]!));
      }
      lines.push(
        '',
        `**${shape.path}** (baseline: ${shape.baseline}); each Weft figure is followed by its ratio to Linux`,
        '',
        `| measure | ${labels.join(' | ')} | Linux, ${labels[1]} over the rounds |`,
        `| --- | ${labels.map(() => '---:').join(' | ')} | --- |`,
      );
      for (const { key, label, digits } of MEASURES) {
        const values = (contender: string) => samples[contender]!.map((sample) => sample[key]);
        const [base, ...rest] = contenders.map((contender) => median(values(contender)));
        const cells = rest.map((value) => `${value.toFixed(digits)} (${(value / base!).toFixed(2)}×)`);
        lines.push(
          `| ${label} | ${base!.toFixed(digits)} | ${cells.join(' | ')} | ${range(values('linux'), digits)}; ${range(values(contenders[1]!), digits)} |`,
        );
      }
    }
    return [
      `Pods built by weft-cni in a lab of ${2 * weftContenders.length} hosts (two per Weft configuration) against 2 Linux hosts on the same underlay bridge; iperf3 and sockperf (64-byte ping-pong), ${SECONDS} s per run, median of ${ROUNDS_TRAFFIC} rounds in rotating order; pod MTU ${POD_MTU}.`,
      `Load average (1, 5, 15 min) before: ${loadBefore}; after: ${load()}. Latency as sockperf reports it (half the round trip); CPU: iperf3's client plus server process CPU, in % of one core, per Gbit/s.`,
      ...lines,
    ];
  } finally {
    await lab.down();
    dir.remove();
  }
}

// ── A flood of denied packets from another host: where it is dropped ───────────────────────
// The same deny — VXLAN from a known peer, for a known VNI, to a pod of this host, of a TCP flow
// (port 22) that the network policy denies — dropped at three places on the receiving host's
// underlay device: Weft's XDP first stage in native mode (before the kernel builds an skb), the
// same program at TC ingress (after it did), and an nftables rule on the netdev ingress hook
// (Linux's earliest firewall hook) matching the same fields. The flood comes from the other end
// of the veth: weft_bounce run by BPF_PROG_TEST_RUN in live-frames mode sends copies of one
// frame as fast as a core can. Rate: packets the filter dropped per second of the flood; the
// rest were lost on the way in (the veth's ring full) because the receiver did not keep up.

const FLOOD_FRAMES = Number(process.env.BENCH_DATAPATH_FLOOD_FRAMES ?? 2_000_000);
const FLOOD_ROUNDS = Number(process.env.BENCH_DATAPATH_FLOOD_ROUNDS ?? 3);

type Dropper = 'xdp' | 'tc' | 'nftables';

function deniedFlood(host: HostFixture): Buffer {
  return tunnelled(tcpFrame(ROUTER_MAC, host.c.mac, host.c.ip, host.a.ip, 41000, 22, 63));
}

function nft(script: string): void {
  execFileSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
}

async function dropRates(): Promise<string[]> {
  if (spawnSync('sh', ['-c', 'command -v nft'], { stdio: 'ignore' }).status !== 0)
    return ['Drop rates skipped: nft (nftables) is not installed.'];
  const host = createHostFixture();
  const table = `weft_bench_${process.pid}`;
  const device = host.underlay.name;
  try {
    const m = host.datapath.maps;
    m.acls.set(10, {
      defaultAction: 'pass',
      rules: [{ protocol: packets.IPPROTO_TCP, destinationPorts: [22, 22], action: 'deny' }],
    });
    m.vrfs.set(VRF, { vni: VNI, aclId: 10, gateway4: GATEWAY });
    const frame = deniedFlood(host);
    const verdict = host.datapath.run('underlayGuard', frame, { ingressIfindex: host.underlay.ifindex }).verdict;
    if (verdict !== maps.XdpAction.drop)
      throw new Error(`the flood is not denied by the first stage (verdict ${verdict})`);
    // A veth hands frames sent with XDP_TX only to a peer in NAPI mode: an XDP program or GRO.
    execFileSync('ethtool', ['-K', device, 'gro', 'on']);
    const policyDrops = () => m.stats.get(host.underlay.ifindex)!.drops.policy;
    const nftDrops = () => {
      const listed = JSON.parse(
        execFileSync('nft', ['-j', 'list', 'table', 'netdev', table], { encoding: 'utf8' }),
      ) as {
        nftables: Array<{ rule?: { expr: Array<{ counter?: { packets: number } }> } }>;
      };
      return (
        listed.nftables.flatMap((item) => item.rule?.expr ?? []).find((expr) => expr.counter)?.counter?.packets ?? 0
      );
    };
    const droppers: Record<
      Dropper,
      { label: string; on: () => Promise<void>; off: () => Promise<void>; count: () => number | bigint }
    > = {
      xdp: {
        label: 'Weft XDP first stage (native)',
        on: () => attachXdp(host.underlay.ifindex, host.datapath.programs.underlayGuard.fd, 'native'),
        off: () => detachXdp(host.underlay.ifindex, 'native'),
        count: policyDrops,
      },
      tc: {
        label: 'the same program at TC ingress',
        on: async () => host.datapath.native.tcAttach(host.underlay.ifindex, host.datapath.programs.underlayGuardTc.fd),
        off: async () => host.datapath.native.tcDetach(host.underlay.ifindex),
        count: policyDrops,
      },
      nftables: {
        label: 'nftables, netdev ingress hook',
        // Option-less outer IPv4 and inner IPv4, as the first stage assumes: the inner TCP
        // destination port is 52 bytes into the outer UDP header (UDP 8, VXLAN 8, Ethernet 14, IPv4 20, source port 2).
        on: async () =>
          nft(`table netdev ${table} {
  chain ingress {
    type filter hook ingress device "${device}" priority 0;
    ip saddr ${REMOTE_HOST_ADDRESS} ip daddr ${UNDERLAY_ADDRESS} udp dport 4789 @th,416,16 22 counter drop
  }
}`),
        off: async () => nft(`delete table netdev ${table}`),
        count: nftDrops,
      },
    };
    const order: Dropper[] = ['xdp', 'tc', 'nftables'];
    const rates: Record<Dropper, number[]> = { xdp: [], tc: [], nftables: [] };
    const shares: Record<Dropper, number[]> = { xdp: [], tc: [], nftables: [] };
    for (let round = 0; round < FLOOD_ROUNDS; round++) {
      for (const key of order.map((_, i) => order[(i + round) % order.length]!)) {
        const dropper = droppers[key];
        await dropper.on();
        try {
          const before = Number(dropper.count());
          const started = process.hrtime.bigint();
          host.datapath.native.sendFrames(
            host.datapath.programs.bounce.fd,
            frame,
            FLOOD_FRAMES,
            host.underlay.peerIfindex,
          );
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          // The receiver may finish its queue just after the sender returns.
          let dropped = Number(dropper.count()) - before;
          await waitFor(
            () => {
              const now = Number(dropper.count()) - before;
              const settled = now === dropped;
              dropped = now;
              return settled;
            },
            { timeoutMs: 5_000, intervalMs: 50, what: 'the drop counter to settle' },
          );
          rates[key].push(dropped / seconds);
          shares[key].push(dropped / FLOOD_FRAMES);
        } finally {
          await dropper.off();
        }
      }
    }
    const base = median(rates.nftables);
    const rows = order.map((key) => {
      const rate = median(rates[key]);
      return `| ${droppers[key].label} | ${(rate / 1e6).toFixed(2)} | ${(rate / base).toFixed(2)}× | ${(median(shares[key]) * 100).toFixed(0)} % |`;
    });
    return [
      `Denied-flood drop rate: ${FLOOD_FRAMES.toLocaleString('en')} VXLAN frames (${frame.length} bytes) of a flow the network policy denies, sent by BPF_PROG_TEST_RUN live frames into the underlay veth, median of ${FLOOD_ROUNDS} rounds in rotating order; load average ${load()}.`,
      '',
      '| dropped by | million packets/s | ratio to nftables | share of the flood the filter saw |',
      '| --- | ---: | ---: | ---: |',
      ...rows,
    ];
  } finally {
    spawnSync('nft', ['delete', 'table', 'netdev', table], { stdio: 'ignore' });
    host.dispose();
  }
}

function pings(netns: string, address: string): boolean {
  return (
    spawnSync('nsenter', [`--net=${netnsPath(netns)}`, 'ping', '-c', '1', '-W', '1', address], { stdio: 'ignore' })
      .status === 0
  );
}

// ── Floating IPs: the outside to a pod by its floating IP, against Linux DNAT ─────────────────
// A lab with a gateway (FRR, BGP with control): a client in the outside namespace sends to a
// pod by its floating IP, which the gateway routes (learnt over BGP) to the Weft host, whose TC
// program translates it; beside it, a Linux host on the same underlay with a pod behind a veth
// and an nftables DNAT rule for an address the gateway routes to it (a static route). The
// client, the gateway and the underlay are the same for both; only the host differs.

async function floatingIps(): Promise<string[]> {
  const unavailable = labUnavailable();
  if (unavailable) return [`Floating-IP throughput skipped: ${unavailable}.`];
  if (frrMissing()) return [`Floating-IP throughput skipped: ${frrMissing()}.`];
  const dir = tempDir('weft-bench-fip-');
  const ports = await freeLabPorts();
  const loadBefore = load();
  const lab = await Lab.up({
    name: `wfn${process.pid % 10_000}`,
    hosts: 1,
    subnet: freeUnderlaySubnet(20 + ((process.pid + 70) % 200)),
    dir: dir.path,
    ports,
    gateway: true,
  });
  try {
    const gateway = lab.topology.gateway!;
    await lab.config.createNetwork('bench', '10.32.0.0/24');
    const { pool } = await lab.config.createFloatingIpPool('public', '203.0.113.0/24');
    const pod = await lab.addPod('fip', 'h1', ['bench']);
    await lab.config.createFloatingIp(pool, 'fip', pod.config!.interfaces[0], '203.0.113.10');
    // The Linux host: a pod behind a veth, DNAT from 203.0.113.99 by nftables.
    const subnet = lab.topology.controllerAddress.split('.').slice(0, 3).join('.');
    const host = `${lab.topology.lab}-lxn`;
    const linuxPod = `${lab.topology.lab}-lxnp`;
    execFileSync('ip', ['netns', 'add', host]);
    joinUnderlay(lab.topology, host, 'lxn', 'ul0', `${subnet}.21`);
    const run = (netns: string, command: string, args: string[]) =>
      execFileSync('nsenter', [`--net=${netnsPath(netns)}`, command, ...args]);
    run(host, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    run(host, 'ip', ['route', 'add', 'default', 'via', gateway.underlayAddress]);
    execFileSync('ip', ['netns', 'add', linuxPod]);
    execFileSync('ip', [
      '-n',
      host,
      'link',
      'add',
      'lxnp',
      'mtu',
      String(POD_MTU),
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      linuxPod,
    ]);
    run(host, 'ip', ['addr', 'add', '10.9.1.1/24', 'dev', 'lxnp']);
    run(host, 'ip', ['link', 'set', 'lxnp', 'up']);
    run(linuxPod, 'ip', ['link', 'set', 'eth0', 'mtu', String(POD_MTU), 'up']);
    run(linuxPod, 'ip', ['link', 'set', 'lo', 'up']);
    run(linuxPod, 'ip', ['addr', 'add', '10.9.1.2/24', 'dev', 'eth0']);
    run(linuxPod, 'ip', ['route', 'add', 'default', 'via', '10.9.1.1']);
    const nat = [
      'table ip bench {',
      '  chain prerouting {',
      '    type nat hook prerouting priority -100;',
      '    ip daddr 203.0.113.99 dnat to 10.9.1.2',
      '  }',
      '}',
      '',
    ].join('\n');
    execFileSync('nsenter', [`--net=${netnsPath(host)}`, 'nft', '-f', '-'], { input: nat });
    run(gateway.netns, 'ip', ['route', 'add', '203.0.113.99/32', 'via', `${subnet}.21`]);

    const endpoints: Record<string, Endpoints> = {
      linux: {
        clientNs: gateway.outsideNetns,
        serverNs: linuxPod,
        serverAddress: '10.9.1.2',
        connectAddress: '203.0.113.99',
      },
      weft: {
        clientNs: gateway.outsideNetns,
        serverNs: pod.netns,
        serverAddress: lab.podAddress('fip', 'bench'),
        connectAddress: '203.0.113.10',
      },
    };
    for (const address of ['203.0.113.99', '203.0.113.10']) {
      await waitFor(() => pings(gateway.outsideNetns, address), {
        timeoutMs: 90_000,
        intervalMs: 500,
        what: `the outside to reach ${address}`,
      });
    }
    const samples: Record<string, { gbit1: number[]; gbit4: number[] }> = {
      linux: { gbit1: [], gbit4: [] },
      weft: { gbit1: [], gbit4: [] },
    };
    for (let round = 0; round < ROUNDS_TRAFFIC; round++) {
      for (const contender of round % 2 ? ['weft', 'linux'] : ['linux', 'weft']) {
        samples[contender]!.gbit1.push((await iperf3(endpoints[contender]!, { seconds: SECONDS })).gbitPerSecond);
        samples[contender]!.gbit4.push(
          (await iperf3(endpoints[contender]!, { seconds: SECONDS, streams: 4 })).gbitPerSecond,
        );
      }
    }
    const row = (label: string, key: 'gbit1' | 'gbit4') => {
      const linux = median(samples.linux![key]);
      const weft = median(samples.weft![key]);
      return `| ${label} | ${linux.toFixed(2)} | ${weft.toFixed(2)} (${(weft / linux).toFixed(2)}×) | ${range(samples.linux![key], 2)}; ${range(samples.weft![key], 2)} |`;
    };
    return [
      `The outside to a pod by its floating IP, through the lab's gateway (FRR): Weft TC (BGP-learnt /32, translated by the TC program on the host's underlay) against Linux (a static route, nftables DNAT on the host); iperf3, ${SECONDS} s per run, median of ${ROUNDS_TRAFFIC} rounds in alternating order; pod MTU ${POD_MTU}.`,
      `Load average (1, 5, 15 min) before: ${loadBefore}; after: ${load()}.`,
      '',
      '| measure | Linux DNAT (nftables) | Weft floating IP | Linux, Weft over the rounds |',
      '| --- | ---: | ---: | --- |',
      row('TCP outside → pod, 1 stream, Gbit/s', 'gbit1'),
      row('TCP outside → pod, 4 streams, Gbit/s', 'gbit4'),
    ];
  } finally {
    await lab.down();
    dir.remove();
  }
}

/** Which parts run: packets (BPF_PROG_TEST_RUN), drops (the flood), pods (the lab), floating (the gateway lab); all by default. */
const PARTS = (process.env.BENCH_DATAPATH_PARTS ?? 'packets,drops,pods,floating').split(',');

async function run() {
  if (PARTS.includes('packets')) main();
  if (datapathMissing()) return;
  if (PARTS.includes('drops')) process.stdout.write(`\n${(await dropRates()).join('\n')}\n`);
  if (PARTS.includes('pods')) process.stdout.write(`\n${(await podsAsUsersGetThem()).join('\n')}\n`);
  if (PARTS.includes('floating')) process.stdout.write(`\n${(await floatingIps()).join('\n')}\n`);
}

await run();
