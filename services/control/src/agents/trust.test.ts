// Control believes an agent only where config agrees: the host config binds an interface to, and
// the addresses config allocated to it. Driven through the hub with a real compilation graph.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '@weft/kit/testing';
import { instanceIp, machineInterface, stored, virtualMachine, virtualNetwork } from '../testing/fixtures.js';
import { hubRig, portUp } from '../testing/hub-rig.js';

const red = virtualNetwork('red', { prefix: '10.7.0.0', vni: 7001, networkId: 71 });
const RED = 'default-domain:admin:red:red';
const podA = virtualMachine('pod-a');
const podB = virtualMachine('pod-b');
const vmiA = machineInterface('pod-a-red', { network: red, vm: podA, host: 'host-a', mac: '02:00:00:00:07:01' });
const vmiB = machineInterface('pod-b-red', { network: red, vm: podB, host: 'host-b', mac: '02:00:00:00:07:02' });
const ipA = instanceIp('10.7.0.3', vmiA, red);
const ipB = instanceIp('10.7.0.4', vmiB, red);

const upOf = (uuid: string, addresses: string[], mac = '02:00:00:00:07:99') => portUp(uuid, addresses, mac);

function setup(claimGraceMs = 0) {
  const changes: string[] = [];
  const rig = hubRig({
    name: 'control-trust-test',
    objects: [
      ['virtual-network', red],
      ['virtual-machine', podA],
      ['virtual-machine', podB],
      ['virtual-machine-interface', vmiA],
      ['virtual-machine-interface', vmiB],
      ['instance-ip', ipA],
      ['instance-ip', ipB],
    ],
    onAgentChange: (host) => changes.push(host),
    claimGraceMs,
  });
  return { ...rig, routes: () => rig.routes(RED), changes };
}

