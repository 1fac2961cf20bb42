// The manager end to end on real parts: config-api in-process (SQLite), the stand-in Kubernetes
// API server, and the manager built from its options with leader election on. What users rely
// on: a namespace is a project; a pod gets a virtual-machine named as weft-cni asks for it and an
// interface (with an address) per network it asked for, with the names, MAC and address it
// asked for; its network-status says so; host-network pods are left alone; a deleted pod's
// objects go; a restart changes nothing; a watch that has to start over (410) lists again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startConfigApi } from '@weft/config-api';
import { createLogger, createMetrics, Readiness } from '@weft/kit';
import { tempDir, waitFor } from '@weft/kit/testing';
import { HOST_BINDING_KEY, INTERFACE_NAME_ANNOTATION, INTERFACE_ORDER_ANNOTATION, keyValueOf } from '@weft/model';
import { buildKubeManager, type KubeManager } from './app.js';
import { ConfigApi, type VncObject } from './config/config-api.js';
import { NETWORK_STATUS_ANNOTATION, NETWORKS_ANNOTATION } from './kube/network-selection.js';
import { type KubeApiServer, startKubeApiServer } from './testing/kube-api-server.js';

// biome-ignore lint/suspicious/noExplicitAny: API objects are arbitrary JSON, read by path
type Json = any;

const PROJECT = ['default-domain', 'default-project'];
let kube: KubeApiServer;
let configApi: Awaited<ReturnType<typeof startConfigApi>>;
let config: ConfigApi;
const state = tempDir('weft-kube-manager-');

async function kubeCall(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const response = await fetch(`${kube.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, Json>;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${answer.message}`);
  return answer;
}

function startManager(identity = 'test-manager'): KubeManager {
  const manager = buildKubeManager(
    {
      kubeApiUrl: kube.url,
      configApiUrl: configApi.restUrl,
      projectMode: 'namespace',
      clusterProject: 'k8s',
      podNetwork: [...PROJECT, 'pod-network'].join(':'),
      workers: 4,
      leaderElection: true,
      leaseNamespace: 'kube-system',
      leaseName: 'weft-kube-manager',
      leaseDuration: 3_000,
      identity,
    },
    {
      logger: createLogger({ service: 'kube-manager', level: 'silent' }),
      metrics: createMetrics('kube_manager_test'),
      readiness: new Readiness(),
    },
  );
  void manager.start();
  return manager;
}

async function storeRevision(): Promise<number> {
  const text = await (await fetch(`${configApi.restUrl}/metrics`)).text();
  return Number(/^weft_config_api_store_revision (\d+)/m.exec(text)?.[1]);
}

async function network(name: string, cidr: string): Promise<void> {
  const [prefix, length] = cidr.split('/');
  await config.create('virtual-network', {
    fq_name: [...PROJECT, name],
    parent_type: 'project',
    network_ipam_refs: [
      {
        to: [...PROJECT, 'default-network-ipam'],
        attr: { ipam_subnets: [{ subnet: { ip_prefix: prefix, ip_prefix_len: Number(length) } }] },
      },
    ],
  });
}

async function attachment(namespace: string, name: string, weftNetwork: string) {
  await kubeCall('POST', `/apis/k8s.cni.cncf.io/v1/namespaces/${namespace}/network-attachment-definitions`, {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { name },
    spec: { config: JSON.stringify({ cniVersion: '1.1.0', name, type: 'weft-cni', network: weftNetwork }) },
  });
}

