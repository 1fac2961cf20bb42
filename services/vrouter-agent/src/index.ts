// @weft/vrouter-agent's public surface: what tests and benchmarks of other packages may use.
export * from './datapath/bpffs.js';
export { type CleanupReport, cleanupHost } from './datapath/cleanup.js';
export * from './datapath/datapath.js';
export * from './datapath/host-datapath.js';
export * from './datapath/host-fixture.js';
export { hostView, type LabHostSpec } from './datapath/lab-host.js';
export { BPF_ANY, BPF_EXIST, BPF_NOEXIST, BpfMap } from './datapath/map.js';
export { datapathMissing } from './datapath/native.js';
export { UnderlayNeighbours } from './datapath/neighbours.js';
export * as packets from './datapath/packets.js';
export { labHostScript } from './datapath/paths.js';
export { POD_OFFLOADS, podOffloads, setPodOffloads } from './datapath/pod-offloads.js';
export * from './datapath/reconciler.js';
export * from './datapath/test-links.js';
export { TcAction, type XdpTestRun, type XdpTestRunOptions } from './datapath/test-run.js';
export * from './datapath/xdp.js';
export { errors } from './errors.js';
export * as maps from './maps/index.js';
