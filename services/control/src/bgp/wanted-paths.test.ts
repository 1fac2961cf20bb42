// What control wants advertised, from a real compilation: every floating IP and every own IPv4
// address of a port of a router_external network, as a /32 via the host its agent reported the
// port on; nothing of a network that is not routed to the outside.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompilationGraph } from '../compile/graph.js';
import { PortTable } from '../routes/ports.js';
import {
  floatingIp,
  instanceIp,
  machineInterface,
  storeOf,
  virtualMachine,
  virtualNetwork,
} from '../testing/fixtures.js';
import { wantedPaths } from './advertiser.js';

describe('BGP paths wanted', () => {
  const routed = { ...virtualNetwork('routed', { prefix: '198.18.5.0', networkId: 21 }), router_external: true };
  const inside = virtualNetwork('inside', { prefix: '10.9.0.0', networkId: 22 });
  const pod = virtualMachine('default/pod-a');
  const onRouted = machineInterface('pod-a-routed', {
    network: routed,
    vm: pod,
    host: 'host-1',
    mac: '02:00:00:00:01:01',
  });
  const onRoutedAway = machineInterface('pod-b-routed', {
    network: routed,
    vm: pod,
    host: 'host-2',
    mac: '02:00:00:00:01:02',
  });
  const onInside = machineInterface('pod-a-inside', {
    network: inside,
    vm: pod,
    host: 'host-1',
    mac: '02:00:00:00:01:03',
  });
  const graph = new CompilationGraph(
    storeOf([
      ['virtual-network', routed],
      ['virtual-network', inside],
      ['virtual-machine', pod],
      ['virtual-machine-interface', onRouted],
      ['virtual-machine-interface', onRoutedAway],
      ['virtual-machine-interface', onInside],
      ['instance-ip', instanceIp('198.18.5.3', onRouted, routed)],
      ['instance-ip', instanceIp('198.18.5.4', onRoutedAway, routed)],
      ['instance-ip', instanceIp('10.9.0.3', onInside, inside)],
      ['floating-ip', floatingIp('203.0.113.7', onInside)],
    ]),
  );
  graph.flush();
  const ports = new PortTable();
  for (const [vmi, underlay] of [
    [onRouted, '10.255.0.11'],
    [onInside, '10.255.0.11'],
  ] as const) {
    ports.set({ interfaceUuid: vmi.uuid, host: 'host-1', underlay, mac: '', prefixes: [], hostIfname: '' });
  }

  it("routed networks' ports and floating IPs as /32s via their host; unreported ports keep what the speaker has", () => {
    const wanted = wantedPaths({ state: graph.state, ports });
    assert.deepEqual(
      [...wanted].sort(([a], [b]) => a.localeCompare(b)),
      [
        ['198.18.5.3/32', '10.255.0.11'],
        ['198.18.5.4/32', undefined],
        ['203.0.113.7/32', '10.255.0.11'],
      ],
    );
  });
});
