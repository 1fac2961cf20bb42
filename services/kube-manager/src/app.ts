// weft-kube-manager, built from its options: informers on namespaces, pods,
// NetworkAttachmentDefinitions, NetworkPolicies, Services and EndpointSlices; a work queue of keys
// ("namespace/<name>", "pod/<ns>/<name>", "policy/<ns>/<name>", "service/<ns>/<name>");
// the reconcilers that turn each key into config through config-api's REST API. Nothing is
// reconciled — and so nothing deleted — before every informer has listed once; then every object
// is queued, and every object the manager made whose Kubernetes object is gone.
//
//   namespaces ─┐                      ┌─ ProjectReconciler ─┐
//   pods ───────┼─ keys ─► WorkQueue ──┤                     ├─► config-api (REST)
//   attachments ┘  (pods that name it) └─ PodReconciler ─────┘
//                                             └─► pod annotation network-status (PATCH)
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  type KubernetesObject,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1EndpointSlice,
  type V1Namespace,
  type V1NetworkPolicy,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { createHttpApp, type Logger, type Metrics, type Readiness, type TlsFiles } from '@weft/kit';
import { keyValueOf } from '@weft/model';
import { ConfigApi } from './config/config-api.js';
import { type Informer, kubeConfigFor, startInformer } from './kube/informers.js';
import { LeaderElection } from './kube/leader-election.js';
import { NETWORK_STATUS_ANNOTATION, NETWORKS_ANNOTATION, parseNetworkSelection } from './kube/network-selection.js';
import {
  type NetworkPolicyLike,
  NetworkPolicyReconciler,
  PolicySpecError,
  podGroups,
} from './reconcile/network-policies.js';
import { OWNER_ANNOTATION, PodReconciler, PodSpecError } from './reconcile/pods.js';
import { ProjectReconciler } from './reconcile/projects.js';
import {
  type EndpointSliceLike,
  SERVICE_NAME_LABEL,
  type ServiceLike,
  ServiceReconciler,
  serviceOfObjectName,
} from './reconcile/services.js';
import { WorkQueue } from './reconcile/work-queue.js';

export interface KubeManagerOptions {
  kubeApiUrl: string;
  configApiUrl: string;
  /** The token sent to config-api: a file read at every request, else this token; neither for no-auth. */
  configApiTokenFile?: string;
  configApiToken?: string;
  projectMode: 'namespace' | 'cluster';
  clusterProject: string;
  podNetwork: string;
  workers: number;
  leaderElection: boolean;
  leaseNamespace: string;
  leaseName: string;
  leaseDuration: number;
  identity: string;
}

export interface KubeManagerDeps {
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  /** HTTPS for health and metrics (WEFT_HTTP_TLS); plain HTTP when not given. */
  httpTls?: TlsFiles;
  /** WEFT_TLS_*: its CA is trusted for config-api's HTTPS. */
  tls?: TlsFiles;
  /** Called when leadership is lost; main exits, so that the Deployment starts a fresh replica. */
  onLeadershipLost?: () => void;
}

export const NAD_GROUP = 'k8s.cni.cncf.io';

interface NetworkAttachment extends KubernetesObject {
  spec?: { config?: string };
}

/** What of a pod the manager acts on: a change elsewhere (status, labels) queues nothing. */
function podFingerprint(pod: V1Pod): string {
  return JSON.stringify([
    pod.metadata?.uid,
    pod.spec?.nodeName,
    pod.spec?.hostNetwork,
    pod.status?.phase,
    pod.metadata?.labels,
    pod.metadata?.annotations?.[NETWORKS_ANNOTATION],
    pod.metadata?.annotations?.[NETWORK_STATUS_ANNOTATION],
  ]);
}

