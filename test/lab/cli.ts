#!/usr/bin/env node
// npm run lab -- up [--hosts N] [--modes tc,xdp,…] | down | status | pod add NAME --host H --network NET [--network NET…]
//                | pod del NAME | exec NAME CMD [ARGS…]
// The lab of ../../README.md's tour. Needs root (namespaces, BPF).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../support/stack.js';
import { Lab } from './lab.js';
import { adminTokenFile } from './services.js';
import type { LabDatapathMode } from './topology.js';

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
        options: { hosts: { type: 'string', default: '2' }, modes: { type: 'string', default: '' } },
      });
      const hosts = Number(values.hosts);
      if (!Number.isInteger(hosts) || hosts < 1 || hosts > 200)
        throw new Error(`--hosts ${values.hosts}: expected 1 to 200`);
      const modes = values.modes ? values.modes.split(',') : [];
      const wrong = modes.find((mode) => mode !== 'tc' && mode !== 'xdp');
      if (wrong !== undefined) throw new Error(`--modes: "${wrong}" is not a datapath mode (tc or xdp)`);
      // The tokens where `npm start` keeps them (.weft), so that weftctl's local context sends one.
      const lab = await Lab.up({ hosts, dir, modes: modes as LabDatapathMode[], authDir: join(repoRoot, '.weft') });
      console.log(
        `lab up: ${hosts} hosts; config-api ${lab.config.restUrl}, analytics ${lab.analyticsUrl} (admin token in ${adminTokenFile(lab.authDir)}); logs in ${join(dir, 'logs')}`,
      );
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
          options: { host: { type: 'string' }, network: { type: 'string', multiple: true } },
        });
        if (!values.host || !values.network?.length)
          throw new Error('pod add NAME --host H --network NET [--network NET…]');
        const lab = loaded();
        await lab.addPod(name, values.host, values.network);
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
    default:
      throw new Error(`unknown command ${command ?? '(none)'}: up, down, status, pod, exec`);
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  process.stderr.write(`lab: ${error.message}\n`);
  process.exit(1);
});
