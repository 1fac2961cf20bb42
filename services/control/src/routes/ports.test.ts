import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostRoute, PortTable } from './ports.js';

describe('ports', () => {
  it('turns an address in CIDR form into its host route, IPv4 and IPv6', () => {
    assert.equal(hostRoute('10.1.0.3/24'), '10.1.0.3/32');
    assert.equal(hostRoute('FD00::3/64'), 'fd00::3/128');
    assert.equal(hostRoute('10.1.0.3'), '10.1.0.3/32');
    assert.equal(hostRoute('not-an-address/24'), undefined);
  });

  it('indexes ports by host, and moves a port that another host reports', () => {
    const table = new PortTable();
    const port = {
      interfaceUuid: 'p1',
      host: 'a',
      underlay: '192.0.2.1',
      mac: 'm',
      prefixes: ['10.0.0.1/32'],
      hostIfname: 't',
    };
    assert.equal(table.set(port), undefined);
    assert.deepEqual(table.ofHost('a'), ['p1']);
    const moved = { ...port, host: 'b', underlay: '192.0.2.2' };
    assert.equal(table.set(moved), port);
    assert.deepEqual(table.ofHost('a'), []);
    assert.deepEqual(table.ofHost('b'), ['p1']);
    assert.equal(table.delete('p1'), moved);
    assert.equal(table.size, 0);
  });
});
