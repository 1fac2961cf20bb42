// A lab of the fault cases' own: a name, underlay subnet, ports and folder no other run uses, so
// that fault tests meet nothing another test (or a crashed run) left behind.
import { freePort, tempDir } from '@weft/kit/testing';
import { freeUnderlaySubnet, Lab } from '../lab/lab.js';
import type { LabPorts } from '../lab/services.js';

export interface FaultLab {
  lab: Lab;
  ports: LabPorts;
  down: () => Promise<void>;
}

export async function upFaultLab(tag: string, hosts: number): Promise<FaultLab> {
  const dir = tempDir(`weft-faults-${tag}-`);
  const ports: LabPorts = {
    nats: await freePort(),
    configRest: await freePort(),
    configGrpc: await freePort(),
    control: await freePort(),
    controlHttp: await freePort(),
    analytics: await freePort(),
    agentHttp: await freePort(),
    bgpApi: await freePort(),
  };
  // Underlay subnets 220-249 are the fault cases' (the other lab tests take 20-219), the first
  // one free from where the tag points: two fault files of one run, or a lab a killed run left
  // behind, picked the same subnet by pid alone and cut each other's controller off. Link names have 15 characters: `<name>-ctl` fits.
  const spread = [...tag].reduce((sum, char) => sum + char.charCodeAt(0), 0);
  const lab = await Lab.up({
    name: `wf${tag.slice(0, 4)}${process.pid % 1000}`,
    hosts,
    subnet: freeUnderlaySubnet(220 + ((process.pid + spread) % 30), 220, 249),
    dir: dir.path,
    ports,
  });
  return {
    lab,
    ports,
    down: async () => {
      await lab.down();
      dir.remove();
    },
  };
}
