// When config deletes an interface whose port a host reported, control keeps nothing of the port;
// and the host's agent, which keeps the port until the pod's CNI DEL, is not taken for a liar
// when it reports the port again meanwhile (after a reconnect). Claims config does not back
// stay refused and never make a route.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { natsServerMissing, waitFor } from '@weft/kit/testing';
import { instanceIp, machineInterface, stored, virtualMachine, virtualNetwork } from '../testing/fixtures.js';
import { hubRig, portDown, portUp } from '../testing/hub-rig.js';
import { configApiMissing, getJson, type Lab, PROJECT, startLab } from '../testing/lab.js';

const red = virtualNetwork('red', { prefix: '10.8.0.0', vni: 8001, networkId: 81 });
const RED = 'default-domain:admin:red:red';
const podA = virtualMachine('pod-a');
const vmiA = machineInterface('pod-a-red', { network: red, vm: podA, host: 'host-a', mac: '02:00:00:00:08:01' });
const ipA = instanceIp('10.8.0.3', vmiA, red);

const upOf = (uuid: string, addresses: string[]) => portUp(uuid, addresses, '02:00:00:00:08:01', 'veth-a');

function setup(claimGraceMs = 0) {
  const rig = hubRig({
    name: 'control-deleted-interfaces-test',
    objects: [
      ['virtual-network', red],
      ['virtual-machine', podA],
      ['virtual-machine-interface', vmiA],
      ['instance-ip', ipA],
    ],
    claimGraceMs,
  });
  const { store, hub, compile } = rig;
  let revision = 100;
  const next = () => {
    revision += 1;
    return revision;
  };
  const deleteA = () => {
    store.remove('instance-ip', ipA.uuid, next());
    store.remove('virtual-machine-interface', vmiA.uuid, next());
    compile();
  };
  const recreateA = (address = '10.8.0.3') => {
    store.upsert(stored('virtual-machine-interface', vmiA, next()));
    store.upsert(stored('instance-ip', { ...ipA, instance_ip_address: address }, next()));
    compile();
  };
  const refusedOf = (host: string) => hub.agents().find((agent) => agent.host === host)?.refused?.count ?? 0;
  return { ...rig, deleteA, recreateA, refusedOf, routes: () => rig.routes(RED) };
}

describe('an interface config deletes', () => {
  it('leaves nothing of its port, and its own host reporting it again is no refusal', async () => {
    const { hub, session, compile, deleteA, refused, refusedOf, routes } = setup();
    compile();
    const a = session('host-a', '192.0.2.1');
    const b = session('host-b', '192.0.2.2');
    hub.portStatus(a, upOf(vmiA.uuid, ['10.8.0.3/24']));
    assert.deepEqual(routes(), [`10.8.0.3/32 host-a ${vmiA.uuid}`]);

    deleteA();
    assert.deepEqual(routes(), []);
    assert.equal(hub.ports.get(vmiA.uuid), undefined, 'the port of a deleted interface is not kept');
    assert.deepEqual(hub.ports.ofHost('host-a'), []);

    // host-a's agent keeps the port until the pod's CNI DEL, and says so again: not a lie.
    hub.portStatus(a, upOf(vmiA.uuid, ['10.8.0.3/24']));
    assert.equal(await refused(), 0);
    assert.equal(refusedOf('host-a'), 0);
    assert.deepEqual(routes(), []);
    assert.equal(hub.ports.get(vmiA.uuid), undefined);

    // The same claim from another host, or one for an interface config never had, still is.
    hub.portStatus(b, upOf(vmiA.uuid, ['10.8.0.3/24']));
    assert.equal(refusedOf('host-b'), 1);
    hub.portStatus(a, upOf(randomUUID(), ['10.8.0.9/24']));
    assert.equal(refusedOf('host-a'), 1);

    // Once host-a let go of the port, a claim for it is one config does not back like any other.
    hub.portStatus(a, portDown(vmiA.uuid));
    hub.portStatus(a, upOf(vmiA.uuid, ['10.8.0.3/24']));
    assert.equal(refusedOf('host-a'), 2);
    assert.deepEqual(routes(), []);
    hub.close();
  });

  it('re-created with the same uuid: no route from a claim made before; the next report is judged anew', async () => {
    const { hub, session, compile, deleteA, recreateA, refused, routes } = setup();
    compile();
    const a = session('host-a', '192.0.2.1');
    hub.portStatus(a, upOf(vmiA.uuid, ['10.8.0.3/24']));
    deleteA();
    recreateA();
    assert.deepEqual(routes(), [], 'the old port does not come back with the new interface');
    hub.portStatus(a, upOf(vmiA.uuid, ['10.8.0.3/24']));
    assert.deepEqual(routes(), [`10.8.0.3/32 host-a ${vmiA.uuid}`]);

    // A held claim goes with its interface too: the new one, which allocates the claimed
    // address, does not take it up.
    hub.portStatus(a, upOf(vmiA.uuid, ['10.8.0.7/24']));
    assert.equal(await refused(), 1);
    deleteA();
    recreateA('10.8.0.7');
    assert.deepEqual(routes(), []);
    hub.close();
  });

  it('deleted while its host is away: the host back and reporting the port again is not refused when the grace ends', async () => {
    const { hub, session, compile, deleteA, refusedOf, routes } = setup(100);
    compile();
    const a = session('host-a', '192.0.2.1');
    hub.portStatus(a, upOf(vmiA.uuid, ['10.8.0.3/24']));
    hub.detach(a);
    deleteA();
    const back = session('host-a', '192.0.2.1');
    hub.portStatus(back, upOf(vmiA.uuid, ['10.8.0.3/24']));
    hub.hostReported(back);
    // A claim another host makes later is refused when its grace ends, so host-a's has ended by then.
    const b = session('host-b', '192.0.2.2');
    hub.portStatus(b, upOf(randomUUID(), ['10.8.0.9/24']));
    await waitFor(() => refusedOf('host-b') === 1, { what: "host-b's claim refused after the grace" });
    assert.equal(refusedOf('host-a'), 0);
    assert.deepEqual(routes(), []);
    assert.deepEqual(hub.ports.ofHost('host-a'), []);
    hub.close();
  });
});

