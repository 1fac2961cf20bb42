// Address management against a real server: exact exhaustion, parallel allocation, requested
// addresses, IPv6, pools, release on delete, subnet changes, and unique MACs and VNIs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { networkBody, startTestServer, type TestServer } from '../testing/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.dispose());

const instanceIp = (networkUuid: string, extra: Record<string, unknown> = {}) =>
  server.request('POST', '/instance-ips', {
    'instance-ip': { virtual_network_refs: [{ uuid: networkUuid }], ...extra },
  });

test('a /29 gives exactly its usable addresses (not network, gateway, DNS, broadcast), then 409', async () => {
  const network = await server.create('virtual-network', networkBody('slash29', '10.29.0.0/29'));
  const subnet = (network.network_ipam_refs as { attr: { ipam_subnets: Record<string, unknown>[] } }[])[0]!.attr
    .ipam_subnets[0]!;
  assert.equal(subnet.default_gateway, '10.29.0.1');
  assert.equal(subnet.dns_server_address, '10.29.0.6');
  const addresses: string[] = [];
  for (;;) {
    const reply = await instanceIp(network.uuid);
    if (reply.status !== 200) {
      assert.equal(reply.status, 409);
      assert.equal(reply.body.error.code, 'ADDRESS_EXHAUSTED');
      assert.equal(reply.body.error.field, 'instance_ip_address');
      break;
    }
    addresses.push(reply.body['instance-ip'].instance_ip_address);
    assert.ok(addresses.length <= 8, 'more addresses than a /29 has');
  }
  assert.deepEqual(addresses.sort(), ['10.29.0.2', '10.29.0.3', '10.29.0.4', '10.29.0.5']);
  const count = await server.request('GET', `/instance-ips?back_ref_id=${network.uuid}&count=true`);
  assert.equal(count.body['instance-ips'].count, 4, 'the failed create stored nothing');
});

test('50 parallel creates in one /24 all get distinct addresses', async () => {
  const network = await server.create('virtual-network', networkBody('parallel', '10.24.0.0/24'));
  const replies = await Promise.all(Array.from({ length: 50 }, () => instanceIp(network.uuid)));
  for (const reply of replies) assert.equal(reply.status, 200, JSON.stringify(reply.body));
  const addresses = replies.map((reply) => reply.body['instance-ip'].instance_ip_address as string);
  assert.equal(new Set(addresses).size, 50);
  for (const address of addresses) assert.match(address, /^10\.24\.0\.(\d+)$/);
});

test('a fixed address taken twice gets 409; outside every subnet 400; gateway 409; released on delete', async () => {
  const network = await server.create('virtual-network', networkBody('fixed', '10.30.0.0/24'));
  const first = await instanceIp(network.uuid, { instance_ip_address: '10.30.0.77' });
  assert.equal(first.status, 200);
  assert.equal(first.body['instance-ip'].instance_ip_address, '10.30.0.77');
  const second = await instanceIp(network.uuid, { instance_ip_address: '10.30.0.77' });
  assert.equal(second.status, 409);
  assert.equal(second.body.error.code, 'ADDRESS_TAKEN');
  assert.match(second.body.error.message, /10\.30\.0\.77 is already held by/);
  const outside = await instanceIp(network.uuid, { instance_ip_address: '10.31.0.5' });
  assert.equal(outside.status, 400);
  assert.equal(outside.body.error.field, 'instance_ip_address');
  const gateway = await instanceIp(network.uuid, { instance_ip_address: '10.30.0.1' });
  assert.equal(gateway.status, 409);
  const broadcast = await instanceIp(network.uuid, { instance_ip_address: '10.30.0.255' });
  assert.equal(broadcast.status, 400);
  const garbage = await instanceIp(network.uuid, { instance_ip_address: '10.30.0' });
  assert.equal(garbage.status, 400);

  assert.equal((await server.request('DELETE', `/instance-ip/${first.body['instance-ip'].uuid}`)).status, 200);
  const again = await instanceIp(network.uuid, { instance_ip_address: '10.30.0.77' });
  assert.equal(again.status, 200, 'the address is free again after the delete');
  const change = await server.request('PUT', `/instance-ip/${again.body['instance-ip'].uuid}`, {
    'instance-ip': { instance_ip_address: '10.30.0.78' },
  });
  assert.equal(change.status, 400);
  assert.equal(change.body.error.field, 'instance_ip_address');
});

