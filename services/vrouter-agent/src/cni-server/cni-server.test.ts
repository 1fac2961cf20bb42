// The CNI flow end to end on this host: the real weft-cni executable, run as a container runtime
// runs it, against the agent's real CNI socket, with real network namespaces and veth pairs.
// The host's config is put into HostState as control's messages would, and the datapath side is
// a recorder that checks each host device exists when attached (the BPF attach is tested with
// the datapath, and the whole path in the multi-host lab).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CniCode, hostIfnameFor } from '@weft/cni';
import { callPlugin, createNetns, inNetns, netnsUnavailable, weftCniPath } from '@weft/cni/testing';
import { createLogger } from '@weft/kit';
import { tempDir, waitFor } from '@weft/kit/testing';
import type { Interface__Output as Interface } from '@weft/proto/gen/weft/control/v1/Interface.js';
import type { PortStatus } from '@weft/proto/gen/weft/control/v1/PortStatus.js';
import { HostState } from '../host-state/host-state.js';
import type { PortDatapath } from '../ports/port-datapath.js';
import { type PortRecord, PortStore } from '../ports/port-store.js';
import { CniServer } from './cni-server.js';

const skip = netnsUnavailable();
const logger = createLogger({ service: 'test', level: 'silent' });

class RecordingDatapath implements PortDatapath {
  attached = new Map<string, PortRecord>();
  failFor = new Set<string>();
  async attachPort(port: PortRecord, iface: Interface) {
    if (this.failFor.has(iface.uuid)) throw new Error(`datapath refused ${iface.uuid}`);
    execFileSync('ip', ['link', 'show', 'dev', port.host_ifname], { stdio: 'ignore' });
    this.attached.set(port.host_ifname, port);
  }
  async detachPort(port: PortRecord) {
    this.attached.delete(port.host_ifname);
  }
  unavailable() {
    return undefined;
  }
}

function vmi(pod: string, index: number, network: string, address: string, gateway: string, name = ''): Interface {
  return {
    uuid: `${pod}-if${index}`,
    virtual_machine_uuid: `${pod}-uuid`,
    virtual_machine_name: `default/${pod}`,
    routing_instance: `default-domain:default-project:${network}:${network}`,
    mac: `02:00:00:00:${index.toString(16).padStart(2, '0')}:${(pod.length + index).toString(16).padStart(2, '0')}`,
    addresses: [address],
    gateways: [gateway],
    dns_servers: [gateway],
    name,
    order: index,
    mtu: 0,
    acl_name: '',
    port_security_enabled: true,
    floating_addresses: [],
  };
}

function feed(state: HostState, interfaces: Interface[]) {
  const snapshot = state.beginSync('control-1');
  snapshot.applyConfig({
    routing_instances: ['red', 'green', 'blue'].map((network, index) => ({
      name: `default-domain:default-project:${network}:${network}`,
      virtual_network_uuid: `vn-${network}`,
      virtual_network: `default-domain:default-project:${network}`,
      vrf_id: index + 1,
      vni: 100 + index,
      route_targets: [],
      acl_name: '',
      mtu: 0,
      router_external: false,
      services: [],
    })),
    interfaces,
    acls: [],
    deleted_routing_instances: [],
    deleted_interfaces: [],
    deleted_acls: [],
  });
  snapshot.configComplete = true;
  snapshot.routesComplete = true;
  state.settle('control-1');
}

function hostLinks(): string[] {
  return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[]).map(
    (link) => link.ifname,
  );
}

let dir: ReturnType<typeof tempDir>;
let state: HostState;
let datapath: RecordingDatapath;
let server: CniServer;
let socketPath: string;
const reported: PortStatus[] = [];

before(async () => {
  if (skip) return;
  dir = tempDir('weft-agent-cni-');
  socketPath = join(dir.path, 'agent.sock');
  state = new HostState();
  datapath = new RecordingDatapath();
  server = new CniServer({
    socketPath,
    deleteQueue: join(dir.path, 'delete-queue'),
    state,
    ports: new PortStore(dir.path),
    datapath,
    reportPort: (port) => reported.push(port),
    underlayMtu: 1500,
    logger,
  });
  await server.listen();
});

after(async () => {
  if (skip) return;
  await server.close();
  dir.remove();
});

