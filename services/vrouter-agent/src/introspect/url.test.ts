// The introspection URL an agent advertises: reachable from another machine (the node's address
// the chart gives, or the underlay address for a wildcard listen), and in the scheme its HTTP
// really speaks, so that weftctl datapath and probe reach it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { introspectUrlOf } from './url.js';

const base = { httpPort: 8085, underlayAddress: '10.0.0.7', https: false };

test('the listen address, or the underlay address for a wildcard one', () => {
  // The chart's DaemonSet: status.hostIP, on the host network.
  assert.equal(introspectUrlOf({ ...base, httpHost: '192.168.1.20' }), 'http://192.168.1.20:8085');
  assert.equal(introspectUrlOf({ ...base, httpHost: '0.0.0.0' }), 'http://10.0.0.7:8085');
  assert.equal(introspectUrlOf({ ...base, httpHost: '::' }), 'http://10.0.0.7:8085');
  assert.equal(introspectUrlOf({ ...base, httpHost: 'fd00::20' }), 'http://[fd00::20]:8085');
});

test('https when the agent serves its HTTP over TLS, as the chart runs it by default', () => {
  assert.equal(introspectUrlOf({ ...base, httpHost: '192.168.1.20', https: true }), 'https://192.168.1.20:8085');
  assert.equal(introspectUrlOf({ ...base, httpHost: '0.0.0.0', https: true }), 'https://10.0.0.7:8085');
});