async function createPod(
  namespace: string,
  name: string,
  extra: { annotations?: Record<string, string>; hostNetwork?: boolean; labels?: Record<string, string> } = {},
) {
  return kubeCall('POST', `/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations: extra.annotations ?? {}, labels: extra.labels ?? {} },
    spec: { nodeName: 'node-a', hostNetwork: extra.hostNetwork ?? false, containers: [{ name: 'c', image: 'x' }] },
  });
}

async function interfacesOf(vm: VncObject): Promise<VncObject[]> {
  const refs = (vm.virtual_machine_interface_back_refs as { uuid: string }[] | undefined) ?? [];
  const found = await Promise.all(refs.map((ref) => config.read('virtual-machine-interface', ref.uuid)));
  return (found.filter(Boolean) as VncObject[]).sort(
    (a, b) =>
      Number(keyValueOf(a.annotations as never, INTERFACE_ORDER_ANNOTATION)) -
      Number(keyValueOf(b.annotations as never, INTERFACE_ORDER_ANNOTATION)),
  );
}

before(async () => {
  kube = await startKubeApiServer({ bookmarkIntervalMs: 200 });
  configApi = await startConfigApi({ stateDir: state.path, logLevel: 'silent' });
  config = new ConfigApi(configApi.restUrl);
  await network('pod-network', '10.60.0.0/24');
  await network('blue', '10.61.0.0/24');
  await network('red', '10.62.0.0/24');
  await kubeCall('POST', '/api/v1/namespaces', { metadata: { name: 'team-a' } });
  await attachment('team-a', 'blue-net', 'blue');
  await attachment('team-a', 'red-net', [...PROJECT, 'red'].join(':'));
});
after(async () => {
  await kube?.close();
  await configApi?.close();
  state.remove();
});

describe('weft-kube-manager', () => {
  let manager: KubeManager;

  test('a namespace becomes a project, and a pod its virtual-machine, three interfaces and their addresses', async () => {
    manager = startManager();
    await waitFor(() => config.idOf('project', ['default-domain', 'team-a']), { what: 'the project of team-a' });
    const pod = await createPod('team-a', 'three', {
      annotations: {
        [NETWORKS_ANNOTATION]: JSON.stringify([
          { name: 'blue-net', mac: '02:aa:bb:cc:dd:01' },
          { name: 'red-net', interface: 'red0', ips: ['10.62.0.50/24'] },
        ]),
      },
    });
    const vm = await waitFor(
      async () => {
        const found = await config.readByName('virtual-machine', ['team-a/three']);
        return found && (await interfacesOf(found)).length === 3 ? found : undefined;
      },
      { what: 'the pod in config', timeoutMs: 20_000 },
    );
    // weft-cni asks the agent by K8S_POD_UID or "<namespace>/<name>": both must match.
    assert.equal(vm.uuid, pod.metadata.uid);
    assert.equal(vm.display_name, 'team-a/three');
    const interfaces = await interfacesOf(vm);
    assert.deepEqual(
      interfaces.map((vmi) => [
        keyValueOf(vmi.annotations as never, INTERFACE_NAME_ANNOTATION),
        (vmi.virtual_network_refs as { to: string[] }[])[0]!.to.at(-1),
        keyValueOf(vmi.virtual_machine_interface_bindings as never, HOST_BINDING_KEY),
      ]),
      [
        ['eth0', 'pod-network', 'node-a'],
        ['net1', 'blue', 'node-a'],
        ['red0', 'red', 'node-a'],
      ],
    );
    assert.equal(
      (interfaces[1]!.virtual_machine_interface_mac_addresses as { mac_address: string[] }).mac_address[0],
      '02:aa:bb:cc:dd:01',
    );
    const redIp = await config.read(
      'instance-ip',
      (interfaces[2]!.instance_ip_back_refs as { uuid: string }[])[0]!.uuid,
    );
    assert.equal(redIp?.instance_ip_address, '10.62.0.50');

    const status = await waitFor(
      async () => {
        const current = await kubeCall('GET', '/api/v1/namespaces/team-a/pods/three');
        return current.metadata.annotations?.[NETWORK_STATUS_ANNOTATION];
      },
      { what: 'network-status' },
    );
    const entries = JSON.parse(status) as {
      name: string;
      interface: string;
      ips: string[];
      mac: string;
      default?: boolean;
    }[];
    assert.deepEqual(
      entries.map((entry) => [entry.name, entry.interface, entry.default ?? false]),
      [
        ['weft', 'eth0', true],
        ['team-a/blue-net', 'net1', false],
        ['team-a/red-net', 'red0', false],
      ],
    );
    assert.deepEqual(entries[2]!.ips, ['10.62.0.50']);
    assert.equal(entries[1]!.mac, '02:aa:bb:cc:dd:01');
    assert.match(entries[0]!.ips[0]!, /^10\.60\.0\.\d+$/);
  });

  test('a host-network pod gets nothing; a deleted or finished pod loses its objects', async () => {
    await createPod('team-a', 'on-host', { hostNetwork: true });
    await createPod('team-a', 'short-lived');
    await waitFor(() => config.idOf('virtual-machine', ['team-a/short-lived']), { what: 'short-lived in config' });
    await manager.idle();
    assert.equal(await config.idOf('virtual-machine', ['team-a/on-host']), undefined);
    const vm = (await config.readByName('virtual-machine', ['team-a/short-lived']))!;
    const vmi = (await interfacesOf(vm))[0]!;
    await kubeCall('DELETE', '/api/v1/namespaces/team-a/pods/short-lived');
    await waitFor(async () => (await config.idOf('virtual-machine', ['team-a/short-lived'])) === undefined, {
      what: 'short-lived gone from config',
    });
    assert.equal(await config.read('virtual-machine-interface', vmi.uuid), undefined);

    // A pod whose containers have all ended gives its address back, as Kubernetes frees its IP.
    await createPod('team-a', 'job');
    await waitFor(() => config.idOf('virtual-machine', ['team-a/job']), { what: 'job in config' });
    // A patch, as the kubelet sends: a PUT could meet the manager's own write of network-status (409).
    await kubeCall(
      'PATCH',
      '/api/v1/namespaces/team-a/pods/job/status',
      { status: { phase: 'Succeeded' } },
      'application/merge-patch+json',
    );
    await waitFor(async () => (await config.idOf('virtual-machine', ['team-a/job'])) === undefined, {
      what: "the finished pod's objects to go",
    });
  });

  test('a restarted manager changes nothing that is right, and removes what went away while it was down', async () => {
    await manager.idle();
    await manager.close();
    const before = await storeRevision();
    manager = startManager();
    await waitFor(() => manager.synced, { what: 'the new manager to sync' });
    await manager.idle();
    assert.equal(await storeRevision(), before, 'no config change after a restart');

    await manager.close();
    await kubeCall('DELETE', '/api/v1/namespaces/team-a/pods/three');
    manager = startManager();
    await waitFor(async () => (await config.idOf('virtual-machine', ['team-a/three'])) === undefined, {
      what: 'the pod deleted while the manager was down to go',
    });
  });

  test('a pod waits for an attachment made after it; a wrong annotation makes nothing until it is fixed', async () => {
    await createPod('team-a', 'early', { annotations: { [NETWORKS_ANNOTATION]: 'late-net' } });
    await createPod('team-a', 'wrong', { annotations: { [NETWORKS_ANNOTATION]: '[{"name":"blue-net","mac":"zz"}]' } });
    await network('late', '10.63.0.0/24');
    await attachment('team-a', 'late-net', 'late');
    const vm = await waitFor(
      async () => {
        const found = await config.readByName('virtual-machine', ['team-a/early']);
        return found && (await interfacesOf(found)).length === 2 ? found : undefined;
      },
      { what: 'the pod set up once its attachment exists', timeoutMs: 20_000 },
    );
    assert.equal((await interfacesOf(vm))[1]!.fq_name.at(-1), 'team-a__early__net1');
    await manager.idle();
    assert.equal(await config.idOf('virtual-machine', ['team-a/wrong']), undefined, 'nothing for a wrong annotation');
    await kubeCall(
      'PATCH',
      '/api/v1/namespaces/team-a/pods/wrong',
      { metadata: { annotations: { [NETWORKS_ANNOTATION]: '[{"name":"blue-net","mac":"02:00:00:00:0a:0b"}]' } } },
      'application/merge-patch+json',
    );
    await waitFor(() => config.idOf('virtual-machine', ['team-a/wrong']), { what: 'the fixed pod set up' });
  });

  test('a NetworkPolicy becomes security groups: selected pods allow only what it allows, peers are members, others stay open', async () => {
    await waitFor(() => manager.synced, { what: 'sync' });
    await createPod('team-a', 'server', { labels: { role: 'server' } });
    await createPod('team-a', 'client', { labels: { role: 'client' } });
    await createPod('team-a', 'bystander', { labels: { role: 'other' } });
    await kubeCall('POST', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'web' },
      spec: {
        podSelector: { matchLabels: { role: 'server' } },
        policyTypes: ['Ingress'],
        ingress: [
          { from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ protocol: 'TCP', port: 80 }] },
        ],
      },
    });
    const groupsOf = async (pod: string) => {
      const vm = await config.readByName('virtual-machine', [`team-a/${pod}`]);
      if (!vm) return undefined;
      const [eth0] = await interfacesOf(vm);
      return ((eth0?.security_group_refs as { to: string[] }[] | undefined) ?? []).map((ref) => ref.to.at(-1)).sort();
    };
    await waitFor(async () => (await groupsOf('server'))?.length === 2 && (await groupsOf('client'))?.length === 3, {
      what: 'the policy on the pods',
      timeoutMs: 20_000,
    });
    await manager.idle();
    assert.deepEqual(await groupsOf('server'), ['k8s-allow-egress', 'k8s-np__team-a__web']);
    assert.deepEqual(await groupsOf('client'), ['k8s-allow-egress', 'k8s-allow-ingress', 'k8s-np__team-a__web__in0-0']);
    assert.deepEqual(await groupsOf('bystander'), []);
    const group = (await config.readByName('security-group', ['default-domain', 'team-a', 'k8s-np__team-a__web']))!;
    const rules = (group.security_group_entries as { policy_rule: Record<string, Json>[] }).policy_rule;
    assert.equal(rules.length, 1);
    assert.equal(rules[0]!.protocol, 'tcp');
    assert.deepEqual(rules[0]!.dst_ports, [{ start_port: 80, end_port: 80 }]);
    assert.deepEqual(rules[0]!.src_addresses, [{ security_group: 'default-domain:team-a:k8s-np__team-a__web__in0-0' }]);
    assert.deepEqual(rules[0]!.dst_addresses, [{ security_group: 'local' }]);

    await kubeCall('DELETE', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/web');
    await waitFor(async () => (await groupsOf('server'))?.length === 0 && (await groupsOf('client'))?.length === 0, {
      what: 'the pods open again',
      timeoutMs: 20_000,
    });
    await waitFor(
      async () =>
        (await config.idOf('security-group', ['default-domain', 'team-a', 'k8s-np__team-a__web'])) === undefined,
      {
        what: "the policy's group to go",
      },
    );
  });

  test('a ClusterIP Service becomes a loadbalancer on the pod network, its ready endpoints the members of each port', async () => {
    await waitFor(() => manager.synced, { what: 'sync' });
    const base = 'k8s-svc__team-a__web';
    const project = ['default-domain', 'team-a'];
    await kubeCall('POST', '/api/v1/namespaces/team-a/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: {
        type: 'ClusterIP',
        clusterIP: '10.96.0.10',
        ports: [
          { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      },
    });
    const slice = (endpoints: Json[]) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints,
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    await kubeCall(
      'POST',
      '/apis/discovery.k8s.io/v1/namespaces/team-a/endpointslices',
      slice([
        { addresses: ['10.60.0.11'], conditions: { ready: true } },
        { addresses: ['10.60.0.12'] },
        { addresses: ['10.60.0.13'], conditions: { ready: false } },
      ]),
    );
    const membersOf = async (port: string) =>
      (await config.list('loadbalancer-member'))
        .filter((member) => member.fq_name.slice(0, -1).join(':') === [...project, `${base}__${port}`].join(':'))
        .map((member) => member.fq_name.at(-1))
        .sort();
    await waitFor(async () => (await membersOf('80-tcp')).length === 2, { what: 'the members of port 80' });
    assert.deepEqual(await membersOf('80-tcp'), ['10.60.0.11-8080', '10.60.0.12-8080'], 'the ready endpoints');
    assert.deepEqual(await membersOf('53-udp'), [], 'no slice port named dns: no members');
    const lb = (await config.readByName('loadbalancer', [...project, base]))!;
    assert.equal((lb.loadbalancer_properties as Json).vip_address, '10.96.0.10');
    const vipPort = (await config.readByName('virtual-machine-interface', [...project, base]))!;
    assert.deepEqual(
      (vipPort.virtual_network_refs as Json[]).map((ref) => ref.to.join(':')),
      [[...PROJECT, 'pod-network'].join(':')],
      'the virtual IP is held on the pod network',
    );
    const listener = (await config.readByName('loadbalancer-listener', [...project, `${base}__80-tcp`]))!;
    assert.deepEqual(listener.loadbalancer_listener_properties, {
      protocol: 'TCP',
      protocol_port: 80,
      admin_state: true,
    });

    await manager.idle();
    const before = await storeRevision();
    await kubeCall(
      'PUT',
      '/apis/discovery.k8s.io/v1/namespaces/team-a/endpointslices/web-abc',
      slice([{ addresses: ['10.60.0.12'] }]),
    );
    await waitFor(async () => (await membersOf('80-tcp')).length === 1, { what: 'an endpoint gone from port 80' });
    assert.deepEqual(await membersOf('80-tcp'), ['10.60.0.12-8080']);
    await manager.idle();
    assert.equal(await storeRevision(), before + 1, 'one endpoint gone is one config change');

    await kubeCall('DELETE', '/api/v1/namespaces/team-a/services/web');
    await waitFor(async () => (await config.idOf('loadbalancer', [...project, base])) === undefined, {
      what: 'the loadbalancer of a deleted Service to go',
    });
    await manager.idle();
    for (const type of ['loadbalancer-listener', 'loadbalancer-pool', 'loadbalancer-member']) {
      const left = (await config.list(type)).filter((object) => object.fq_name.join(':').includes(base));
      assert.deepEqual(left, [], `no ${type} left`);
    }
    assert.equal(await config.idOf('virtual-machine-interface', [...project, base]), undefined);
  });

  test('nothing is deleted before every informer has listed once', async () => {
    await createPod('team-a', 'kept');
    await waitFor(() => config.idOf('virtual-machine', ['team-a/kept']), { what: 'kept in config' });
    await manager.idle();
    await manager.close();
    await kubeCall('DELETE', '/api/v1/namespaces/team-a/pods/kept');
    const policyLists = () =>
      kube.requests.filter(
        (request) => request.method === 'GET' && request.url === '/apis/networking.k8s.io/v1/networkpolicies',
      ).length;
    const refusedBefore = policyLists();
    // NetworkPolicies cannot be listed: the pods can, and show "kept" gone, but the manager has not synced.
    kube.refuse = (request) => request.url.startsWith('/apis/networking.k8s.io/v1/networkpolicies');
    manager = startManager();
    try {
      await waitFor(() => policyLists() >= refusedBefore + 2, { what: 'the manager to try the policies twice' });
      assert.equal(manager.synced, false);
      assert.ok(await config.idOf('virtual-machine', ['team-a/kept']), 'kept is still in config');
    } finally {
      kube.refuse = undefined;
    }
    await waitFor(async () => (await config.idOf('virtual-machine', ['team-a/kept'])) === undefined, {
      what: 'kept to go once the manager has synced',
      timeoutMs: 20_000,
    });
  });

  test('of two replicas, only the holder of the Lease acts; the other takes over when it stops', async () => {
    await waitFor(() => manager.synced, { what: 'the first replica to sync' });
    const leaseReads = () =>
      kube.requests.filter((request) => request.url.includes('/leases/weft-kube-manager')).length;
    const readsBefore = leaseReads();
    const second = startManager('second-replica');
    try {
      await waitFor(() => leaseReads() >= readsBefore + 3, { what: 'the second replica to ask for the Lease' });
      assert.equal(second.synced, false, 'the second replica waits');
      await manager.close();
      await waitFor(() => second.synced, { what: 'the second replica to take over', timeoutMs: 20_000 });
      const lease = await kubeCall(
        'GET',
        '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/weft-kube-manager',
      );
      assert.equal(lease.spec.holderIdentity, 'second-replica');
      await createPod('team-a', 'after-takeover');
      await waitFor(() => config.idOf('virtual-machine', ['team-a/after-takeover']), {
        what: 'the new leader at work',
      });
    } finally {
      manager = second;
    }
  });

  test("a namespace that goes takes its project, its pods' objects and its policies' groups with it", async () => {
    await waitFor(() => manager.synced, { what: 'sync' });
    await kubeCall('POST', '/api/v1/namespaces', { metadata: { name: 'team-b' } });
    await createPod('team-b', 'guarded', { labels: { app: 'db' } });
    await kubeCall('POST', '/apis/networking.k8s.io/v1/namespaces/team-b/networkpolicies', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'db' },
      spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: {} }] }] },
    });
    await waitFor(() => config.idOf('security-group', ['default-domain', 'team-b', 'k8s-allow-egress']), {
      what: "the policy's groups",
      timeoutMs: 20_000,
    });
    await kubeCall('DELETE', '/api/v1/namespaces/team-b');
    await waitFor(async () => (await config.idOf('project', ['default-domain', 'team-b'])) === undefined, {
      what: 'the project of team-b to go',
      timeoutMs: 30_000,
    });
    assert.equal(await config.idOf('virtual-machine', ['team-b/guarded']), undefined);
  });

  test('a watch that must start over (410 Expired) lists again and misses nothing', async () => {
    await waitFor(() => manager.synced, { what: 'sync' });
    const listsBefore = kube.requests.filter(
      (request) => request.url.startsWith('/api/v1/pods') && !request.url.includes('watch'),
    ).length;
    kube.expireWatches();
    await createPod('team-a', 'after-compaction');
    await waitFor(() => config.idOf('virtual-machine', ['team-a/after-compaction']), {
      what: 'the pod made around the 410',
    });
    const listsAfter = kube.requests.filter(
      (request) => request.url.startsWith('/api/v1/pods') && !request.url.includes('watch'),
    ).length;
    assert.ok(listsAfter > listsBefore, 'the informer listed again');
    const watches = kube.requests.filter(
      (request) => request.url.startsWith('/api/v1/pods?') && request.url.includes('watch'),
    );
    assert.ok(
      watches.every((request) => request.url.includes('allowWatchBookmarks=true')),
      'every watch asks for bookmarks',
    );
    await manager.close();
  });
});
