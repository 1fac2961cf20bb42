// Two hosts, each a network namespace with its own datapath (programmed from inside it by
// lab-host.ts, as an agent would), joined by an underlay link; one pod on each. Ping and TCP
// between the pods go through VXLAN: encapsulated by host A's pod-egress program, carried by
// the underlay, decapsulated by host B's underlay program, and back.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir, waitFor } from '@weft/kit/testing';
import type { Interface } from '../host-state/snapshot.js';
import { BPFFS } from './bpffs.js';
import { Datapath } from './datapath.js';
import type { LabHostSpec } from './lab-host.js';
import { datapathMissing } from './native.js';
import { labHostScript } from './paths.js';

function missing(): string | undefined {
  const datapath = datapathMissing();
  if (datapath) return datapath;
  for (const tool of ['ping', 'bpftool', 'nsenter', 'iperf3']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0)
      return `${tool} is not installed`;
  }
  return undefined;
}

const RI = 'default-domain:lab:green:green';
const labHost = labHostScript;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

for (const mode of ['tc', 'xdp'] as const)
  describe(`two hosts (${mode}): pods reach each other through VXLAN`, { skip: missing() ?? false }, () => {
    const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
    const dir = tempDir('weft-two-hosts-');
    const hosts = [0, 1].map((i) => ({
      netns: `wt${id}h${i}`,
      underlay: `wt${id}u${i}`,
      address: `192.0.2.${i + 1}`,
      pinRoot: join(BPFFS, `weft-test-host-${id}-${i}`),
      pod: {
        netns: `wt${id}p${i}`,
        hostEnd: `wt${id}v${i}`,
        ip: `10.5.0.${i + 2}`,
        mac: `02:00:0a:05:00:0${i + 2}`,
        uuid: `vmi-green-${i}`,
      },
    }));
    let iperf: ChildProcess | undefined;

    const iface = (i: number): Interface => ({
      uuid: hosts[i]!.pod.uuid,
      virtual_machine_uuid: `vm-${i}`,
      virtual_machine_name: `lab/pod-${i}`,
      routing_instance: RI,
      mac: hosts[i]!.pod.mac,
      addresses: [`${hosts[i]!.pod.ip}/24`],
      gateways: ['10.5.0.1'],
      dns_servers: [],
      name: 'eth0',
      order: 0,
      mtu: 1450,
      acl_name: '',
      port_security_enabled: false,
      floating_addresses: [],
    });

    before(() => {
      ip('link', 'add', hosts[0]!.underlay, 'type', 'veth', 'peer', 'name', hosts[1]!.underlay);
      for (const host of hosts) {
        ip('netns', 'add', host.netns);
        ip('netns', 'add', host.pod.netns);
        ip('link', 'set', host.underlay, 'netns', host.netns);
        ip('-n', host.netns, 'link', 'set', 'lo', 'up');
        ip('-n', host.netns, 'link', 'set', host.underlay, 'up');
        ip('-n', host.netns, 'addr', 'add', `${host.address}/24`, 'dev', host.underlay);
        // The pod's veth: the host end in the host, the other end in the pod as eth0, MTU
        // leaving room for the 50-byte VXLAN header on a 1500-byte underlay.
        ip('link', 'add', host.pod.hostEnd, 'type', 'veth', 'peer', 'name', `${host.pod.hostEnd}p`);
        ip('link', 'set', host.pod.hostEnd, 'netns', host.netns);
        ip('link', 'set', `${host.pod.hostEnd}p`, 'netns', host.pod.netns);
        ip('-n', host.netns, 'link', 'set', host.pod.hostEnd, 'up');
        ip('-n', host.pod.netns, 'link', 'set', `${host.pod.hostEnd}p`, 'name', 'eth0');
        ip('-n', host.pod.netns, 'link', 'set', 'eth0', 'address', host.pod.mac, 'mtu', '1450', 'up');
        ip('-n', host.pod.netns, 'link', 'set', 'lo', 'up');
        ip('-n', host.pod.netns, 'addr', 'add', `${host.pod.ip}/24`, 'dev', 'eth0');
        ip('-n', host.pod.netns, 'route', 'add', 'default', 'via', '10.5.0.1');
      }
      for (const [i, host] of hosts.entries()) {
        const other = hosts[1 - i]!;
        const spec: LabHostSpec = {
          mode,
          pinRoot: host.pinRoot,
          underlayDevice: host.underlay,
          underlayAddress: host.address,
          ports: [
            {
              container_id: `c${i}`,
              ifname: 'eth0',
              interface_uuid: host.pod.uuid,
              host_ifname: host.pod.hostEnd,
              netns: `/var/run/netns/${host.pod.netns}`,
              mac: host.pod.mac,
              addresses: [`${host.pod.ip}/24`],
            },
          ],
          routingInstances: [
            {
              name: RI,
              virtual_network_uuid: 'vn-green',
              virtual_network: RI.split(':').slice(0, -1).join(':'),
              vrf_id: 51,
              vni: 500,
              route_targets: [],
              acl_name: '',
              mtu: 0,
              router_external: false,
              services: [],
            },
          ],
          interfaces: [iface(i)],
          acls: [],
          routes: {
            [RI]: {
              [`${host.pod.ip}/32`]: { kind: 'interface_uuid', interface_uuid: host.pod.uuid },
              [`${other.pod.ip}/32`]: {
                kind: 'tunnel',
                tunnel: { underlay_address: other.address, vni: 500, mac: other.pod.mac },
              },
            },
          },
        };
        writeFileSync(specFile(i), JSON.stringify(spec));
        program(i);
      }
    });

    const specFile = (i: number) => join(dir.path, `host-${i}.json`);
    /** Programs host i from inside its namespace, as its agent (re)starting would. */
    const program = (i: number) =>
      execFileSync(
        'nsenter',
        [`--net=/var/run/netns/${hosts[i]!.netns}`, process.execPath, labHost, 'program', specFile(i)],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );

    after(() => {
      iperf?.kill();
      for (const host of hosts) {
        spawnSync('nsenter', [
          `--net=/var/run/netns/${host.netns}`,
          process.execPath,
          labHost,
          'cleanup',
          host.pinRoot,
        ]);
        spawnSync('ip', ['netns', 'del', host.pod.netns]);
        spawnSync('ip', ['netns', 'del', host.netns]);
        Datapath.removePins(host.pinRoot);
      }
      dir.remove();
    });

    /** Sums a counter over every device of a host's datapath. */
    function total(host: (typeof hosts)[0], counter: 'txTunnel' | 'txLocal' | 'rxPackets'): bigint {
      const datapath = Datapath.open(host.pinRoot);
      try {
        return datapath.maps.stats.entries().reduce((sum, [, stats]) => sum + stats[counter], 0n);
      } finally {
        datapath.close();
      }
    }

    test('ping from a pod on host A to a pod on host B and back, encapsulated both ways', () => {
      // XDP encapsulates in the pod-egress program and counts it there; TC hands the packet to
      // the kernel's VXLAN device and counts the decapsulated side on that device.
      const [a, b] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
      const result = spawnSync(
        'ip',
        ['netns', 'exec', a.pod.netns, 'ping', '-c', '3', '-i', '0.2', '-W', '2', b.pod.ip],
        {
          encoding: 'utf8',
          timeout: 20_000,
        },
      );
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.ok(total(a, 'txTunnel') >= 3n, 'host A encapsulated the requests');
      assert.ok(total(b, 'txTunnel') >= 3n, 'host B encapsulated the replies');
      assert.ok(total(b, 'txLocal') >= 3n, 'host B decapsulated and delivered the requests');
    });

    test('reprogramming both hosts (agent restarts: new programs, adopted maps) loses no packet', async () => {
      const [a, b] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
      const ping = spawn('ip', ['netns', 'exec', a.pod.netns, 'ping', '-c', '200', '-i', '0.05', '-W', '1', b.pod.ip], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      ping.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => ping.on('exit', resolve));
      await waitFor(() => (output.match(/icmp_seq=/g)?.length ?? 0) >= 5, { what: 'ping under way' });
      program(0);
      program(1);
      assert.equal(ping.exitCode, null, 'the ping was still running when both hosts had been reprogrammed');
      const status = await exited;
      assert.match(output, / 0% packet loss/, output.split('\n').slice(-4).join('\n'));
      assert.equal(status, 0);
    });

    test('TCP (iperf3) between the pods across hosts', async () => {
      const [a, b] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
      iperf = spawn('ip', ['netns', 'exec', b.pod.netns, 'iperf3', '-s', '-1', '-B', b.pod.ip], { stdio: 'ignore' });
      await waitFor(
        () =>
          spawnSync('ip', ['netns', 'exec', b.pod.netns, 'ss', '-ltn'], { encoding: 'utf8' }).stdout.includes(':5201'),
        { what: 'iperf3 listening', timeoutMs: 10_000 },
      );
      const client = spawnSync('ip', ['netns', 'exec', a.pod.netns, 'iperf3', '-c', b.pod.ip, '-t', '1', '-J'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(client.status, 0, `${client.stdout}${client.stderr}`);
      const report = JSON.parse(client.stdout) as { end: { sum_received: { bits_per_second: number; bytes: number } } };
      assert.ok(report.end.sum_received.bytes > 1_000_000, `TCP carried ${report.end.sum_received.bytes} bytes`);
    });
  });
