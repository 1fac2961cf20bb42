// Routes learnt from the gateways reach the agents of networks routed to the outside
// (router_external) only, next hop the gateway on the underlay; a port's own route wins over a
// learnt one; marking a network routed out (or no longer) gives or takes them; a route the
// gateways stop offering is withdrawn. With the real config-api, NATS and control.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { natsServerMissing, waitFor } from '@weft/kit/testing';
import { configApiMissing, type Lab, PROJECT, startLab } from '../testing/lab.js';

const skip = natsServerMissing() ?? (await configApiMissing());
const PUBLIC = `${PROJECT.join(':')}:public:public`;
const INSIDE = `${PROJECT.join(':')}:inside:inside`;

describe('routes learnt from the gateways, to the agents', { skip }, () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab?.close();
  });

  it('go to routed-out networks only, follow what the gateways offer and the network’s flag', async () => {
    const publicNet = await lab.network('public', '198.18.9.0/24', { router_external: true });
    const inside = await lab.network('inside', '10.41.0.0/24');
    const p1 = await lab.pod('gw-p1', publicNet, 'host-a');
    const i1 = await lab.pod('gw-i1', inside, 'host-a');
    const a = lab.agent('host-a', '192.0.2.1');
    a.portUp({ uuid: p1.vmi.uuid, mac: p1.mac, addresses: [p1.cidr] });
    a.portUp({ uuid: i1.vmi.uuid, mac: i1.mac, addresses: [i1.cidr] });
    const routes = (instance: string) => a.channels[0]!.routes.get(instance) ?? new Map();
    await waitFor(() => routes(PUBLIC).has(`${p1.address}/32`) && routes(INSIDE).has(`${i1.address}/32`), {
      what: "the ports' own routes at host-a",
    });
    const control = lab.controls[0]!;
    control.learntFromGateways([
      { prefix: '0.0.0.0/0', nextHop: '192.0.2.254' },
      { prefix: '198.51.100.0/24', nextHop: '192.0.2.254' },
      // A gateway's path to a port's own address: the port's route stays.
      { prefix: `${p1.address}/32`, nextHop: '192.0.2.254' },
    ]);
    await waitFor(() => routes(PUBLIC).has('198.51.100.0/24'), { what: 'the learnt route at host-a' });
    assert.deepEqual(routes(PUBLIC).get('0.0.0.0/0')!.next_hop, {
      kind: 'underlay_gateway',
      underlay_gateway: '192.0.2.254',
    });
    assert.equal(routes(PUBLIC).get(`${p1.address}/32`)!.next_hop!.interface_uuid, p1.vmi.uuid);
    assert.equal(a.channels[0]!.routingInstances.get(PUBLIC)!.router_external, true);
    assert.deepEqual([...routes(INSIDE).keys()], [`${i1.address}/32`], 'a network not routed out gets none');

    control.learntFromGateways([{ prefix: '0.0.0.0/0', nextHop: '192.0.2.253' }]);
    await waitFor(() => !routes(PUBLIC).has('198.51.100.0/24'), { what: 'the withdrawal at host-a' });
    await waitFor(() => routes(PUBLIC).get('0.0.0.0/0')?.next_hop?.underlay_gateway === '192.0.2.253', {
      what: 'the default route to the other gateway',
    });

    await lab.update('virtual-network', publicNet.uuid, { router_external: false });
    await waitFor(() => !routes(PUBLIC).has('0.0.0.0/0'), {
      what: 'the learnt routes to leave a network no longer routed out',
    });
    assert.equal(routes(PUBLIC).get(`${p1.address}/32`)!.next_hop!.interface_uuid, p1.vmi.uuid);
    await lab.update('virtual-network', inside.uuid, { router_external: true });
    await waitFor(() => routes(INSIDE).has('0.0.0.0/0'), { what: 'the learnt routes in a network newly routed out' });
  });
});