describe('control trusts only what config says', () => {
  it('takes a port-up for an interface config binds to the host, with the addresses config allocated', async () => {
    const { hub, session, compile, routes, refused } = setup();
    compile();
    const a = session('host-a', '192.0.2.1');
    hub.portStatus(a, upOf(vmiA.uuid, ['10.7.0.3/24']));
    assert.deepEqual(routes(), [`10.7.0.3/32 host-a ${vmiA.uuid}`]);
    assert.equal(await refused('host'), 0);
    assert.equal(await refused('address'), 0);
    hub.close();
  });

  it("refuses a genuine agent's claim on another host's pod: no route changes, counted, logged on the host record", async () => {
    const { hub, session, compile, routes, refused, changes } = setup();
    compile();
    const a = session('host-a', '192.0.2.1');
    const b = session('host-b', '192.0.2.2');
    hub.portStatus(b, upOf(vmiB.uuid, ['10.7.0.4/24']));
    const before = routes();
    assert.deepEqual(before, [`10.7.0.4/32 host-b ${vmiB.uuid}`]);
    changes.length = 0;

    // host-a says host-b's pod is up on it, with the right address and with its own.
    hub.portStatus(a, upOf(vmiB.uuid, ['10.7.0.4/24']));
    hub.portStatus(a, upOf(vmiB.uuid, ['10.7.0.3/24']));
    // and that it is down: not its port, nothing happens.
    hub.portStatus(a, { ...upOf(vmiB.uuid, []), state: 'PORT_STATE_DOWN' });
    assert.deepEqual(routes(), before);
    assert.equal(hub.ports.get(vmiB.uuid)?.host, 'host-b');
    assert.equal(await refused('host'), 2);
    const record = hub.agents().find((agent) => agent.host === 'host-a')!;
    assert.equal(record.refused?.count, 2);
    assert.equal(record.refused?.last.interfaceUuid, vmiB.uuid);
    assert.equal(record.refused?.last.reason, 'host');
    assert.ok(changes.includes('host-a'), 'the UVE of host-a is told');
    hub.close();
  });

  it('refuses a claim with an address config did not allocate, and routes only what config allocated', async () => {
    const { hub, session, compile, routes, refused } = setup();
    compile();
    const a = session('host-a', '192.0.2.1');
    // Another pod's address, and one outside any allocation: refused whole.
    hub.portStatus(a, upOf(vmiA.uuid, ['10.7.0.3/24', '10.7.0.4/24']));
    hub.portStatus(a, upOf(vmiA.uuid, ['10.9.9.9/32']));
    assert.deepEqual(routes(), []);
    assert.equal(await refused('address'), 2);
    assert.match(hub.agents()[0]!.refused!.last.detail, /10\.9\.9\.9\/32/);
    // A claim naming no address still makes the route config allocated: config decides.
    hub.portStatus(a, upOf(vmiA.uuid, []));
    assert.deepEqual(routes(), [`10.7.0.3/32 host-a ${vmiA.uuid}`]);
    hub.close();
  });

  it('holds claims until config backs them: before the first compile, and a pod config binds to the host later', async () => {
    const { store, hub, session, compile, routes, refused } = setup();
    const a = session('host-a', '192.0.2.1');
    const b = session('host-b', '192.0.2.2');
    // Before config is known: held, judged at the first compile.
    hub.portStatus(a, upOf(vmiA.uuid, ['10.7.0.3/24']));
    hub.portStatus(a, upOf(vmiB.uuid, ['10.7.0.4/24']));
    assert.deepEqual(routes(), []);
    compile();
    assert.deepEqual(routes(), [`10.7.0.3/32 host-a ${vmiA.uuid}`]);
    assert.equal(await refused('host'), 1);

    // Config moves pod-b to host-a: the held claim is taken, not counted again.
    store.upsert(
      stored(
        'virtual-machine-interface',
        { ...vmiB, virtual_machine_interface_bindings: vmiA.virtual_machine_interface_bindings },
        100,
      ),
    );
    compile();
    assert.deepEqual(routes(), [`10.7.0.3/32 host-a ${vmiA.uuid}`, `10.7.0.4/32 host-a ${vmiB.uuid}`]);
    assert.equal(await refused('host'), 1);

    // A pod config does not know yet, claimed by host-b: nothing changes (and, with no grace
    // time here, it is counted at once), until config has it; then it is taken.
    const podC = virtualMachine('pod-c');
    const vmiC = machineInterface('pod-c-red', { network: red, vm: podC, host: 'host-b', mac: '02:00:00:00:07:03' });
    hub.portStatus(b, upOf(vmiC.uuid, ['10.7.0.5/24']));
    assert.equal(routes().length, 2);
    assert.equal(await refused('host'), 2);
    store.upsert(stored('virtual-machine', podC, 101));
    store.upsert(stored('virtual-machine-interface', vmiC, 102));
    store.upsert(stored('instance-ip', instanceIp('10.7.0.5', vmiC, red), 103));
    compile();
    assert.ok(routes().includes(`10.7.0.5/32 host-b ${vmiC.uuid}`));
    hub.close();
  });

  it('moves and withdraws routes with config: a changed address, and an interface bound to another host', async () => {
    const { store, hub, session, compile, routes } = setup();
    compile();
    const a = session('host-a', '192.0.2.1');
    hub.portStatus(a, upOf(vmiA.uuid, ['10.7.0.3/24']));
    store.upsert(stored('instance-ip', { ...ipA, instance_ip_address: '10.7.0.30' }, 200));
    compile();
    assert.deepEqual(routes(), [`10.7.0.30/32 host-a ${vmiA.uuid}`]);
    store.upsert(
      stored(
        'virtual-machine-interface',
        { ...vmiA, virtual_machine_interface_bindings: vmiB.virtual_machine_interface_bindings },
        201,
      ),
    );
    compile();
    assert.deepEqual(routes(), [], 'the port on host-a no longer makes a route');
    hub.close();
  });

  it('refuses a claim only once the grace time is over: a replica whose config lags counts nothing', async () => {
    const { store, hub, session, compile, routes, refused } = setup(100);
    compile();
    const a = session('host-a', '192.0.2.1');
    // A pod config-api has, this replica not yet: its claim waits, then config catches up.
    const podD = virtualMachine('pod-d');
    const vmiD = machineInterface('pod-d-red', { network: red, vm: podD, host: 'host-a', mac: '02:00:00:00:07:04' });
    hub.portStatus(a, upOf(vmiD.uuid, ['10.7.0.6/24']));
    store.upsert(stored('virtual-machine', podD, 300));
    store.upsert(stored('virtual-machine-interface', vmiD, 301));
    store.upsert(stored('instance-ip', instanceIp('10.7.0.6', vmiD, red), 302));
    compile();
    assert.ok(routes().includes(`10.7.0.6/32 host-a ${vmiD.uuid}`));
    // A lie stays a lie: counted once the grace is over, and the routes never moved.
    hub.portStatus(a, upOf(vmiB.uuid, ['10.7.0.4/24']));
    await waitFor(async () => (await refused('host')) === 1, { what: 'the refusal after the grace time' });
    assert.equal(hub.ports.get(vmiB.uuid), undefined);
    assert.equal(await refused('host'), 1);
    assert.equal(await refused('address'), 0);
    hub.close();
  });

  it('an agent that keeps repeating a claim config does not back is still refused once the grace is over', async () => {
    const { hub, session, compile, refused } = setup(200);
    compile();
    const a = session('host-a', '192.0.2.1');
    const repeat = () => hub.portStatus(a, upOf(vmiB.uuid, ['10.7.0.4/24']));
    repeat();
    // Sent again and again, faster than the grace: the grace still runs from the first claim.
    const timer = setInterval(repeat, 20);
    try {
      await waitFor(async () => (await refused('host')) === 1, { what: 'the repeated claim refused' });
    } finally {
      clearInterval(timer);
    }
    assert.equal(hub.ports.get(vmiB.uuid), undefined);
    hub.close();
  });
});
