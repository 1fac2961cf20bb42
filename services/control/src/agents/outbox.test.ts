import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Outbox, ROUTE_BATCH } from './outbox.js';

describe('agent outbox', () => {
  it('keeps one entry per key: the newest value wins, a withdrawal replaces a queued add', () => {
    const outbox = new Outbox();
    for (let i = 0; i < 100; i += 1) {
      outbox.putRoute('red', '10.0.0.1/32', {
        prefix: '10.0.0.1/32',
        next_hop: { tunnel: { underlay_address: `192.0.2.${i}` } },
      });
    }
    assert.equal(outbox.depth, 1);
    assert.equal(outbox.takeRoutes()!.add![0]!.next_hop!.tunnel!.underlay_address, '192.0.2.99');
    outbox.putRoute('red', '10.0.0.2/32', { prefix: '10.0.0.2/32' });
    outbox.putRoute('red', '10.0.0.2/32', null);
    assert.deepEqual(outbox.takeRoutes(), { routing_instance: 'red', add: [], withdraw: ['10.0.0.2/32'] });
    assert.equal(outbox.depth, 0);
    assert.equal(outbox.takeRoutes(), undefined);
  });

  it('splits routes into messages of at most ROUTE_BATCH, one routing instance per message', () => {
    const outbox = new Outbox();
    for (let i = 0; i < ROUTE_BATCH + 10; i += 1)
      outbox.putRoute('red', `10.0.${i >> 8}.${i & 255}/32`, { prefix: 'x' });
    outbox.putRoute('blue', '10.9.0.1/32', { prefix: 'y' });
    const first = outbox.takeRoutes()!;
    assert.equal(first.routing_instance, 'red');
    assert.equal(first.add!.length, ROUTE_BATCH);
    assert.equal(outbox.takeRoutes()!.add!.length, 10);
    assert.equal(outbox.takeRoutes()!.routing_instance, 'blue');
    assert.equal(outbox.hasRoutes, false);
  });

  it('sends routing instances and ACLs before the interfaces that name them, deletions as names', () => {
    const outbox = new Outbox();
    outbox.interfaces.set('if-1', { uuid: 'if-1', routing_instance: 'red' });
    outbox.acls.set('acl-1', { name: 'acl-1' });
    outbox.routingInstances.set('red', { name: 'red' });
    outbox.routingInstances.set('old', null);
    const update = outbox.takeConfig();
    assert.deepEqual(update.routing_instances, [{ name: 'red' }]);
    assert.deepEqual(update.deleted_routing_instances, ['old']);
    assert.deepEqual(update.acls, [{ name: 'acl-1' }]);
    assert.deepEqual(update.interfaces, [{ uuid: 'if-1', routing_instance: 'red' }]);
    assert.equal(outbox.hasConfig, false);
  });
});
