// Where the built datapath lives: the BPF objects and the addon that native/build.mjs makes.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** services/vrouter-agent, from dist/datapath/ (compiled) as from src/datapath/. */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
export const bpfSourceDir = join(packageRoot, 'bpf');
export const bpfObjectDir = join(packageRoot, 'native', 'build', 'bpf');
export const addonPath = join(packageRoot, 'native', 'build', 'Release', 'weft_bpf.node');

/** The BPF objects of the datapath, one per attach point. */
export const objects = {
  podEgress: join(bpfObjectDir, 'pod_egress.o'),
  underlayIngress: join(bpfObjectDir, 'underlay_ingress.o'),
  pass: join(bpfObjectDir, 'xdp_pass.o'),
  podEgressTc: join(bpfObjectDir, 'pod_egress_tc.o'),
  tunnelIngressTc: join(bpfObjectDir, 'tunnel_ingress_tc.o'),
  underlayGuard: join(bpfObjectDir, 'underlay_guard.o'),
} as const;

/** The script that programs one lab host's datapath from inside its namespace (lab-host.ts). */
export const labHostScript = join(packageRoot, 'dist', 'datapath', 'lab-host.js');
