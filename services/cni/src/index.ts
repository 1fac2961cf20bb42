// @weft/cni: the plugin's dispatcher and the spec's error codes, for the lab and tests.
export { CniCode, CniError } from './errors.js';
export { type CniResult, SUPPORTED_VERSIONS } from './netconf.js';
export { hostIfnameFor } from './pod-network.js';
export { type PluginOutcome, runPlugin } from './skel.js';