function netconf(extra: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.1.0',
    name: 'weft',
    type: 'weft-cni',
    agentSocket: socketPath,
    configWaitMs: 5_000,
    ...extra,
  };
}

test('the socket is private to root', { skip }, () => {
  const mode = execFileSync('stat', ['-c', '%a', socketPath], { encoding: 'utf8' }).trim();
  assert.equal(mode, '600');
});

test('the socket is born 0600 by the umask of its bind, never changed after, and the umask is put back', async () => {
  const own = tempDir('weft-agent-cni-mode-');
  const path = join(own.path, 'agent.sock');
  const made = new CniServer({
    socketPath: path,
    deleteQueue: join(own.path, 'delete-queue'),
    state: new HostState(),
    ports: new PortStore(own.path),
    datapath: new RecordingDatapath(),
    reportPort: () => {},
    underlayMtu: 1500,
    logger,
  });
  // inotify reports, in order, the socket's creation ("rename") and any later change of its
  // mode ("change"): a chmod after the bind would show, however soon after it came.
  const events: string[] = [];
  const watcher = watch(own.path, (event, name) => events.push(`${event} ${name}`));
  // The most open umask: only the bind's own can make the socket private.
  const before = process.umask(0);
  try {
    await made.listen();
    assert.equal(process.umask(), 0, 'the umask is the one before listen');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(statSync(path).isSocket());
    // A marker after the bind: once its event is in, every event of the socket before it is too.
    writeFileSync(join(own.path, 'marker'), '');
    await waitFor(() => events.includes('rename marker'), { what: "the marker's event" });
    const ofSocket = events.slice(0, events.indexOf('rename marker')).filter((event) => event.endsWith(' agent.sock'));
    assert.deepEqual(ofSocket, ['rename agent.sock'], 'created once, its mode never changed after');
  } finally {
    process.umask(before);
    watcher.close();
    await made.close();
    own.remove();
  }
});

test('ADD waits for config on its way, then one call sets up all three networks of a pod', { skip }, async () => {
  const pod = createNetns(`weft-agent-p3-${process.pid}`);
  try {
    const adding = callPlugin(weftCniPath, {
      command: 'ADD',
      config: netconf(),
      containerId: 'ctr-three',
      netns: pod.path,
      ifname: 'eth0',
      args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'three', K8S_POD_UID: 'ignored-uid' },
    });
    // Config arrives while the plugin is already waiting for it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    feed(state, [
      vmi('three', 0, 'red', '10.1.0.3/24', '10.1.0.1'),
      vmi('three', 1, 'green', '10.2.0.3/24', '10.2.0.1'),
      vmi('three', 2, 'blue', '10.3.0.3/24', '10.3.0.1', 'storage'),
    ]);
    const outcome = await adding;
    assert.equal(outcome.exitCode, 0, outcome.stdout);
    const result = outcome.json as unknown as {
      interfaces: { name: string; mac: string; mtu: number; sandbox?: string }[];
      ips: { address: string; gateway: string; interface: number }[];
      routes: { dst: string; gw: string }[];
      dns: { nameservers: string[] };
    };
    const sandboxNames = result.interfaces.filter((item) => item.sandbox === pod.path).map((item) => item.name);
    assert.deepEqual(sandboxNames, ['eth0', 'net1', 'storage']);
    assert.deepEqual(
      result.ips.map((ip) => [result.interfaces[ip.interface]?.name, ip.address, ip.gateway]),
      [
        ['eth0', '10.1.0.3/24', '10.1.0.1'],
        ['net1', '10.2.0.3/24', '10.2.0.1'],
        ['storage', '10.3.0.3/24', '10.3.0.1'],
      ],
    );
    assert.deepEqual(
      result.routes,
      [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }],
      'only the default network carries the default route',
    );
    assert.ok(
      result.interfaces.every((item) => item.mtu === 1450),
      'MTU leaves room for the VXLAN header',
    );
    assert.deepEqual(result.dns.nameservers, ['10.1.0.1', '10.2.0.1', '10.3.0.1']);

    // What the pod really has.
    const eth0 = JSON.parse(inNetns(pod.path, 'ip', ['-j', 'addr', 'show', 'dev', 'eth0']))[0];
    assert.equal(eth0.address, vmi('three', 0, 'red', '', '').mac);
    assert.equal(eth0.mtu, 1450);
    assert.match(inNetns(pod.path, 'ip', ['route', 'show', 'default']), /default via 10\.1\.0\.1 dev eth0/);
    // The plugin leaves the kernel's offloads on; the datapath sets what its mode needs on attach
    // (TC mode keeps them: test/e2e/pod-offloads.test.ts).
    assert.match(inNetns(pod.path, 'ethtool', ['-k', 'eth0']), /tx-checksumming: on/);
    // And the agent attached every host end and told control.
    assert.equal(datapath.attached.size, 3);
    assert.deepEqual(
      reported
        .filter((port) => port.state === 'PORT_STATE_UP')
        .map((port) => port.interface_uuid)
        .sort(),
      ['three-if0', 'three-if1', 'three-if2'],
    );

    // CHECK passes now, and fails once an interface is removed by hand.
    const checkConfig = netconf({ prevResult: result });
    const call = { config: checkConfig, containerId: 'ctr-three', netns: pod.path, ifname: 'eth0' };
    assert.equal((await callPlugin(weftCniPath, { command: 'CHECK', ...call })).exitCode, 0);
    inNetns(pod.path, 'ip', ['link', 'del', 'net1']);
    const checked = await callPlugin(weftCniPath, { command: 'CHECK', ...call });
    assert.equal(checked.exitCode, 1);
    assert.match(checked.json?.msg ?? '', /interface net1 is missing/);

    // DEL twice, and every host-side interface is gone.
    const hostEnds = result.interfaces.filter((item) => !item.sandbox).map((item) => item.name);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const deleted = await callPlugin(weftCniPath, { command: 'DEL', ...call });
      assert.equal(deleted.exitCode, 0, deleted.stdout);
    }
    const links = hostLinks();
    for (const name of hostEnds) assert.ok(!links.includes(name), `${name} is left on the host`);
    assert.equal(datapath.attached.size, 0);
  } finally {
    pod.remove();
  }
});

