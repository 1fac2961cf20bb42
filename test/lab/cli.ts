#!/usr/bin/env node
// npm run lab -- up [--hosts N] [--modes tc,xdp,…] [--gateway] [--kube URL [--pod-network NET]] | down | status
//                | pod add NAME --host H --network NET [--network NET…] [--label KEY=VALUE…]
//                | pod del NAME | exec NAME CMD [ARGS…]
//                | upgrade --from REF [--hosts N] [--cache DIR] [--keep N]
//   --keep N: built trees the cache keeps (the N most recently used, 3 by default; the rest
//   deleted after a build, never one in use)
// The lab of ../../README.md's tour. Needs root (namespaces, BPF).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../support/stack.js';
import { Lab } from './lab.js';
import { DEFAULT_REF_CACHE_KEEP } from './ref-cache.js';
import { adminTokenFile } from './services.js';
import type { LabDatapathMode } from './topology.js';
import { builtTree, commitOf, DEFAULT_REF_CACHE, formatReport, rollout, upLabOf } from './upgrade.js';

const dir = process.env.WEFT_LAB_DIR ?? join(repoRoot, '.weft', 'lab');

function loaded(): Lab {
  const lab = Lab.load(dir);
  if (!lab) throw new Error('no lab is up: run `npm run lab -- up` first');
  return lab;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      const { values } = parseArgs({
        args: rest,
        options: {
          hosts: { type: 'string', default: '2' },
          modes: { type: 'string', default: '' },
          // A Kubernetes API (the stand-in of @weft/kube-manager/testing, or kubectl proxy's):
          // weft-kube-manager runs, and `pod add` creates Pods there, then calls weft-cni.
          kube: { type: 'string' },
          'pod-network': { type: 'string', default: 'pod-network' },
          // A gateway router (FRR) between the underlay and an "outside" namespace, BGP with control.
          gateway: { type: 'boolean', default: false },
        },
      });
      const hosts = Number(values.hosts);
      if (!Number.isInteger(hosts) || hosts < 1 || hosts > 200)
        throw new Error(`--hosts ${values.hosts}: expected 1 to 200`);
      const modes = values.modes ? values.modes.split(',') : [];
      const wrong = modes.find((mode) => mode !== 'tc' && mode !== 'xdp');
      if (wrong !== undefined) throw new Error(`--modes: "${wrong}" is not a datapath mode (tc or xdp)`);
      const kube = values.kube ? { url: values.kube, podNetwork: values['pod-network'] } : undefined;
      const lab = await Lab.up({
        hosts,
        dir,
        modes: modes as LabDatapathMode[],
        gateway: values.gateway,
        ...(kube ? { kube } : {}),
        // The tokens where `npm start` keeps them (.weft), so that weftctl's local context sends one.
        authDir: join(repoRoot, '.weft'),
      });
      console.log(
        `lab up: ${hosts} hosts; config-api ${lab.config.restUrl}, analytics ${lab.analyticsUrl} (admin token in ${adminTokenFile(lab.authDir)}); logs in ${join(dir, 'logs')}`,
      );
      if (kube) {
        console.log(
          `on Kubernetes at ${kube.url}: create the virtual network ${kube.podNetwork} (every pod's eth0) before adding pods`,
        );
      }
      const gateway = lab.topology.gateway;
      if (gateway)
        console.log(
          `gateway: FRR in ${gateway.netns} (${gateway.underlayAddress}, AS ${gateway.asn}; \`ip netns exec ${gateway.netns} vtysh -N ${gateway.netns}\`), outside client ${gateway.outsideClientAddress} in ${gateway.outsideNetns}`,
        );
      console.log(`gRPC and NATS run mutual TLS; the lab's certificate authority and identities are in ${lab.tlsDir}`);
      return;
    }
    case 'down': {
      const lab = Lab.load(dir);
      if (lab) await lab.down();
      console.log('lab down');
      return;
    }
    case 'status': {
      const status = await loaded().status();
      for (const host of status.hosts) {
        console.log(
          `${host.name}  underlay ${host.underlay}  agent ${host.agent}  ${host.ready ? 'synced' : 'NOT synced'}`,
        );
      }
      for (const pod of status.pods) console.log(`pod ${pod.name} on ${pod.host}: ${pod.networks.join(', ')}`);
      return;
    }
    case 'pod': {
      const [verb, name, ...options] = rest;
      if (!name) throw new Error('pod add|del NAME …');
      if (verb === 'add') {
        const { values } = parseArgs({
          args: options,
          options: {
            host: { type: 'string' },
            network: { type: 'string', multiple: true },
            // The Pod's labels, in a lab on Kubernetes (what NetworkPolicies select): KEY=VALUE.
            label: { type: 'string', multiple: true },
          },
        });
        if (!values.host || !values.network?.length)
          throw new Error('pod add NAME --host H --network NET [--network NET…]');
        const lab = loaded();
        const labels: Record<string, string> = {};
        for (const label of values.label ?? []) {
          const [key, value, ...rest] = label.split('=');
          if (!key || value === undefined || rest.length > 0) throw new Error(`--label ${label}: expected KEY=VALUE`);
          labels[key] = value;
        }
        await lab.addPod(name, values.host, values.network, { labels });
        for (const network of values.network) console.log(`${name} on ${network}: ${lab.podAddress(name, network)}`);
      } else if (verb === 'del') {
        await loaded().deletePod(name);
      } else throw new Error(`pod ${verb}: expected add or del`);
      return;
    }
    case 'exec': {
      const [name, program, ...args] = rest;
      if (!name || !program) throw new Error('exec POD CMD [ARGS…]');
      process.stdout.write(loaded().exec(name, program, args));
      return;
    }
    case 'upgrade': {
      // A lab of REF's daemons (REF built once into the cache), upgraded to this checkout under
      // a workload; the lab stays up afterwards, all of it this checkout's.
      const { values } = parseArgs({
        args: rest,
        options: {
          from: { type: 'string' },
          hosts: { type: 'string', default: '2' },
          cache: { type: 'string', default: DEFAULT_REF_CACHE },
          // Built trees are ~1 GB each: after a build, only the N most recently used stay.
          keep: { type: 'string', default: String(DEFAULT_REF_CACHE_KEEP) },
        },
      });
      const keep = Number(values.keep);
      if (!Number.isInteger(keep) || keep < 1 || keep > 1000)
        throw new Error(`--keep ${values.keep}: expected 1 to 1000 (built trees the cache keeps)`);
      if (!values.from) throw new Error('upgrade --from REF: REF is the commit to upgrade from');
      const hosts = Number(values.hosts);
      if (!Number.isInteger(hosts) || hosts < 2 || hosts > 200)
        throw new Error(`--hosts ${values.hosts}: expected 2 to 200 (the pods that ping sit on two hosts)`);
      const from = commitOf(values.from);
      const log = (line: string) => console.log(line);
      const tree = builtTree(from, { cacheDir: values.cache, keep, log });
      const lab = await upLabOf(tree, { hosts, dir });
      log(`lab up with ${from.slice(0, 12)}'s daemons; rolling out this checkout`);
      console.log(formatReport(await rollout(lab, from, log)));
      console.log("the lab stays up (all of it this checkout's now): `npm run lab -- down` when done");
      return;
    }
    default:
      throw new Error(`unknown command ${command ?? '(none)'}: up, down, status, pod, exec, upgrade`);
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  process.stderr.write(`lab: ${error.message}\n`);
  process.exit(1);
});
