// @weft/kube-manager: the daemon's parts, for tests and benchmarks that run it in-process.
export { buildKubeManager, type KubeManager, type KubeManagerOptions } from './app.js';
export { NETWORK_STATUS_ANNOTATION, NETWORKS_ANNOTATION, parseNetworkSelection } from './kube/network-selection.js';
export { declaredOptions, kubeManagerOptions } from './options.js';