test('DEL succeeds after the netns was deleted, and for a pod the agent never heard of', { skip }, async () => {
  feed(state, [vmi('gone', 0, 'red', '10.1.0.9/24', '10.1.0.1')]);
  const pod = createNetns(`weft-agent-gone-${process.pid}`);
  const call = {
    config: netconf(),
    containerId: 'ctr-gone',
    netns: pod.path,
    ifname: 'eth0',
    args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'gone' },
  };
  const added = await callPlugin(weftCniPath, { command: 'ADD', ...call });
  assert.equal(added.exitCode, 0, added.stdout);
  const hostEnd = (added.json as { interfaces: { name: string; sandbox?: string }[] }).interfaces.find(
    (item) => !item.sandbox,
  )!.name;
  pod.remove();
  assert.equal((await callPlugin(weftCniPath, { command: 'DEL', ...call })).exitCode, 0);
  assert.ok(!hostLinks().includes(hostEnd));
  const unknown = await callPlugin(weftCniPath, { command: 'DEL', ...call, containerId: 'never-seen', netns: '' });
  assert.equal(unknown.exitCode, 0, unknown.stdout);
});

test('a failure midway removes every interface the call created', { skip }, async () => {
  feed(state, [vmi('half', 0, 'red', '10.1.0.20/24', '10.1.0.1'), vmi('half', 1, 'green', '10.2.0.20/24', '10.2.0.1')]);
  datapath.failFor.add('half-if1');
  const pod = createNetns(`weft-agent-half-${process.pid}`);
  try {
    const outcome = await callPlugin(weftCniPath, {
      command: 'ADD',
      config: netconf(),
      containerId: 'ctr-half',
      netns: pod.path,
      ifname: 'eth0',
      args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'half' },
    });
    assert.equal(outcome.exitCode, 1);
    assert.notEqual(outcome.json?.code, CniCode.TRY_AGAIN_LATER);
    assert.match(String(outcome.json?.details ?? outcome.stdout), /datapath refused half-if1/);
    // Other tests make and remove links meanwhile: look for the ones this call would have made.
    const links = hostLinks();
    for (const ifname of ['eth0', 'net1'])
      assert.ok(!links.includes(hostIfnameFor('ctr-half', ifname)), `${ifname}'s host end is left`);
    assert.doesNotMatch(inNetns(pod.path, 'ip', ['-o', 'link']), /eth0|net1/);
    assert.equal([...datapath.attached.values()].filter((port) => port.container_id === 'ctr-half').length, 0);
  } finally {
    datapath.failFor.clear();
    pod.remove();
  }
});

