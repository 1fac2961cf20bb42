// The stand-in Kubernetes API server, for tests of anything that talks to the Kubernetes API.
export { type KubeApiServer, type KubeApiServerOptions, startKubeApiServer } from './kube-api-server.js';
export { RESOURCE_TYPES, type ResourceType } from './resources.js';
export type { KubeObject } from './selectors.js';
export { KubeStatusError } from './status.js';
export { KubeStore } from './store.js';
