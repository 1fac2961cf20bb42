// The pod annotation in both of its forms, as the multi-network spec writes them, and the
// errors a wrong one gets (naming the element and the field).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NetworkSelectionError, parseNetworkSelection, weftNetworkOf } from './network-selection.js';

describe('k8s.v1.cni.cncf.io/networks', () => {
  test('the short form: [namespace/]name[@interface], in order', () => {
    assert.deepEqual(parseNetworkSelection('blue, other/red@red0', 'team'), [
      { name: 'blue', namespace: 'team', ips: [] },
      { name: 'red', namespace: 'other', interface: 'red0', ips: [] },
    ]);
  });

  test('the JSON form, with interface, MAC and addresses', () => {
    assert.deepEqual(
      parseNetworkSelection(
        '[{"name":"blue","mac":"02:AA:BB:CC:DD:EE","ips":["10.1.0.5/24"],"interface":"b0"}]',
        'team',
      ),
      [{ name: 'blue', namespace: 'team', interface: 'b0', mac: '02:aa:bb:cc:dd:ee', ips: ['10.1.0.5/24'] }],
    );
  });

  test('absent or empty: no extra network', () => {
    assert.deepEqual(parseNetworkSelection(undefined, 'team'), []);
    assert.deepEqual(parseNetworkSelection('  ', 'team'), []);
  });

  test('a wrong element is refused, naming it and its field', () => {
    const cases: [string, RegExp][] = [
      ['[{"name":"blue","mac":"nope"}]', /networks\[0\]\.mac/],
      ['[{"name":"blue"},{"name":"Red_Net"}]', /networks\[1\]\.name/],
      ['[{"name":"blue","interface":"a-very-long-interface-name"}]', /networks\[0\]\.interface/],
      ['[{"name":"blue","ips":"10.0.0.1"}]', /networks\[0\]\.ips/],
      ['[{"name":', /not valid JSON/],
      ['blue@', /networks\[0\]/],
    ];
    for (const [value, message] of cases) {
      assert.throws(
        () => parseNetworkSelection(value, 'team'),
        (error: Error) => {
          assert.ok(error instanceof NetworkSelectionError, value);
          assert.match(error.message, message, value);
          return true;
        },
      );
    }
  });
});

describe('the Weft network of a NetworkAttachmentDefinition', () => {
  test("weft-cni's network, alone or in a plugin list; the config's name when it names none", () => {
    assert.equal(weftNetworkOf('{"type":"weft-cni","network":"default-domain:p:blue"}'), 'default-domain:p:blue');
    assert.equal(weftNetworkOf('{"name":"red","plugins":[{"type":"weft-cni"}]}'), 'red');
  });

  test("another plugin's attachment, or no config, is not Weft's", () => {
    assert.equal(weftNetworkOf('{"type":"macvlan","master":"eth0"}'), undefined);
    assert.equal(weftNetworkOf(undefined), undefined);
    assert.equal(weftNetworkOf('not json'), undefined);
  });
});
