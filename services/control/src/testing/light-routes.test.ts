import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageCodec } from '@weft/proto';
import type { ControlMessage, ControlMessage__Output } from '@weft/proto/gen/weft/control/v1/ControlMessage.js';
import { LazyRoute, lightControlMessages } from './light-routes.js';

const codec = messageCodec<ControlMessage, ControlMessage__Output>('weft.control.v1.ControlMessage');
const full = (bytes: Buffer) => codec.decode(bytes);
const light = lightControlMessages(full);

test('a route message read lightly has the routes, next hops and withdrawals the library decodes', () => {
  const message: ControlMessage = {
    seq: 2 ** 40 + 7,
    routes: {
      routing_instance: 'default-domain:prój:réd:réd',
      add: [
        {
          prefix: '10.1.0.5/32',
          next_hop: { tunnel: { underlay_address: '192.0.2.7', vni: 16_000_001, mac: '02:00:00:00:00:05' } },
        },
        { prefix: 'fd00::5/128', next_hop: { interface_uuid: '6f1c1f3e-0000-4000-8000-000000000001' } },
        { prefix: '0.0.0.0/0', next_hop: { underlay_gateway: '192.0.2.1' } },
        ...Array.from({ length: 300 }, (_, i) => ({
          prefix: `10.2.${i >> 8}.${i & 255}/32`,
          next_hop: { tunnel: { underlay_address: '192.0.2.8', vni: 5000 + i, mac: '02:00:00:00:01:05' } },
        })),
      ],
      withdraw: ['10.1.0.9/32', 'fd00::9/128'],
    },
  };
  const bytes = Buffer.from(codec.encode(message));
  const read = light(bytes);
  assert.ok(read.routes!.add.every((route) => route instanceof LazyRoute));
  assert.deepEqual(JSON.parse(JSON.stringify(read)), JSON.parse(JSON.stringify(full(bytes))));
});

test('every other message goes to the library, and a cut one is refused', () => {
  for (const message of [
    { seq: 1, end_of_config: {} },
    { seq: 2, end_of_routes: {} },
    { seq: 3, config: { interfaces: [{ uuid: 'u', addresses: ['10.1.0.5/24'] }], deleted_acls: ['a'] } },
    { seq: 4, routes: { routing_instance: 'ri', add: [], withdraw: [] } },
  ] satisfies ControlMessage[]) {
    const bytes = Buffer.from(codec.encode(message));
    assert.deepEqual(JSON.parse(JSON.stringify(light(bytes))), JSON.parse(JSON.stringify(full(bytes))));
  }
  const truncated = Buffer.from(codec.encode({ seq: 5, routes: { routing_instance: 'ri', add: [{ prefix: 'p' }] } }));
  assert.throws(() => light(truncated.subarray(0, truncated.length - 1)));
});
