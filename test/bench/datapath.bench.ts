// Datapath benchmark: nanoseconds per packet for each path through the XDP programs, measured
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
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitFor } from '@weft/kit/testing';
import {
  createHostFixture,
  datapathMissing,
  GATEWAY,
  type HostFixture,
  type LabHostSpec,
  labHostScript,
  maps,
  packets,
  REMOTE_HOST_ADDRESS,
  REMOTE_HOST_MAC,
  ROUTER_MAC,
  UNDERLAY_ADDRESS,
  UNDERLAY_MAC,
  VNI,
  VRF,
} from '@weft/vrouter-agent';

const RUNS = Number(process.env.BENCH_DATAPATH_RUNS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_DATAPATH_ROUNDS ?? 5);
/** The target for a forwarded packet with policy. */
const TARGET_NS = 150;

const { ethernet, ipv4, tcp, udp, vxlan, arp } = packets;

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
  program: 'podEgress' | 'underlayIngress';
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
function measure(host: HostFixture, program: 'podEgress' | 'underlayIngress' | 'pass', c: Case): number {
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let total = 0;
    for (let i = 0; i < RUNS; i++) {
      const run = host.datapath.run(program, c.packet, { ingressIfindex: c.ingress });
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

// ── Throughput: iperf3 between pods, against Linux in the same shapes ──────────────────────
// One host: the XDP datapath between two pods, against Linux routing between two namespaces
// through a router namespace. Across hosts: the XDP datapath's VXLAN, against a Linux VXLAN
// device with routes. Pods get MTU 1450 in every case (room for VXLAN). Weft's pods run with
// TX checksum offload off (a redirected packet's partial checksum is never completed), which
// also turns off TSO; Linux keeps its defaults, as it would be deployed.

const IPERF_SECONDS = Number(process.env.BENCH_DATAPATH_IPERF_SECONDS ?? 3);
const IPERF_ROUNDS = Number(process.env.BENCH_DATAPATH_IPERF_ROUNDS ?? 3);
const tag = `wb${process.pid.toString(36)}`;
const namespaces: string[] = [];
const pinRoots: Array<[string, string]> = [];

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function inNs(netns: string, ...command: string[]): void {
  execFileSync('ip', ['netns', 'exec', netns, ...command], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function netns(name: string): string {
  const full = `${tag}${name}`;
  ip('netns', 'add', full);
  namespaces.push(full);
  ip('-n', full, 'link', 'set', 'lo', 'up');
  return full;
}

/** A veth pair with one end in each namespace; the pod end becomes eth0 with the address. */
function podLink(pod: string, host: string, hostEnd: string, address: string, gateway: string, mac: string): void {
  const name = `${tag}${hostEnd}`;
  ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`);
  ip('link', 'set', name, 'netns', host);
  ip('link', 'set', `${name}p`, 'netns', pod);
  ip('-n', host, 'link', 'set', name, 'up');
  ip('-n', pod, 'link', 'set', `${name}p`, 'name', 'eth0');
  ip('-n', pod, 'link', 'set', 'eth0', 'address', mac, 'mtu', '1450', 'up');
  ip('-n', pod, 'addr', 'add', address, 'dev', 'eth0');
  ip('-n', pod, 'route', 'add', 'default', 'via', gateway);
}

function underlayLink(a: string, b: string, addressA: string, addressB: string): [string, string] {
  const [nameA, nameB] = [`${tag}u${namespaces.length}a`, `${tag}u${namespaces.length}b`];
  ip('link', 'add', nameA, 'type', 'veth', 'peer', 'name', nameB);
  ip('link', 'set', nameA, 'netns', a);
  ip('link', 'set', nameB, 'netns', b);
  ip('-n', a, 'addr', 'add', addressA, 'dev', nameA);
  ip('-n', b, 'addr', 'add', addressB, 'dev', nameB);
  ip('-n', a, 'link', 'set', nameA, 'up');
  ip('-n', b, 'link', 'set', nameB, 'up');
  return [nameA, nameB];
}

/** Programs a Weft host from inside its namespace, as its agent would. */
function programWeftHost(host: string, spec: LabHostSpec, dir: string): void {
  const file = join(dir, `${host}.json`);
  writeFileSync(file, JSON.stringify(spec));
  execFileSync('nsenter', [`--net=/var/run/netns/${host}`, process.execPath, labHostScript, 'program', file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  pinRoots.push([host, spec.pinRoot]);
}

const RI = 'default-domain:bench:vn:vn';

function weftInterface(uuid: string, mac: string, address: string) {
  return {
    uuid,
    virtual_machine_uuid: `vm-${uuid}`,
    virtual_machine_name: `bench/${uuid}`,
    routing_instance: RI,
    mac,
    addresses: [address],
    gateways: ['10.8.0.1'],
    dns_servers: [],
    name: 'eth0',
    order: 0,
    mtu: 1450,
    acl_name: '',
    port_security_enabled: false,
  };
}

function weftSpec(
  pinRoot: string,
  underlay: string,
  address: string,
  pods: Array<[string, string, string]>,
  remote: Array<[string, string, string]>,
): LabHostSpec {
  const routes: Record<string, NonNullable<LabHostSpec['routes'][string][string]>> = {};
  for (const [uuid, , ip4] of pods) routes[`${ip4}/32`] = { kind: 'interface_uuid', interface_uuid: uuid };
  for (const [underlayAddress, mac, ip4] of remote) {
    routes[`${ip4}/32`] = { kind: 'tunnel', tunnel: { underlay_address: underlayAddress, vni: 800, mac } };
  }
  return {
    pinRoot,
    underlayDevice: underlay,
    underlayAddress: address,
    ports: pods.map(([uuid, hostEnd, ip4]) => ({
      container_id: uuid,
      ifname: 'eth0',
      interface_uuid: uuid,
      host_ifname: `${tag}${hostEnd}`,
      netns: `/var/run/netns/${tag}${uuid}`,
      mac: macOf(ip4),
      addresses: [`${ip4}/24`],
    })),
    routingInstances: [
      { name: RI, virtual_network_uuid: 'vn', vrf_id: 80, vni: 800, route_targets: [], acl_name: '', mtu: 0 },
    ],
    interfaces: pods.map(([uuid, , ip4]) => weftInterface(uuid, macOf(ip4), `${ip4}/24`)),
    acls: [],
    routes: { [RI]: routes },
  };
}

function macOf(ip4: string): string {
  const last = Number(ip4.split('.').pop());
  return `02:00:0a:08:00:${last.toString(16).padStart(2, '0')}`;
}

/** TCP throughput from one pod to another, in Gbit/s. */
async function iperf(pods: readonly [string, string, string]): Promise<number> {
  const [clientNs, serverNs, serverIp] = pods;
  const server = spawn('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-B', serverIp], { stdio: 'ignore' });
  try {
    await waitFor(
      () =>
        spawnSync('ip', ['netns', 'exec', serverNs, 'ss', '-ltn'], { encoding: 'utf8' }).stdout.includes(
          `${serverIp}:5201`,
        ),
      { what: 'iperf3 server', timeoutMs: 10_000 },
    );
    const client = spawnSync(
      'ip',
      ['netns', 'exec', clientNs, 'iperf3', '-c', serverIp, '-t', String(IPERF_SECONDS), '-J'],
      {
        encoding: 'utf8',
        timeout: (IPERF_SECONDS + 20) * 1000,
      },
    );
    if (client.status !== 0)
      throw new Error(`iperf3 ${clientNs} → ${serverIp} failed: ${client.stdout}${client.stderr}`);
    const report = JSON.parse(client.stdout) as { end: { sum_received: { bits_per_second: number } } };
    return report.end.sum_received.bits_per_second / 1e9;
  } finally {
    server.kill();
  }
}

/** Weft's two shapes in one mode: two pods on one host, and one pod on each of two hosts. */
function weftTopologies(mode: 'xdp' | 'tc', dir: string) {
  const m = mode === 'xdp' ? 'x' : 't';
  const host = netns(`w${m}`);
  const [pa, pb] = [netns(`${m}pa`), netns(`${m}pb`)];
  const [underlay] = underlayLink(host, netns(`w${m}x`), '192.0.2.21/24', '192.0.2.22/24');
  podLink(pa, host, `${m}va`, '10.8.0.2/24', '10.8.0.1', macOf('10.8.0.2'));
  podLink(pb, host, `${m}vb`, '10.8.0.3/24', '10.8.0.1', macOf('10.8.0.3'));
  const local: Array<[string, string, string]> = [
    [`${m}pa`, `${m}va`, '10.8.0.2'],
    [`${m}pb`, `${m}vb`, '10.8.0.3'],
  ];
  programWeftHost(host, { ...weftSpec(`/sys/fs/bpf/${tag}-w${m}`, underlay, '192.0.2.21', local, []), mode }, dir);

  const [h1, h2] = [netns(`h${m}1`), netns(`h${m}2`)];
  const [pc, pd] = [netns(`${m}pc`), netns(`${m}pd`)];
  const [u1, u2] = underlayLink(h1, h2, '192.0.2.31/24', '192.0.2.32/24');
  podLink(pc, h1, `${m}vc`, '10.8.0.4/24', '10.8.0.1', macOf('10.8.0.4'));
  podLink(pd, h2, `${m}vd`, '10.8.0.5/24', '10.8.0.1', macOf('10.8.0.5'));
  const c: [string, string, string] = [`${m}pc`, `${m}vc`, '10.8.0.4'];
  const d: [string, string, string] = [`${m}pd`, `${m}vd`, '10.8.0.5'];
  programWeftHost(
    h1,
    {
      ...weftSpec(`/sys/fs/bpf/${tag}-h${m}1`, u1, '192.0.2.31', [c], [['192.0.2.32', macOf('10.8.0.5'), '10.8.0.5']]),
      mode,
    },
    dir,
  );
  programWeftHost(
    h2,
    {
      ...weftSpec(`/sys/fs/bpf/${tag}-h${m}2`, u2, '192.0.2.32', [d], [['192.0.2.31', macOf('10.8.0.4'), '10.8.0.4']]),
      mode,
    },
    dir,
  );
  return { oneHost: [pa, pb, '10.8.0.3'] as const, acrossHosts: [pc, pd, '10.8.0.5'] as const };
}

async function throughput(): Promise<string[]> {
  const missingTool = ['iperf3', 'nsenter', 'bpftool', 'ethtool'].find(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
  );
  if (missingTool) return [`Throughput skipped: ${missingTool} is not installed.`];
  const dir = tempDir('weft-bench-datapath-');
  try {
    // Linux, one host: two pods routed by a router namespace.
    const router = netns('lr');
    const [qa, qb] = [netns('qa'), netns('qb')];
    podLink(qa, router, 'ra', '10.9.1.2/24', '10.9.1.1', '02:00:0a:09:01:02');
    podLink(qb, router, 'rb', '10.9.2.2/24', '10.9.2.1', '02:00:0a:09:02:02');
    ip('-n', router, 'addr', 'add', '10.9.1.1/24', 'dev', `${tag}ra`);
    ip('-n', router, 'addr', 'add', '10.9.2.1/24', 'dev', `${tag}rb`);
    inNs(router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');

    // Linux, two hosts: a VXLAN device on each, routes through it.
    const [l1, l2] = [netns('l1'), netns('l2')];
    const [qc, qd] = [netns('qc'), netns('qd')];
    const [lu1, lu2] = underlayLink(l1, l2, '192.0.2.41/24', '192.0.2.42/24');
    podLink(qc, l1, 'rc', '10.10.1.2/24', '10.10.1.1', '02:00:0a:0a:01:02');
    podLink(qd, l2, 'rd', '10.10.2.2/24', '10.10.2.1', '02:00:0a:0a:02:02');
    for (const [host, underlay, local, remote, own, hostEnd, overlay, peer, far] of [
      [
        l1,
        lu1,
        '192.0.2.41',
        '192.0.2.42',
        '10.10.1.1/24',
        `${tag}rc`,
        '10.10.255.1/24',
        '10.10.255.2',
        '10.10.2.0/24',
      ],
      [
        l2,
        lu2,
        '192.0.2.42',
        '192.0.2.41',
        '10.10.2.1/24',
        `${tag}rd`,
        '10.10.255.2/24',
        '10.10.255.1',
        '10.10.1.0/24',
      ],
    ] as const) {
      ip(
        '-n',
        host,
        'link',
        'add',
        'vx',
        'type',
        'vxlan',
        'id',
        '900',
        'local',
        local,
        'remote',
        remote,
        'dstport',
        '4789',
        'dev',
        underlay,
      );
      ip('-n', host, 'addr', 'add', overlay, 'dev', 'vx');
      ip('-n', host, 'link', 'set', 'vx', 'up');
      ip('-n', host, 'addr', 'add', own, 'dev', hostEnd);
      ip('-n', host, 'route', 'add', far, 'via', peer, 'dev', 'vx');
      inNs(host, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    }

    const xdp = weftTopologies('xdp', dir.path);
    const tc = weftTopologies('tc', dir.path);
    const rows: string[] = [];
    // Rounds alternate the contenders so that a busy moment of the machine hits all alike.
    const shapes = [
      ['pod to pod, one host', 'Linux routing between namespaces', [qa, qb, '10.9.2.2'], tc.oneHost, xdp.oneHost],
      [
        'pod to pod, across hosts (VXLAN)',
        'Linux VXLAN device with routes',
        [qc, qd, '10.10.2.2'],
        tc.acrossHosts,
        xdp.acrossHosts,
      ],
    ] as const;
    for (const [path, baseline, linuxPods, tcPods, xdpPods] of shapes) {
      const runs = { linux: [] as number[], tc: [] as number[], xdp: [] as number[] };
      for (let round = 0; round < IPERF_ROUNDS; round++) {
        runs.linux.push(await iperf(linuxPods));
        runs.tc.push(await iperf(tcPods));
        runs.xdp.push(await iperf(xdpPods));
      }
      const [linux, viaTc, viaXdp] = [median(runs.linux), median(runs.tc), median(runs.xdp)];
      rows.push(
        `| ${path} | ${viaTc.toFixed(2)} | ${viaXdp.toFixed(2)} | ${baseline} | ${linux.toFixed(2)} | ${(viaTc / linux).toFixed(2)}× | ${(viaXdp / linux).toFixed(2)}× |`,
      );
    }
    return [
      `iperf3 TCP, one stream, ${IPERF_SECONDS} s per run, median of ${IPERF_ROUNDS} alternating rounds; MTU 1450 in the pods.`,
      '',
      '| path | Weft TC Gbit/s | Weft XDP Gbit/s | baseline | baseline Gbit/s | TC ratio | XDP ratio |',
      '| --- | ---: | ---: | --- | ---: | ---: | ---: |',
      ...rows,
    ];
  } finally {
    for (const [host, pinRoot] of pinRoots) {
      spawnSync('nsenter', [`--net=/var/run/netns/${host}`, process.execPath, labHostScript, 'cleanup', pinRoot]);
    }
    for (const name of namespaces.reverse()) spawnSync('ip', ['netns', 'del', name]);
    dir.remove();
  }
}

async function run() {
  main();
  if (!datapathMissing()) process.stdout.write(`\n${(await throughput()).join('\n')}\n`);
}

await run();
