// Every option of weft-kube-manager, declared once: main.ts reads them, --help and the README's
// table are made from them, and the chart and the image runner are checked against them
// (test/e2e/options.test.ts, test/e2e/charts.test.ts).
import { hostname } from 'node:os';
import { commonOptions, configApiTokenOptions, option } from '@weft/kit';

export const kubeManagerOptions = {
  kubeApiUrl: option.string(
    'WEFT_KUBE_API_URL',
    "URL of the Kubernetes API; empty: the pod's service account in a cluster, else KUBECONFIG",
    '',
  ),
  ...configApiTokenOptions('kube-manager'),
  configApiUrl: option.urls(
    'WEFT_CONFIG_API_URL',
    "config-api's REST URL",
    ['http://127.0.0.1:8082'],
    ['http', 'https'],
  ),
  projectMode: option.oneOf(
    'WEFT_KUBE_PROJECT_MODE',
    'namespace: a project per namespace; cluster: one project (WEFT_KUBE_CLUSTER_PROJECT) for all',
    ['namespace', 'cluster'] as const,
    'namespace',
  ),
  clusterProject: option.required(
    'WEFT_KUBE_CLUSTER_PROJECT',
    'the project (under default-domain) of every namespace in cluster mode',
    'k8s',
  ),
  podNetwork: option.required(
    'WEFT_KUBE_POD_NETWORK',
    "fq_name of the pods' default network (domain:project:name); a bare network name in an attachment is looked up in its project",
    'default-domain:default-project:pod-network',
  ),
  httpPort: option.port('WEFT_KUBE_MANAGER_HTTP_PORT', 'HTTP port for health and metrics', 8108, { listen: 'tcp' }),
  httpHost: option.string('WEFT_KUBE_MANAGER_HTTP_HOST', 'HTTP listen address', '0.0.0.0'),
  workers: option.integer('WEFT_KUBE_MANAGER_WORKERS', 'objects reconciled at once', 8, 1, 256),
  leaderElection: option.boolean(
    'WEFT_KUBE_LEADER_ELECTION',
    'take a Lease before acting, so that only one replica of several acts',
    true,
  ),
  leaseNamespace: option.required('WEFT_KUBE_LEASE_NAMESPACE', 'namespace of the leader-election Lease', 'kube-system'),
  leaseName: option.required('WEFT_KUBE_LEASE_NAME', 'name of the leader-election Lease', 'weft-kube-manager'),
  leaseDuration: option.duration(
    'WEFT_KUBE_LEASE_DURATION',
    'a leader that has not renewed its Lease for this long loses it',
    15_000,
  ),
  identity: {
    ...option.required('WEFT_KUBE_MANAGER_IDENTITY', 'holder identity of this replica in the Lease', hostname()),
    shownDefault: 'the host name',
  },
};

/** Everything weft-kube-manager takes: the kit's common options and its own. */
export const declaredOptions = { ...commonOptions, ...kubeManagerOptions };