const skip = natsServerMissing() ?? (await configApiMissing());

// biome-ignore lint/suspicious/noExplicitAny: the introspection answer as JSON
async function agentRecord(lab: Lab, host: string): Promise<any> {
  const { agents } = await getJson(`${lab.controls[0]!.httpUrl}/agents`);
  // biome-ignore lint/suspicious/noExplicitAny: the introspection answer as JSON
  return agents.find((agent: any) => agent.host === host);
}

async function refusedMetric(lab: Lab): Promise<number> {
  const text = await (await fetch(`${lab.controls[0]!.httpUrl}/metrics`)).text();
  return Number(/^weft_control_port_claims_refused_total\{reason="host"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('an interface config deletes, with config-api and real agent sessions', { skip }, () => {
  it('is gone from the host record, and its agent reporting it again after a reconnect raises nothing', async () => {
    const lab = await startLab();
    try {
      const network = await lab.network('deleted', '10.62.0.0/24');
      const RI = `${PROJECT.join(':')}:deleted:deleted`;
      const a = lab.agent('host-a', '192.0.2.61');
      const b = lab.agent('host-b', '192.0.2.62');
      const pod = await lab.pod('deleted-pod', network, 'host-a');
      a.portUp({ uuid: pod.vmi.uuid, mac: pod.mac, addresses: [pod.cidr] });
      await waitFor(async () => a.synced && b.synced && (await agentRecord(lab, 'host-a'))?.ports_up === 1, {
        what: "host-a's port up at control",
      });

      const ips = (await getJson(`${lab.restUrl}/instance-ips?back_ref_id=${pod.vmi.uuid}`))['instance-ips'];
      for (const ip of ips) await lab.remove('instance-ip', ip.uuid);
      await lab.remove('virtual-machine-interface', pod.vmi.uuid);
      await waitFor(() => !a.channels[0]!.interfaces.has(pod.vmi.uuid), { what: 'host-a told of the deletion' });
      assert.equal(a.routes().get(RI)?.has(`${pod.address}/32`) ?? false, false);
      assert.equal((await agentRecord(lab, 'host-a')).ports_up, 0, 'control keeps no port for the deleted interface');

      // The pod's CNI DEL has not come yet: host-a still has the port and reports it on reconnect.
      a.partition();
      await waitFor(async () => (await agentRecord(lab, 'host-a'))?.connected === false, { what: 'host-a gone' });
      a.heal();
      await waitFor(
        async () => a.synced && a.channels[0]!.sessions >= 2 && (await agentRecord(lab, 'host-a'))?.connected,
        { what: 'host-a back and synced' },
      );
      // host-b claims an interface config never had: refused when its grace ends, after host-a's.
      b.portUp({ uuid: randomUUID(), mac: '02:00:00:00:62:09', addresses: ['10.62.0.99/24'] });
      await waitFor(async () => (await agentRecord(lab, 'host-b'))?.refused?.count === 1, {
        what: "host-b's claim refused",
        timeoutMs: 15_000,
      });
      const record = await agentRecord(lab, 'host-a');
      assert.equal(record.refused, undefined, 'host-a told the truth: nothing refused, nothing to alarm on');
      assert.equal(record.ports_up, 0);
      assert.equal(await refusedMetric(lab), 1);
    } finally {
      await lab.close();
    }
  });
});
