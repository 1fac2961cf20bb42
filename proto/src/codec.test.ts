import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Uve, Uve__Output } from '../gen/weft/analytics/v1/Uve.js';
import type { ChangeEvent, ChangeEvent__Output } from '../gen/weft/config/v1/ChangeEvent.js';
import { loadAgentProto, loadConfigProto, messageCodec } from './index.js';

test('a UVE survives encode and decode with snake_case fields and numeric longs', () => {
  const codec = messageCodec<Uve, Uve__Output>('weft.analytics.v1.Uve');
  const decoded = codec.decode(
    codec.encode({ type: 'vrouter', name: 'host-1', source: 'agent:host-1', timestamp_ms: 1_700_000_000_123 }),
  );
  assert.equal(decoded.name, 'host-1');
  assert.equal(decoded.timestamp_ms, 1_700_000_000_123);
  assert.equal(decoded.deleted, false);
});

test('a config change event keeps its revision and operation name', () => {
  const codec = messageCodec<ChangeEvent, ChangeEvent__Output>('weft.config.v1.ChangeEvent');
  const decoded = codec.decode(
    codec.encode({ revision: 42, operation: 'OPERATION_DELETE', type: 'virtual-network', fq_name: ['a', 'b'] }),
  );
  assert.equal(decoded.revision, 42);
  assert.equal(decoded.operation, 'OPERATION_DELETE');
  assert.deepEqual(decoded.fq_name, ['a', 'b']);
});

test('the gRPC services load with every method the contract promises', () => {
  const config = loadConfigProto().weft.config.v1.Config.service;
  assert.deepEqual(Object.keys(config).sort(), ['Create', 'Delete', 'Get', 'List', 'Update', 'Watch']);
  assert.equal(config.Watch.responseStream, true);
  const agent = loadAgentProto().weft.control.v1.Agent.service;
  assert.equal(agent.Session.requestStream, true);
  assert.equal(agent.Session.responseStream, true);
});
