import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageCodec } from '@weft/proto';
import type { ControlMessage } from '@weft/proto/gen/weft/control/v1/ControlMessage.js';
import type { Route } from '@weft/proto/gen/weft/control/v1/Route.js';
import { agentServiceDefinition, encodeRoute, encodeRouteUpdate } from './wire.js';

const codec = messageCodec<ControlMessage, unknown>('weft.control.v1.ControlMessage');

test('a route update made of routes encoded once decodes as the one the library encodes', () => {
  const routes: Route[] = [
    {
      prefix: '10.1.0.5/32',
      next_hop: { tunnel: { underlay_address: '192.0.2.7', vni: 5001, mac: '02:00:00:00:00:05' } },
    },
    { prefix: 'fd00::5/128', next_hop: { interface_uuid: '6f1c1f3e-0000-4000-8000-000000000001' } },
  ];
  const update = { routing_instance: 'default-domain:p:red:red', add: routes, withdraw: ['10.1.0.9/32'] };
  const ours = encodeRouteUpdate(2 ** 40 + 3, { ...update, add: routes.map(encodeRoute) });
  const library = codec.encode({ seq: 2 ** 40 + 3, routes: update });
  assert.deepEqual(codec.decode(ours), codec.decode(library));
  assert.deepEqual(Buffer.from(ours), Buffer.from(library));
});

test('a full batch of routes, with lengths of several bytes and names outside ASCII, encodes as the library does', () => {
  const routes: Route[] = Array.from({ length: 512 }, (_, i) => ({
    prefix: `10.${i >> 8}.${i & 255}.1/32`,
    next_hop: { tunnel: { underlay_address: '192.0.2.7', vni: 16_000_000 + i, mac: '02:00:00:00:00:05' } },
  }));
  const withdraw = Array.from({ length: 300 }, (_, i) => `fd00::${i.toString(16)}/128`);
  const update = { routing_instance: 'default-domain:prój:réd:réd', add: routes, withdraw };
  for (const seq of [0, 1, 127, 128, 16_383, 16_384, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
    const ours = encodeRouteUpdate(seq, { ...update, add: routes.map(encodeRoute) });
    assert.deepEqual(Buffer.from(ours), Buffer.from(codec.encode({ seq, routes: update })), `seq ${seq}`);
  }
});

test('the Agent service writes what is already encoded as it is, and encodes the rest', () => {
  const serialize = agentServiceDefinition().Session!.responseSerialize;
  const encoded = encodeRouteUpdate(1, { routing_instance: 'ri', add: [], withdraw: [] });
  assert.equal(serialize(encoded), encoded);
  const message: ControlMessage = { seq: 2, end_of_config: {} };
  assert.deepEqual(codec.decode(serialize(message)), codec.decode(codec.encode(message)));
});