test('GC removes an attachment the runtime no longer lists; a delegate call sets up one network', {
  skip,
}, async () => {
  feed(state, [vmi('gc', 0, 'red', '10.1.0.30/24', '10.1.0.1'), vmi('gc', 1, 'green', '10.2.0.30/24', '10.2.0.1')]);
  const pod = createNetns(`weft-agent-gc-${process.pid}`);
  try {
    const delegate = await callPlugin(weftCniPath, {
      command: 'ADD',
      config: netconf({ network: 'green' }),
      containerId: 'ctr-gc',
      netns: pod.path,
      ifname: 'net7',
      args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'gc' },
    });
    assert.equal(delegate.exitCode, 0, delegate.stdout);
    assert.match(inNetns(pod.path, 'ip', ['-o', 'addr', 'show', 'dev', 'net7']), /10\.2\.0\.30\/24/);
    assert.doesNotMatch(inNetns(pod.path, 'ip', ['-o', 'link']), /eth0/);
    const hostEnd = (delegate.json as { interfaces: { name: string; sandbox?: string }[] }).interfaces.find(
      (item) => !item.sandbox,
    )!.name;

    const collected = await callPlugin(weftCniPath, {
      command: 'GC',
      config: netconf({ 'cni.dev/valid-attachments': [] }),
    });
    assert.equal(collected.exitCode, 0, collected.stdout);
    assert.ok(![...datapath.attached.values()].some((port) => port.container_id === 'ctr-gc'));
    assert.ok(!hostLinks().includes(hostEnd));
  } finally {
    pod.remove();
  }
});

test('ten pods added at once all come up with their own addresses', { skip }, async () => {
  const pods = Array.from({ length: 10 }, (_, index) => `many${index}`);
  feed(
    state,
    pods.map((pod, index) => vmi(pod, 0, 'red', `10.1.0.${100 + index}/24`, '10.1.0.1')),
  );
  const namespaces = pods.map((pod) => createNetns(`weft-agent-${pod}-${process.pid}`));
  try {
    const outcomes = await Promise.all(
      pods.map((pod, index) =>
        callPlugin(weftCniPath, {
          command: 'ADD',
          config: netconf(),
          containerId: `ctr-${pod}`,
          netns: namespaces[index]!.path,
          ifname: 'eth0',
          args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: pod },
        }),
      ),
    );
    for (const [index, outcome] of outcomes.entries()) {
      assert.equal(outcome.exitCode, 0, outcome.stdout);
      assert.match(
        inNetns(namespaces[index]!.path, 'ip', ['-o', 'addr', 'show', 'dev', 'eth0']),
        new RegExp(`10\\.1\\.0\\.${100 + index}/24`),
      );
    }
    await Promise.all(
      pods.map((pod, index) =>
        callPlugin(weftCniPath, {
          command: 'DEL',
          config: netconf(),
          containerId: `ctr-${pod}`,
          netns: namespaces[index]!.path,
          ifname: 'eth0',
        }),
      ),
    );
    await waitFor(() => ![...datapath.attached.values()].some((port) => port.container_id.startsWith('ctr-many')), {
      what: 'every pod detached',
    });
  } finally {
    for (const namespace of namespaces) namespace.remove();
  }
});

test('a removed socket file is made again: the plugin reaches the agent without a restart', { skip }, async () => {
  feed(state, [vmi('again', 0, 'red', '10.1.0.40/24', '10.1.0.1')]);
  server.startUpkeep();
  rmSync(socketPath);
  const status = () => callPlugin(weftCniPath, { command: 'STATUS', config: netconf() });
  assert.equal((await status()).json?.code, CniCode.PLUGIN_NOT_AVAILABLE, 'unreachable while the file is gone');
  await waitFor(() => existsSync(socketPath), { what: 'the socket file again' });
  assert.equal((await status()).exitCode, 0);
  assert.equal(execFileSync('stat', ['-c', '%a', socketPath], { encoding: 'utf8' }).trim(), '600');
});