test('IPv6: next free, requested and canonical addresses; family picks the subnet', async () => {
  const network = await server.create('virtual-network', networkBody('dual', '10.40.0.0/24', 'fd00:40::/64'));
  const v6 = await instanceIp(network.uuid, { instance_ip_family: 'v6' });
  assert.equal(v6.status, 200);
  assert.equal(v6.body['instance-ip'].instance_ip_family, 'v6');
  assert.match(v6.body['instance-ip'].instance_ip_address, /^fd00:40::/);
  const v4 = await instanceIp(network.uuid);
  assert.equal(v4.body['instance-ip'].instance_ip_family, 'v4');
  const requested = await instanceIp(network.uuid, { instance_ip_address: 'fd00:40:0:0::0:10' });
  assert.equal(requested.status, 200);
  assert.equal(requested.body['instance-ip'].instance_ip_address, 'fd00:40::10');
  const sameSpelledOtherwise = await instanceIp(network.uuid, { instance_ip_address: 'FD00:40::10' });
  assert.equal(sameSpelledOtherwise.status, 409);
  const onlyV6 = await server.create('virtual-network', networkBody('only6', 'fd00:41::/120'));
  const none = await instanceIp(onlyV6.uuid, { instance_ip_family: 'v4' });
  assert.equal(none.status, 409);
  assert.equal(none.body.error.code, 'ADDRESS_EXHAUSTED');
});

test('allocation pools and addr_from_start decide which addresses are given', async () => {
  const body = networkBody('pools', '10.50.0.0/24');
  const subnet = (body.network_ipam_refs as { attr: { ipam_subnets: Record<string, unknown>[] } }[])[0]!.attr
    .ipam_subnets[0]!;
  subnet.allocation_pools = [{ start: '10.50.0.100', end: '10.50.0.101' }];
  subnet.addr_from_start = true;
  const network = await server.create('virtual-network', body);
  const got = [];
  for (let index = 0; index < 3; index++) got.push(await instanceIp(network.uuid));
  assert.deepEqual(
    got.map((reply) => reply.status),
    [200, 200, 409],
  );
  assert.deepEqual(
    got.slice(0, 2).map((reply) => reply.body['instance-ip'].instance_ip_address),
    ['10.50.0.100', '10.50.0.101'],
  );
});

test('a subnet with allocated addresses cannot be removed; one without can', async () => {
  const network = await server.create('virtual-network', networkBody('shrink', '10.60.0.0/24', '10.61.0.0/24'));
  const held = await instanceIp(network.uuid, { instance_ip_address: '10.60.0.9' });
  assert.equal(held.status, 200);
  const withoutHeld = networkBody('shrink', '10.61.0.0/24');
  const refused = await server.request('PUT', `/virtual-network/${network.uuid}`, {
    'virtual-network': { network_ipam_refs: withoutHeld.network_ipam_refs },
  });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error.code, 'SUBNET_IN_USE');
  const withoutFree = networkBody('shrink', '10.60.0.0/24');
  const accepted = await server.request('PUT', `/virtual-network/${network.uuid}`, {
    'virtual-network': { network_ipam_refs: withoutFree.network_ipam_refs },
  });
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
});

test('every interface gets a unique MAC; every network a unique VNI and network id', async () => {
  const macs = new Set<string>();
  for (let index = 0; index < 20; index++) {
    const port = await server.create('virtual-machine-interface', {
      fq_name: ['default-domain', 'default-project', `mac-${index}`],
    });
    const mac = (port.virtual_machine_interface_mac_addresses as { mac_address: string[] }).mac_address[0]!;
    assert.match(mac, /^02(:[0-9a-f]{2}){5}$/);
    macs.add(mac);
  }
  assert.equal(macs.size, 20);
  const given = await server.create('virtual-machine-interface', {
    fq_name: ['default-domain', 'default-project', 'mac-given'],
    virtual_machine_interface_mac_addresses: { mac_address: ['02:AA:BB:CC:DD:EE'] },
  });
  assert.deepEqual(given.virtual_machine_interface_mac_addresses, { mac_address: ['02:aa:bb:cc:dd:ee'] });
  const duplicate = await server.request('POST', '/virtual-machine-interfaces', {
    'virtual-machine-interface': {
      fq_name: ['default-domain', 'default-project', 'mac-dup'],
      virtual_machine_interface_mac_addresses: { mac_address: ['02:aa:bb:cc:dd:ee'] },
    },
  });
  assert.equal(duplicate.status, 409);

  const vnis = new Set<number>();
  const ids = new Set<number>();
  for (let index = 0; index < 10; index++) {
    const network = await server.create('virtual-network', networkBody(`vni-${index}`));
    vnis.add((network.virtual_network_properties as { vxlan_network_identifier: number }).vxlan_network_identifier);
    ids.add(network.virtual_network_network_id as number);
  }
  assert.equal(vnis.size, 10);
  assert.equal(ids.size, 10);
  const taken = [...vnis][0];
  const clash = await server.request('POST', '/virtual-networks', {
    'virtual-network': { ...networkBody('vni-clash'), virtual_network_properties: { vxlan_network_identifier: taken } },
  });
  assert.equal(clash.status, 409);
  assert.equal(clash.body.error.field, 'virtual_network_properties.vxlan_network_identifier');
  const chosen = await server.create('virtual-network', {
    ...networkBody('vni-chosen'),
    virtual_network_properties: { vxlan_network_identifier: 777_777 },
  });
  assert.equal(
    (chosen.virtual_network_properties as { vxlan_network_identifier: number }).vxlan_network_identifier,
    777_777,
  );
});
