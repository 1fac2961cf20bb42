// The Helm charts as an operator installs them: rendered with several value sets by the
// repository's helm-compatible renderer, every object valid for the Kubernetes API of its kind
// and version, rollout safety on the rendered objects, and bad values rejected with a message
// that names the field.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '@weft/kit/testing';
import { introspectUrlOf } from '@weft/vrouter-agent';
import {
  appVersion,
  buildRenderer,
  chartsDir,
  envOf,
  find,
  kubernetesSchemaProblems,
  type Manifest,
  type Rendered,
  renderChart,
  rendererMissing,
  renderOrThrow,
  selects,
  umbrellaChart,
  workloads,
} from '../support/charts.js';
import { daemons } from '../support/daemons.js';

const skip = rendererMissing();
const ciValues = join(umbrellaChart, 'ci');
const subcharts = ['config-api', 'control', 'analytics', 'vrouter-agent', 'kube-manager', 'nats'];

/** The value sets every check runs on: the defaults and each file of charts/weft/ci. */
const valueSets: { name: string; files: string[] }[] = [
  { name: 'defaults', files: [] },
  ...readdirSync(ciValues)
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f) => ({ name: f.replace(/-values\.yaml$/, ''), files: [join(ciValues, f)] })),
];

describe('charts/weft', { skip }, () => {
  const scratch = tempDir('weft-charts-');
  let renderer = '';
  const rendered = new Map<string, Rendered>();

  before(() => {
    renderer = buildRenderer(scratch.path);
    for (const set of valueSets) rendered.set(set.name, renderOrThrow(renderer, umbrellaChart, { files: set.files }));
  });
  after(() => scratch.remove());

  const each = (check: (manifests: Manifest[], set: string) => void | Promise<void>) => async () => {
    assert.ok(
      rendered.size >= 6,
      'defaults and at least HA, TLS, plain text, external NATS and multi-network value sets',
    );
    for (const [set, result] of rendered) await check(result.manifests, set);
  };

  test(
    'every rendered object is valid for the Kubernetes API of its kind and version',
    each(async (manifests, set) => {
      assert.ok(manifests.length > 10, `${set}: rendered ${manifests.length} objects`);
      for (const { source, object } of manifests) {
        const where = `${set}: ${object.kind}/${object.metadata?.name} from ${source}`;
        assert.match(object.metadata?.name ?? '', /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/, `${where}: bad name`);
        if (object.kind === 'NetworkAttachmentDefinition') {
          // A CRD (Multus), not in the core API: its spec.config must be a CNI network config.
          assert.equal(object.apiVersion, 'k8s.cni.cncf.io/v1', where);
          const config = JSON.parse(object.spec.config);
          assert.equal(config.type, 'weft-cni', where);
          assert.match(config.network, /^[^:]+(:[^:]+)+$/, `${where}: the virtual network's fq_name`);
          continue;
        }
        assert.deepEqual(await kubernetesSchemaProblems(object), [], where);
      }
      const names = manifests.map((m) => `${m.object.kind}/${m.object.metadata.name}`);
      assert.equal(new Set(names).size, names.length, `${set}: two objects share a kind and name`);
    }),
  );

  test('the defaults deploy every service, NATS with JetStream, accounts and the CNI config', () => {
    const { manifests, notes } = rendered.get('defaults')!;
    const configApi = find(manifests, 'Deployment', 'weft-config-api');
    assert.equal(configApi.spec.replicas, 1, 'SQLite: one replica');
    assert.equal(configApi.spec.strategy.type, 'Recreate', 'one writer on a ReadWriteOnce volume');
    const configVolume = configApi.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'state');
    assert.equal(configVolume.persistentVolumeClaim.claimName, 'weft-config-api');
    find(manifests, 'PersistentVolumeClaim', 'weft-config-api');
    find(manifests, 'Service', 'weft-config-api');

    const control = find(manifests, 'StatefulSet', 'weft-control');
    assert.equal(control.spec.replicas, 2);
    for (const i of [0, 1]) {
      const service = find(manifests, 'Service', `weft-control-${i}`);
      assert.equal(service.spec.selector['statefulset.kubernetes.io/pod-name'], `weft-control-${i}`);
    }

    const analytics = find(manifests, 'Deployment', 'weft-analytics');
    const analyticsContainer = analytics.spec.template.spec.containers[0];
    assert.equal(envOf(analyticsContainer, 'WEFT_ANALYTICS_RETENTION'), '72h');
    assert.equal(envOf(analyticsContainer, 'WEFT_ANALYTICS_MAX_BYTES'), '8000000000', 'a whole number, not 8e+09');
    find(manifests, 'PersistentVolumeClaim', 'weft-analytics');

    const nats = find(manifests, 'StatefulSet', 'weft-nats');
    assert.equal(nats.spec.replicas, 3);
    const natsConfig = find(manifests, 'ConfigMap', 'weft-nats').data['nats.conf'];
    assert.match(natsConfig, /jetstream \{/);
    assert.match(natsConfig, /routes: \[[^\]]*weft-nats-2\.weft-nats-headless/);
    assert.equal(envOf(configApi.spec.template.spec.containers[0], 'WEFT_NATS_URL'), 'tls://weft-nats.weft.svc:4222');

    for (const name of ['config-api', 'control', 'analytics', 'vrouter-agent', 'nats']) {
      find(manifests, 'ServiceAccount', `weft-${name}`);
    }
    const role = find(manifests, 'ClusterRole', 'weft-vrouter-agent');
    for (const rule of role.rules) assert.deepEqual(rule.verbs, ['get', 'list', 'watch'], 'the agent only reads');
    const binding = find(manifests, 'ClusterRoleBinding', 'weft-vrouter-agent');
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'weft-vrouter-agent', namespace: 'weft' }]);

    const conflist = JSON.parse(find(manifests, 'ConfigMap', 'weft-vrouter-agent-cni').data['10-weft.conflist']);
    assert.equal(conflist.plugins[0].type, 'weft-cni');
    assert.equal(conflist.plugins[0].agentSocket, '/run/weft/agent.sock');
    assert.match(notes, /port-forward svc\/weft-config-api 8082:8082/);
  });

  test('the agent is a DaemonSet on the host network with the datapath capabilities and host mounts', () => {
    const { manifests } = rendered.get('defaults')!;
    const agent = find(manifests, 'DaemonSet', 'weft-vrouter-agent');
    const pod = agent.spec.template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
    const container = pod.containers[0];
    for (const capability of ['BPF', 'NET_ADMIN', 'SYS_ADMIN']) {
      assert.ok(container.securityContext.capabilities.add.includes(capability), capability);
    }
    assert.notEqual(container.securityContext.privileged, true, 'capabilities, not a privileged container');
    const hostPathOf = (volumeName: string) =>
      pod.volumes.find((v: { name: string }) => v.name === volumeName)?.hostPath?.path;
    const mountOf = (
      c: { volumeMounts: { name: string; mountPath: string; mountPropagation?: string }[] },
      path: string,
    ) => c.volumeMounts.find((m) => m.mountPath === path);
    const bpffs = mountOf(container, '/sys/fs/bpf')!;
    assert.equal(hostPathOf(bpffs.name), '/sys/fs/bpf', 'pinned maps outlive the container');
    const netns = mountOf(container, '/var/run/netns')!;
    assert.equal(hostPathOf(netns.name), '/var/run/netns');
    assert.equal(netns.mountPropagation, 'HostToContainer', 'namespaces created later become visible');
    assert.equal(hostPathOf(mountOf(container, '/run/weft')!.name), '/run/weft', 'the CNI socket on the host');

    const install = pod.initContainers.find((c: { name: string }) => c.name === 'install-cni');
    assert.ok(install, 'an init container installs the CNI plugin');
    assert.equal(hostPathOf(mountOf(install, '/host/opt/cni/bin')!.name), '/opt/cni/bin');
    assert.equal(hostPathOf(mountOf(install, '/host/etc/cni/net.d')!.name), '/etc/cni/net.d');
    assert.equal(envOf(install, 'CNI_CONF_NAME'), '10-weft.conflist');
    assert.deepEqual(
      envOf(container, 'WEFT_AGENT_CONTROL')?.split(','),
      ['weft-control-0.weft.svc:5269', 'weft-control-1.weft.svc:5269'],
      'the agent reaches every control replica by its own Service',
    );
  });

  test("the agent advertises its introspection at the node's address, in the scheme it serves", () => {
    for (const [set, scheme] of [
      ['defaults', 'https'],
      ['plaintext', 'http'],
    ] as const) {
      const pod = find(rendered.get(set)!.manifests, 'DaemonSet', 'weft-vrouter-agent').spec.template.spec;
      const container = pod.containers[0];
      assert.equal(pod.hostNetwork, true, `${set}: on the node's own network`);
      const host = container.env.find((e: { name: string }) => e.name === 'WEFT_AGENT_HTTP_HOST');
      assert.deepEqual(host?.valueFrom, { fieldRef: { fieldPath: 'status.hostIP' } }, `${set}: the node's address`);
      const port = Number(envOf(container, 'WEFT_AGENT_HTTP_PORT'));
      assert.equal(container.ports.find((p: { name: string }) => p.name === 'http')?.hostPort, port);
      // What the agent then reports in its UVE, for a node at 192.0.2.10 (underlay elsewhere).
      const url = introspectUrlOf({
        httpHost: '192.0.2.10',
        httpPort: port,
        underlayAddress: '198.51.100.4',
        https: envOf(container, 'WEFT_HTTP_TLS') === 'true',
      });
      assert.equal(url, `${scheme}://192.0.2.10:8085`, set);
    }
  });

  test("the agent's introspection takes the tokens and JWTs config-api and analytics take", () => {
    const { manifests } = rendered.get('auth')!;
    const tokensOf = (kind: string, name: string) => {
      const pod = find(manifests, kind, name).spec.template.spec;
      const container = pod.containers[0];
      const mount = container.volumeMounts.find(
        (m: { mountPath: string }) => m.mountPath === '/var/lib/weft/tokens.json',
      );
      return {
        env: Object.fromEntries(
          container.env
            .filter((e: { name: string }) => e.name.startsWith('WEFT_AUTH_'))
            .map((e: { name: string; value: string }) => [e.name, e.value]),
        ),
        secret: pod.volumes.find((v: { name: string }) => v.name === mount?.name)?.secret?.secretName,
        key: mount?.subPath,
        stateDir: envOf(container, 'WEFT_STATE_DIR'),
      };
    };
    const analytics = tokensOf('Deployment', 'weft-analytics');
    assert.equal(analytics.secret, 'weft-auth');
    assert.equal(analytics.env.WEFT_AUTH_JWKS, 'https://idp.example.com/.well-known/jwks.json');
    assert.deepEqual(tokensOf('DaemonSet', 'weft-vrouter-agent'), analytics, 'the agent as analytics');
  });

  test(
    'rollout safety: probes and resources on every container, PDBs, update strategies',
    each((manifests, set) => {
      const pdbs = manifests.filter((m) => m.object.kind === 'PodDisruptionBudget').map((m) => m.object);
      for (const { object } of workloads(manifests)) {
        const where = `${set}: ${object.kind}/${object.metadata.name}`;
        const pod = object.spec.template.spec;
        assert.ok(
          selects(object.spec.selector.matchLabels, object.spec.template.metadata.labels),
          `${where}: its selector selects its pods`,
        );
        for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
          const { requests, limits } = container.resources ?? {};
          for (const resource of ['cpu', 'memory']) {
            assert.ok(requests?.[resource], `${where}/${container.name}: no ${resource} request`);
            assert.ok(limits?.[resource], `${where}/${container.name}: no ${resource} limit`);
          }
        }
        for (const container of pod.containers) {
          assert.ok(container.livenessProbe, `${where}/${container.name}: no liveness probe`);
          assert.ok(container.readinessProbe, `${where}/${container.name}: no readiness probe`);
          if (container.image.includes('/weft-')) {
            assert.equal(container.livenessProbe.httpGet.path, '/healthz', where);
            assert.equal(container.readinessProbe.httpGet.path, '/readyz', where);
          }
        }
        if (object.kind === 'DaemonSet') {
          assert.equal(object.spec.updateStrategy.type, 'RollingUpdate', where);
          assert.ok(object.spec.updateStrategy.rollingUpdate.maxUnavailable >= 1, `${where}: the rollout can move`);
          continue;
        }
        if (object.kind === 'StatefulSet') assert.equal(object.spec.updateStrategy.type, 'RollingUpdate', where);
        if ((object.spec.replicas ?? 1) > 1) {
          const pdb = pdbs.find((p) => selects(p.spec.selector.matchLabels, object.spec.template.metadata.labels));
          assert.ok(pdb, `${where}: ${object.spec.replicas} replicas and no PodDisruptionBudget`);
          assert.ok(
            pdb.spec.maxUnavailable < object.spec.replicas || pdb.spec.minAvailable >= 1,
            `${where}: its PDB keeps a replica up`,
          );
        }
      }
    }),
  );

  test(
    'no secret in plain values: no Secret rendered, TLS material only mounted from the named Secret',
    each((manifests, set) => {
      assert.equal(manifests.filter((m) => m.object.kind === 'Secret').length, 0, `${set}: the chart makes no Secret`);
      for (const { object } of workloads(manifests)) {
        const pod = object.spec.template.spec;
        for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
          for (const env of container.env ?? []) {
            if (/PASSWORD|SECRET|TOKEN|PRIVATE/.test(env.name)) {
              assert.equal(env.value, undefined, `${set}: ${container.name} ${env.name} has a literal value`);
            }
          }
        }
      }
      const text = JSON.stringify(manifests);
      assert.doesNotMatch(text, /BEGIN [A-Z ]*PRIVATE KEY|BEGIN CERTIFICATE/, `${set}: key material in a manifest`);
    }),
  );

  test(
    "every Weft container's env is declared by its daemon, and every value is one its option accepts",
    each((manifests, set) => {
      let checked = 0;
      for (const { object } of workloads(manifests)) {
        const pod = object.spec.template.spec;
        for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
          const daemon = daemons.find((d) => container.image.includes(`/${d.image}:`));
          // The daemon runs as its image's entrypoint; an init container running a script is not it.
          if (!daemon || container.command) continue;
          checked += 1;
          const where = `${set}: ${object.kind}/${object.metadata.name}/${container.name}`;
          const options = new Map(Object.values(daemon.options).map((item) => [item.env, item]));
          for (const env of container.env ?? []) {
            const option = options.get(env.name);
            assert.ok(option, `${where} sets ${env.name}, which weft-${daemon.name} does not declare`);
            if (env.valueFrom) {
              assert.ok(
                env.valueFrom.secretKeyRef || env.valueFrom.fieldRef,
                `${where}: ${env.name} from a Secret or the pod`,
              );
              continue;
            }
            assert.notEqual(
              option.parse(env.value),
              undefined,
              `${where}: ${env.name}=${env.value}: expected ${option.expected}`,
            );
          }
        }
      }
      assert.ok(checked >= 4, `${set}: the env of ${checked} daemon containers checked`);
    }),
  );

  test('no values file of the chart holds a password, token, key or certificate', () => {
    const valueFiles = [
      join(umbrellaChart, 'values.yaml'),
      ...subcharts.map((name) => join(umbrellaChart, 'charts', name, 'values.yaml')),
      ...valueSets.flatMap((set) => set.files),
    ];
    for (const file of valueFiles) {
      const text = readFileSync(file, 'utf8');
      const secretLike =
        /^\s*(password|passwd|token|apiKey|privateKey|key|cert|certificate|ca|tlsKey|tlsCert)\s*:\s*\S/im;
      assert.doesNotMatch(text, secretLike, `${file} holds a secret-looking value`);
      assert.doesNotMatch(text, /BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)/, `${file} holds key material`);
    }
  });

  test('image tags default to the chart appVersion; a global tag and registry apply to every image', () => {
    const version = appVersion(umbrellaChart);
    for (const { object } of workloads(rendered.get('defaults')!.manifests)) {
      for (const container of object.spec.template.spec.containers) {
        if (!container.image.includes('/weft-')) continue;
        assert.equal(container.image.split(':').at(-1), version, `${object.metadata.name}: ${container.image}`);
      }
    }
    const packageVersion = JSON.parse(readFileSync(join(chartsDir, '..', 'package.json'), 'utf8')).version;
    assert.equal(version, packageVersion, 'the chart deploys the version deploy/images builds and tags');
    for (const name of subcharts.filter((n) => n !== 'nats')) {
      assert.equal(appVersion(join(chartsDir, 'weft', 'charts', name)), version, `${name}'s appVersion`);
    }
    const custom = renderOrThrow(renderer, umbrellaChart, {
      set: ['global.image.registry=registry.example.net/sdn', 'global.image.tag=1.2.3'],
    });
    const images = workloads(custom.manifests).flatMap((m) =>
      m.object.spec.template.spec.containers.map((c: { image: string }) => c.image),
    );
    assert.ok(images.includes('registry.example.net/sdn/weft-config-api:1.2.3'), images.join(' '));
    assert.ok(images.includes('registry.example.net/sdn/weft-vrouter-agent:1.2.3'), images.join(' '));
  });

  test('HA: config-api on a 3-member etcd with 3 replicas, 3 control replicas each with its Service', () => {
    const { manifests } = rendered.get('ha-etcd')!;
    const configApi = find(manifests, 'Deployment', 'weft-config-api');
    assert.equal(configApi.spec.replicas, 3);
    assert.equal(configApi.spec.strategy.rollingUpdate.maxUnavailable, 0, 'a rollout never lowers capacity');
    const container = configApi.spec.template.spec.containers[0];
    assert.equal(envOf(container, 'WEFT_STORE'), 'etcd');
    assert.equal(envOf(container, 'WEFT_ETCD_ENDPOINTS')?.split(',').length, 3);
    assert.ok(
      !manifests.some((m) => m.object.kind === 'PersistentVolumeClaim' && m.object.metadata.name === 'weft-config-api'),
    );
    const etcd = find(manifests, 'StatefulSet', 'weft-config-api-etcd');
    assert.equal(etcd.spec.replicas, 3);
    assert.equal(find(manifests, 'PodDisruptionBudget', 'weft-config-api-etcd').spec.maxUnavailable, 1, 'quorum kept');
    assert.equal(find(manifests, 'StatefulSet', 'weft-control').spec.replicas, 3);
    for (const i of [0, 1, 2]) find(manifests, 'Service', `weft-control-${i}`);
    const agent = find(manifests, 'DaemonSet', 'weft-vrouter-agent').spec.template.spec.containers[0];
    assert.equal(envOf(agent, 'WEFT_AGENT_CONTROL')?.split(',').length, 3);
  });

  test('TLS by default: every Weft daemon and NATS mount the named Secret, HTTP is HTTPS and probed so', () => {
    const { manifests } = rendered.get('defaults')!;
    for (const { object } of workloads(manifests)) {
      const pod = object.spec.template.spec;
      assert.equal(
        pod.volumes?.find((v: { name: string }) => v.name === 'tls')?.secret?.secretName,
        'weft-tls',
        `${object.metadata.name} mounts the TLS Secret`,
      );
      const container = pod.containers[0];
      if (!container.image.includes('/weft-')) continue;
      assert.equal(envOf(container, 'WEFT_TLS_CA'), '/etc/weft/tls/ca.crt', object.metadata.name);
      assert.equal(envOf(container, 'WEFT_HTTP_TLS'), 'true', object.metadata.name);
      assert.match(envOf(container, 'WEFT_NATS_URL') ?? '', /^tls:\/\//);
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        assert.equal(container[probe]?.httpGet?.scheme, 'HTTPS', `${object.metadata.name} ${probe}`);
      }
    }
    // The agents share the Secret's certificate, which cannot name each node: control believes hellos.
    const control = find(manifests, 'StatefulSet', 'weft-control').spec.template.spec.containers[0];
    assert.equal(envOf(control, 'WEFT_CONTROL_AGENT_IDENTITY'), 'hello');
  });

  test('plain text only when asked: no Secret, no HTTPS, plain NATS, and control believes no certificate', () => {
    const { manifests } = rendered.get('plaintext')!;
    for (const { object } of workloads(manifests)) {
      const pod = object.spec.template.spec;
      assert.ok(!pod.volumes?.some((v: { name: string }) => v.name === 'tls'), object.metadata.name);
      const container = pod.containers[0];
      if (!container.image.includes('/weft-')) continue;
      assert.equal(envOf(container, 'WEFT_HTTP_TLS'), undefined, object.metadata.name);
      assert.equal(container.readinessProbe?.httpGet?.scheme, 'HTTP', object.metadata.name);
      assert.match(envOf(container, 'WEFT_NATS_URL') ?? '', /^nats:\/\//);
    }
  });

  test('TLS: every Weft daemon and NATS mount the named Secret, and NATS and etcd speak TLS', () => {
    const { manifests } = rendered.get('tls')!;
    for (const { object } of workloads(manifests)) {
      const pod = object.spec.template.spec;
      const tls = pod.volumes?.find((v: { name: string }) => v.name === 'tls');
      assert.equal(tls?.secret?.secretName, 'weft-tls', `${object.metadata.name} mounts the TLS Secret`);
      const container = pod.containers[0];
      assert.ok(
        container.volumeMounts.some((m: { name: string; readOnly?: boolean }) => m.name === 'tls' && m.readOnly),
        object.metadata.name,
      );
      if (container.image.includes('/weft-')) {
        assert.equal(envOf(container, 'WEFT_TLS_CERT'), '/etc/weft/tls/tls.crt');
        assert.match(envOf(container, 'WEFT_NATS_URL') ?? '', /^tls:\/\//);
      }
    }
    assert.match(find(manifests, 'ConfigMap', 'weft-nats').data['nats.conf'], /tls \{[^}]*verify: true/);
    const etcdArgs = find(manifests, 'StatefulSet', 'weft-config-api-etcd').spec.template.spec.containers[0].args[0];
    assert.match(etcdArgs, /--client-cert-auth/);
    assert.match(etcdArgs, /https:\/\/0\.0\.0\.0:2379/);
    // config-api speaks TLS to etcd with the same Secret, and authenticates as the user of another.
    const configApi = find(manifests, 'Deployment', 'weft-config-api').spec.template.spec.containers[0];
    assert.match(envOf(configApi, 'WEFT_ETCD_ENDPOINTS') ?? '', /^https:\/\//);
    assert.equal(envOf(configApi, 'WEFT_ETCD_CA'), '/etc/weft/tls/ca.crt');
    assert.equal(envOf(configApi, 'WEFT_ETCD_CERT'), '/etc/weft/tls/tls.crt');
    assert.equal(envOf(configApi, 'WEFT_ETCD_KEY'), '/etc/weft/tls/tls.key');
    const password = configApi.env.find((e: { name: string }) => e.name === 'WEFT_ETCD_PASSWORD');
    assert.deepEqual(password.valueFrom.secretKeyRef, { name: 'weft-etcd-auth', key: 'password' });
  });

  test('an external NATS and etcd: no NATS or etcd deployed, the daemons use the given URLs', () => {
    const { manifests } = rendered.get('external-nats')!;
    assert.ok(!manifests.some((m) => m.object.metadata.name.startsWith('weft-nats')), 'no NATS objects');
    assert.ok(!manifests.some((m) => m.object.metadata.name === 'weft-config-api-etcd'), 'no etcd objects');
    const container = find(manifests, 'Deployment', 'weft-config-api').spec.template.spec.containers[0];
    assert.equal(
      envOf(container, 'WEFT_NATS_URL'),
      'nats://nats-0.messaging.svc:4222,nats://nats-1.messaging.svc:4222',
    );
    assert.match(envOf(container, 'WEFT_ETCD_ENDPOINTS') ?? '', /^https:\/\/etcd-0\.storage\.svc:2379,/);
  });

  test('multi-network pods: a NetworkAttachmentDefinition per Weft virtual network', () => {
    const { manifests, notes } = rendered.get('multinet')!;
    const attachments = manifests.filter((m) => m.object.kind === 'NetworkAttachmentDefinition');
    assert.deepEqual(
      attachments.map((m) => [m.object.metadata.name, JSON.parse(m.object.spec.config).network]),
      [
        ['red', 'default-domain:default-project:red'],
        ['blue', 'default-domain:default-project:blue'],
      ],
    );
    assert.match(notes, /k8s\.v1\.cni\.cncf\.io\/networks: red,blue/);
  });

  test('each subchart renders on its own, its objects valid', async () => {
    for (const name of subcharts) {
      const { manifests } = renderOrThrow(renderer, join(umbrellaChart, 'charts', name));
      assert.ok(manifests.length >= 2, `${name} rendered ${manifests.length} objects`);
      for (const { object } of manifests) {
        assert.deepEqual(await kubernetesSchemaProblems(object), [], `${name}: ${object.kind}/${object.metadata.name}`);
      }
    }
  });

  const badValues: { set: string[]; message: RegExp; why: string }[] = [
    {
      set: ['config-api.replicas=3'],
      message: /weft\/charts\/config-api:\n- config-api\.replicas: Must be less than or equal to 1/,
      why: 'SQLite takes one writer',
    },
    {
      set: ['global.tls.secretName='],
      message: /global\.tls\.secretName: String length must be greater than or equal to 1/,
      why: 'TLS without the Secret that holds its certificates',
    },
    {
      set: ['nats.enabled=false'],
      message: /global\.nats\.url: String length must be greater than or equal to 1/,
      why: 'no NATS at all',
    },
    {
      set: ['global.control.replicas=1'],
      message: /global\.control\.replicas: Must be greater than or equal to 2/,
      why: 'control must be redundant',
    },
    {
      set: ['global.image.pullPolicy=Sometimes'],
      message: /global\.image\.pullPolicy: .*must be one of/,
      why: 'a typo',
    },
    {
      set: ['vrouter-agent.updateStrategy.maxUnavailable=0'],
      message: /- vrouter-agent\.updateStrategy\.maxUnavailable: Must be greater than or equal to 1/,
      why: 'a stuck rollout',
    },
    {
      set: ['control.resources.limits=null'],
      message: /weft\/charts\/control:\n- control\.resources: limits is required/,
      why: 'no limits',
    },
    {
      set: ['analytics.retention.age=forever'],
      message: /- analytics\.retention\.age: Does not match pattern/,
      why: 'unbounded disk',
    },
    {
      set: ['nats.replicas=2'],
      message: /- nats\.replicas: replicas must be one of the following: 1, 3, 5/,
      why: 'no Raft quorum',
    },
    {
      set: ['config-api.extraEnv.WEFT_ETCD_PASSWORD=hunter2'],
      message: /- config-api\.extraEnv: Property name of "WEFT_ETCD_PASSWORD" does not match/,
      why: 'a secret in plain values',
    },
    {
      set: ['config-api.replica=2'],
      message: /- config-api: Additional property replica is not allowed/,
      why: 'a misspelt key',
    },
    {
      set: ['config-api.store.kind=etcd', 'config-api.replicas=2', 'config-api.store.etcd.deploy=false'],
      message: /config-api\.store\.etcd\.endpoints is required when store\.etcd\.deploy is false/,
      why: 'etcd without endpoints',
    },
  ];
  for (const { set, message, why } of badValues) {
    test(`rejects ${set.join(' ')} (${why}) with a message naming the field`, () => {
      const outcome = renderChart(renderer, umbrellaChart, { set });
      assert.equal(outcome.ok, false, 'the render must fail');
      assert.match(outcome.stderr, message);
      assert.match(outcome.stderr, /^Error: /, 'one error, as helm prints it');
    });
  }
});

/** Writes a small chart tree (path → text) under dir. */
function writeTree(dir: string, files: Record<string, string>) {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

// The renderer does what helm template does for the features these charts rely on, shown on a
// chart made for the purpose: subchart scoping and globals, defines shared across charts,
// conditions, tpl, required, null deleting a default, -f and --set precedence, schemas.
describe('the renderer, as helm', { skip }, () => {
  const scratch = tempDir('weft-render-');
  let renderer = '';
  const chart = join(scratch.path, 'parent');

  before(() => {
    renderer = buildRenderer(scratch.path);
    writeTree(chart, {
      'Chart.yaml': [
        'apiVersion: v2',
        'name: parent',
        'version: 1.0.0',
        'appVersion: "2.0"',
        'dependencies:',
        '  - {name: child, version: 0.1.0, condition: child.enabled}',
        '  - {name: skipped, version: 0.1.0, condition: skipped.enabled}',
      ].join('\n'),
      'values.yaml': [
        'global: {color: blue}',
        'greeting: hello',
        'template: "{{ .Values.greeting }} from {{ .Release.Namespace }}"',
        'removeMe: here',
        'number: 1',
        'nested: {a: 1, b: [x, z]}',
        'child: {enabled: true, size: 3}',
        'skipped: {enabled: false}',
      ].join('\n'),
      'templates/_helpers.tpl': '{{- define "parent.name" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}',
      'templates/configmap.yaml': [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: {{ include "parent.name" . }}',
        'data:',
        '  greeting: {{ .Values.greeting | quote }}',
        '  tpl: {{ tpl .Values.template . | quote }}',
        '  removed: {{ not (hasKey .Values "removeMe") | quote }}',
        '  number: {{ .Values.number | quote }}',
        '  appVersion: {{ .Chart.AppVersion | quote }}',
        '  template: {{ .Template.Name | quote }}',
        '  nested: |',
        '    {{- toYaml .Values.nested | nindent 4 }}',
      ].join('\n'),
      'charts/child/Chart.yaml': 'apiVersion: v2\nname: child\nversion: 0.1.0\n',
      'charts/child/values.yaml': 'size: 1\nglobal: {color: red, shape: round}\n',
      'charts/child/values.schema.json': JSON.stringify({ properties: { size: { type: 'integer', maximum: 5 } } }),
      'charts/child/templates/configmap.yaml': [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: {{ include "parent.name" . }}',
        'data:',
        '  size: {{ .Values.size | quote }}',
        '  color: {{ .Values.global.color }}',
        '  shape: {{ .Values.global.shape }}',
        '  must: {{ required "child.must is required" .Values.must }}',
      ].join('\n'),
      'charts/skipped/Chart.yaml': 'apiVersion: v2\nname: skipped\nversion: 0.1.0\n',
      'charts/skipped/templates/configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: skipped}\n',
    });
  });
  after(() => scratch.remove());

  test('values are scoped per subchart, globals flow down, defines are shared, conditions hold', () => {
    const override = join(scratch.path, 'override.yaml');
    writeFileSync(override, 'greeting: hi\nnumber: 2\nchild: {must: given}\n');
    const { manifests } = renderOrThrow(renderer, chart, {
      name: 'rel',
      namespace: 'ns1',
      files: [override],
      set: ['number=42', 'removeMe=null'],
    });
    assert.deepEqual(
      manifests.map((m) => m.object.metadata.name),
      ['rel-parent', 'rel-child'],
      'the disabled subchart renders nothing',
    );
    assert.deepEqual(find(manifests, 'ConfigMap', 'rel-parent').data, {
      greeting: 'hi',
      tpl: 'hi from ns1',
      removed: 'true',
      number: '42',
      appVersion: '2.0',
      template: 'parent/templates/configmap.yaml',
      nested: 'a: 1\nb:\n- x\n- z',
    });
    assert.deepEqual(find(manifests, 'ConfigMap', 'rel-child').data, {
      size: '3',
      color: 'blue',
      shape: 'round',
      must: 'given',
    });
  });

  test('required and schema failures stop the render with helm-shaped messages', () => {
    const missing = renderChart(renderer, chart);
    assert.equal(missing.ok, false);
    assert.match(
      missing.stderr,
      /^Error: execution error at \(parent\/charts\/child\/templates\/configmap\.yaml:9:\d+\): child\.must is required/,
    );
    const tooBig = renderChart(renderer, chart, { set: ['child.must=x', 'child.size=9'] });
    assert.equal(tooBig.ok, false);
    assert.match(tooBig.stderr, /parent\/charts\/child:\n- child\.size: Must be less than or equal to 5/);
  });

  test('the YAML output is a manifest stream with the source of each, as helm template prints it', () => {
    const result = spawnSync(renderer, ['--set', 'child.must=x', chart], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /^---\n# Source: parent\/templates\/configmap\.yaml\napiVersion: v1\nkind: ConfigMap\n/,
    );
    assert.match(result.stdout, /\n---\n# Source: parent\/charts\/child\/templates\/configmap\.yaml\n/);
  });
});