export function buildKubeManager(options: KubeManagerOptions, deps: KubeManagerDeps) {
  const { logger, metrics, readiness } = deps;
  const kubeConfig = kubeConfigFor(options.kubeApiUrl);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const networking = kubeConfig.makeApiClient(NetworkingV1Api);
  const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  const config = new ConfigApi(options.configApiUrl, deps.tls, {
    file: options.configApiTokenFile,
    token: options.configApiToken,
  });
  const app = createHttpApp({ logger, readiness, metrics, tls: deps.httpTls });

  const reconciles = metrics.counter('reconciles_total', 'reconciles by kind and result', ['kind', 'result']);
  const reconcileSeconds = metrics.histogram('reconcile_seconds', 'time of one reconcile', ['kind']);
  let queue: WorkQueue | undefined;
  metrics.gauge('queue_depth', 'keys waiting, running or due for a retry', [], (gauge) =>
    gauge.set(queue?.length ?? 0),
  );

  let synced = false;
  let informers: {
    namespaces: Informer<V1Namespace>;
    pods: Informer<V1Pod>;
    attachments: Informer<NetworkAttachment>;
    policies: Informer<V1NetworkPolicy>;
    services: Informer<V1Service>;
    slices: Informer<V1EndpointSlice>;
  };
  const election = options.leaderElection
    ? new LeaderElection(
        kubeConfig.makeApiClient(CoordinationV1Api),
        {
          namespace: options.leaseNamespace,
          name: options.leaseName,
          identity: options.identity,
          leaseDurationMs: options.leaseDuration,
        },
        logger.child({ component: 'leader-election' }),
      )
    : undefined;
  // A replica that waits for the Lease is ready (healthy, standing by): were it not, a rolling
  // update, whose new replica waits for the old one's Lease, would never finish.
  readiness.declare('kubernetes', () =>
    (election && !election.leading) || synced ? undefined : 'informers not yet synced',
  );

  const projects = new ProjectReconciler(
    config,
    options.projectMode,
    options.clusterProject,
    (name) => informers.namespaces.cache.get(name) !== undefined,
  );
  const policySources = {
    policies: () => informers.policies.cache.list() as NetworkPolicyLike[],
    namespaceLabels: (name: string) => informers.namespaces.cache.get(name)?.metadata?.labels,
    projectOf: (namespace: string) => projects.projectOf(namespace),
    ensureProject: (namespace: string) => projects.ensure(namespace),
  };
  const policies = new NetworkPolicyReconciler(
    config,
    policySources,
    (namespace, name) => informers.policies.cache.get(name, namespace) as NetworkPolicyLike | undefined,
  );
  const pods = new PodReconciler(
    config,
    {
      pod: (namespace, name) => informers.pods.cache.get(name, namespace),
      attachment: (namespace, name) => informers.attachments.cache.get(name, namespace),
      ensureProject: (namespace) => projects.ensure(namespace),
      async securityGroups(pod) {
        const groups = podGroups({ namespace: pod.metadata!.namespace!, labels: pod.metadata?.labels }, policySources);
        const project = projects.projectOf(pod.metadata!.namespace!);
        for (const [direction, name] of [
          ['ingress', 'k8s-allow-ingress'],
          ['egress', 'k8s-allow-egress'],
        ] as const) {
          if (groups.some((fq) => fq.join(':') === [...project, name].join(':'))) {
            await policies.ensureAllowGroup(project, direction);
          }
        }
        return groups;
      },
      async annotatePod(namespace, name, annotations) {
        await core.patchNamespacedPod(
          { name, namespace, body: { metadata: { annotations } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      },
    },
    options.podNetwork.split(':'),
  );
  const services = new ServiceReconciler(
    config,
    {
      service: (namespace, name) => informers.services.cache.get(name, namespace) as ServiceLike | undefined,
      slices: (namespace, name) =>
        informers.slices.cache
          .list(namespace)
          .filter((slice) => slice.metadata?.labels?.[SERVICE_NAME_LABEL] === name) as EndpointSliceLike[],
      ensureProject: (namespace) => projects.ensure(namespace),
      projectOf: (namespace) => projects.projectOf(namespace),
    },
    options.podNetwork.split(':'),
  );
  const podLog = logger.child({ component: 'pods' });

  async function reconcile(key: string): Promise<void> {
    const [kind, ...rest] = key.split('/');
    const stop = reconcileSeconds.startTimer({ kind });
    try {
      if (kind === 'namespace') await projects.reconcile(rest[0]!);
      else if (kind === 'service') await services.reconcile(rest[0]!, rest[1]!);
      else if (kind === 'policy') {
        await policies.reconcile(rest[0]!, rest[1]!);
        // Which pods a policy selects, and which it names as peers, may have changed.
        for (const pod of informers.pods.cache.list()) queue?.add(podKey(pod));
      } else await pods.reconcile(rest[0]!, rest[1]!);
      reconciles.inc({ kind, result: 'ok' });
    } catch (error) {
      if (error instanceof PodSpecError || error instanceof PolicySpecError) {
        // The pod must change first; its next change queues it again.
        podLog.warn({ pod: rest.join('/'), reason: error.message }, 'pod not set up');
        reconciles.inc({ kind, result: 'invalid' });
        return;
      }
      reconciles.inc({ kind, result: 'error' });
      // The project may be what is missing: ask config-api again next time.
      if (kind !== 'namespace') projects.forget(rest[0]!);
      throw error;
    } finally {
      stop();
    }
  }

  const podKey = (pod: V1Pod) => `pod/${pod.metadata?.namespace}/${pod.metadata?.name}`;
  function queuePodsNaming(attachment: NetworkAttachment): void {
    for (const pod of informers.pods.cache.list()) {
      const value = pod.metadata?.annotations?.[NETWORKS_ANNOTATION];
      if (!value) continue;
      try {
        const names = parseNetworkSelection(value, pod.metadata!.namespace!);
        if (
          names.some(
            (item) => item.name === attachment.metadata?.name && item.namespace === attachment.metadata?.namespace,
          )
        )
          queue?.add(podKey(pod));
      } catch {}
    }
  }

  async function run(): Promise<void> {
    const path = `/apis/${NAD_GROUP}/v1/network-attachment-definitions`;
    informers = {
      namespaces: startInformer(kubeConfig, '/api/v1/namespaces', () => core.listNamespace(), logger),
      pods: startInformer(kubeConfig, '/api/v1/pods', () => core.listPodForAllNamespaces(), logger),
      attachments: startInformer<NetworkAttachment>(
        kubeConfig,
        path,
        () =>
          custom.listClusterCustomObject({ group: NAD_GROUP, version: 'v1', plural: 'network-attachment-definitions' }),
        logger,
      ),
      policies: startInformer(
        kubeConfig,
        '/apis/networking.k8s.io/v1/networkpolicies',
        () => networking.listNetworkPolicyForAllNamespaces(),
        logger,
      ),
      services: startInformer(kubeConfig, '/api/v1/services', () => core.listServiceForAllNamespaces(), logger),
      slices: startInformer(
        kubeConfig,
        '/apis/discovery.k8s.io/v1/endpointslices',
        () => discovery.listEndpointSliceForAllNamespaces(),
        logger,
      ),
    };
    informers.services.cache.on('change', (service) =>
      queue?.add(`service/${service.metadata?.namespace}/${service.metadata?.name}`),
    );
    // A slice (added, changed or deleted) belongs to the Service its label names.
    informers.slices.cache.on('change', (slice) => {
      const name = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (name) queue?.add(`service/${slice.metadata?.namespace}/${name}`);
    });
    // A namespace's labels decide which policies' namespaceSelectors take in its pods.
    const namespaceLabels = new Map<string, string>();
    informers.namespaces.cache.on('change', (namespace) => {
      const name = namespace.metadata?.name ?? '';
      queue?.add(`namespace/${name}`);
      const labels = JSON.stringify(namespace.metadata?.labels ?? {});
      if (namespaceLabels.get(name) !== labels) {
        namespaceLabels.set(name, labels);
        if (queue) for (const pod of informers.pods.cache.list()) queue.add(podKey(pod));
      }
    });
    informers.policies.cache.on('change', (policy) =>
      queue?.add(`policy/${policy.metadata?.namespace}/${policy.metadata?.name}`),
    );
    // The informer's update hands over only the new pod: what the last one was is kept here.
    const seen = new Map<string, string>();
    informers.pods.cache.on('add', (pod) => {
      seen.set(podKey(pod), podFingerprint(pod));
      queue?.add(podKey(pod));
    });
    informers.pods.cache.on('delete', (pod) => {
      seen.delete(podKey(pod));
      queue?.add(podKey(pod));
    });
    informers.pods.cache.on('update', (pod) => {
      const fingerprint = podFingerprint(pod);
      if (seen.get(podKey(pod)) === fingerprint) return;
      seen.set(podKey(pod), fingerprint);
      queue?.add(podKey(pod));
    });
    informers.attachments.cache.on('change', (attachment) => queuePodsNaming(attachment));

    await Promise.all(Object.values(informers).map((informer) => informer.synced));
    queue = new WorkQueue(reconcile, {
      workers: options.workers,
      onError: (key, error, attempt) =>
        podLog.warn(
          { key, attempt, err: error instanceof Error ? error.message : error },
          'reconcile failed; retrying',
        ),
    });
    for (const namespace of informers.namespaces.cache.list()) queue.add(`namespace/${namespace.metadata?.name}`);
    for (const policy of informers.policies.cache.list())
      queue.add(`policy/${policy.metadata?.namespace}/${policy.metadata?.name}`);
    for (const pod of informers.pods.cache.list()) queue.add(podKey(pod));
    for (const service of informers.services.cache.list())
      queue.add(`service/${service.metadata?.namespace}/${service.metadata?.name}`);
    // What the manager made for objects that went away while it was not watching.
    for (const vm of await config.list('virtual-machine')) {
      if (keyValueOf(vm.annotations as never, OWNER_ANNOTATION) === undefined) continue;
      const [namespace, name] = String(vm.fq_name[0]).split('/');
      if (namespace && name && !informers.pods.cache.get(name, namespace)) queue.add(`pod/${namespace}/${name}`);
    }
    if (options.projectMode === 'namespace') {
      for (const project of await config.list('project')) {
        if (keyValueOf(project.annotations as never, OWNER_ANNOTATION) === undefined) continue;
        const namespace = project.fq_name[1]!;
        if (!informers.namespaces.cache.get(namespace)) queue.add(`namespace/${namespace}`);
      }
    }
    for (const group of await config.list('security-group')) {
      // k8s-np__<namespace>__<name>[__<peer>]: Kubernetes names hold no "__".
      const [tag, namespace, name] = (group.fq_name.at(-1) ?? '').split('__');
      if (tag === 'k8s-np' && namespace && name && !informers.policies.cache.get(name, namespace))
        queue.add(`policy/${namespace}/${name}`);
    }
    for (const lb of await config.list('loadbalancer')) {
      const service = serviceOfObjectName(lb.fq_name.at(-1) ?? '');
      if (service && !informers.services.cache.get(service.name, service.namespace))
        queue.add(`service/${service.namespace}/${service.name}`);
    }
    synced = true;
    logger.info(
      { namespaces: informers.namespaces.cache.list().length, pods: informers.pods.cache.list().length },
      'informers synced; reconciling',
    );
  }

  return {
    app,
    /** Waits for the Lease (when elected), then lists, watches and reconciles until close(). */
    async start(): Promise<void> {
      if (election) await election.acquire(() => deps.onLeadershipLost?.());
      if (election && !election.leading) return;
      await run();
    },
    /** Resolves once the queue is empty (for tests and benchmarks). */
    async idle(): Promise<void> {
      await queue?.idle();
    },
    get synced() {
      return synced;
    },
    async close(): Promise<void> {
      queue?.stop();
      if (informers) for (const informer of Object.values(informers)) informer.stop();
      await election?.release();
      await app.close();
    },
  };
}

export type KubeManager = ReturnType<typeof buildKubeManager>;
