// Security groups whose rules name a group, and logical routers, end to end in the lab: two
// hosts, pods built by weft-cni, traffic through the BPF datapath, config through REST only.
//   - a group that lets in only its own members: two pods in it talk, a third pod outside it is
//     refused, and once that pod joins the group it is let in within a second, nothing restarted;
//   - two networks attached to one logical router reach each other without a policy, and are
//     cut apart when the router's interfaces are detached.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tempDir, waitFor } from '@weft/kit/testing';
import type { Ref } from '../lab/config-client.js';
import { freeLabPorts, freeUnderlaySubnet, Lab, labUnavailable } from '../lab/lab.js';

const skip = labUnavailable();
let lab: Lab;
let dir: ReturnType<typeof tempDir>;

function reaches(from: string, address: string, waitSeconds = 1): boolean {
  try {
    lab.exec(from, 'ping', ['-c', '1', '-W', String(waitSeconds), address]);
    return true;
  } catch {
    return false;
  }
}

async function eventually(from: string, address: string, expected: boolean, what: string, timeoutMs = 15_000) {
  await waitFor(() => reaches(from, address, 0.2) === expected, { timeoutMs, intervalMs: 50, what });
}

before(async () => {
  if (skip) return;
  dir = tempDir('weft-lab-groups-');
  const ports = await freeLabPorts();
  lab = await Lab.up({
    name: `wfg${process.pid % 100_000}`,
    hosts: 2,
    subnet: freeUnderlaySubnet(20 + ((process.pid + 101) % 200)),
    dir: dir.path,
    ports,
  });
});

after(async () => {
  if (skip || !lab) return;
  await lab.down();
  dir.remove();
});

test('a group that lets in only its members: two pods in it talk, a third outside is refused until it joins', {
  skip,
}, async () => {
  await lab.config.createNetwork('guarded', '10.41.0.0/24');
  const group = await lab.config.createMembersOnlyGroup('members-only');
  const interfaceOf = (pod: string) => lab.pods.find((item) => item.name === pod)!.config!.interfaces[0]!;
  await lab.addPod('g1', 'h1', ['guarded']);
  await lab.addPod('g2', 'h2', ['guarded']);
  await lab.addPod('g3', 'h2', ['guarded']);
  for (const pod of ['g1', 'g2']) await lab.config.setSecurityGroups(interfaceOf(pod), [group]);
  const [g1, g2] = [lab.podAddress('g1', 'guarded'), lab.podAddress('g2', 'guarded')];

  await eventually('g1', g2, true, 'g1 to reach g2, a member on the other host');
  await eventually('g2', g1, true, 'g2 to reach g1');
  await eventually('g3', g1, false, 'g3, outside the group, to be refused by g1');
  assert.equal(reaches('g3', g2), false, 'g3 is refused by g2 on its own host');

  const agentsBefore = lab.processIds();
  await lab.config.setSecurityGroups(interfaceOf('g3'), [group]);
  const joined = Date.now();
  // The members' ACLs now hold g3's address: it is let in within a second.
  await waitFor(() => reaches('g3', g1, 0.1) && reaches('g3', g2, 0.1), {
    timeoutMs: 1_000,
    intervalMs: 10,
    what: 'g3, now a member, to reach g1 and g2 within a second of joining',
  });
  process.stdout.write(`# g3 let in ${Date.now() - joined} ms after joining the group\n`);
  assert.deepEqual(lab.processIds(), agentsBefore, 'nothing was restarted');
});

test('two networks on a logical router reach each other, and are cut apart when it is detached', {
  skip,
}, async () => {
  const left = await lab.config.createNetwork('left', '10.42.0.0/24');
  const right = await lab.config.createNetwork('right', '10.43.0.0/24');
  await lab.addPod('l1', 'h1', ['left']);
  await lab.addPod('r1', 'h2', ['right']);
  const [l1, r1] = [lab.podAddress('l1', 'left'), lab.podAddress('r1', 'right')];
  await eventually('l1', lab.podAddress('l1', 'left'), true, 'l1 to be up');
  assert.equal(reaches('l1', r1), false, 'without a router or a policy, left and right are apart');

  const interfaces: Ref[] = [
    await lab.config.createRouterInterface('router-left', left),
    await lab.config.createRouterInterface('router-right', right),
  ];
  const router = await lab.config.createLogicalRouter('left-right', interfaces);
  await eventually('l1', r1, true, 'l1 to reach r1 across the logical router');
  await eventually('r1', l1, true, 'r1 to reach l1');

  await lab.config.setRouterInterfaces(router, []);
  await eventually('l1', r1, false, 'l1 to lose r1 once the router is detached');
  assert.equal(reaches('r1', l1), false, 'and r1 to lose l1');

  await lab.config.setRouterInterfaces(router, interfaces);
  await eventually('l1', r1, true, 'l1 to reach r1 again when attached again');
});
