// The REST API against a real server and SQLite file: every core type through create, read,
// list, update and delete; list options; references, back-references and children; ref-update;
// fq_name lookups; and bad input that must change nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_IPAM, DEFAULT_PROJECT, networkBody, startTestServer, type TestServer } from '../testing/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.dispose());

const countOf = async (type: string) => (await server.request('GET', `/${type}s?count=true`)).body[`${type}s`].count;

describe('every core type', () => {
  test('creates, reads, lists, updates and deletes each one, parents and references by uuid and fq_name', async () => {
    const created: { type: string; uuid: string; parent?: string }[] = [];
    const make = async (type: string, body: Record<string, unknown>) => {
      const object = await server.create(type, body);
      created.push({ type, uuid: object.uuid, parent: object.parent_uuid as string | undefined });
      return object;
    };
    const domain = await make('domain', { fq_name: ['d1'] });
    const project = await make('project', { fq_name: ['d1', 'p1'], quota: { virtual_network: 10 } });
    const ipam = await make('network-ipam', { parent_uuid: project.uuid, name: 'ipam1' });
    const policy = await make('network-policy', {
      fq_name: ['d1', 'p1', 'allow-web'],
      network_policy_entries: {
        policy_rule: [
          {
            direction: '<>',
            protocol: 'tcp',
            src_addresses: [{ virtual_network: 'd1:p1:web' }],
            dst_addresses: [{ virtual_network: 'any' }],
            src_ports: [{ start_port: -1, end_port: -1 }],
            dst_ports: [{ start_port: 80, end_port: 80 }],
            action_list: { simple_action: 'pass' },
          },
        ],
      },
    });
    const network = await make('virtual-network', {
      fq_name: ['d1', 'p1', 'web'],
      network_ipam_refs: [
        { uuid: ipam.uuid, attr: { ipam_subnets: [{ subnet: { ip_prefix: '10.10.0.0', ip_prefix_len: 24 } }] } },
      ],
      network_policy_refs: [{ to: ['d1', 'p1', 'allow-web'], attr: { sequence: { major: 0, minor: 0 } } }],
      route_target_list: { route_target: ['target:64512:100'] },
      is_shared: false,
    });
    const group = await make('security-group', {
      fq_name: ['d1', 'p1', 'sg1'],
      security_group_entries: { policy_rule: [{ direction: '>', protocol: 'any', ethertype: 'IPv4' }] },
    });
    const machine = await make('virtual-machine', { fq_name: ['pod-1'], server_type: 'container' });
    const port = await make('virtual-machine-interface', {
      fq_name: ['d1', 'p1', 'pod-1-eth0'],
      virtual_network_refs: [{ uuid: network.uuid }],
      virtual_machine_refs: [{ to: ['pod-1'] }],
      security_group_refs: [{ uuid: group.uuid }],
      virtual_machine_interface_bindings: { key_value_pair: [{ key: 'host_id', value: 'host-a' }] },
      annotations: { key_value_pair: [{ key: 'interface', value: 'eth0' }] },
    });
    const address = await make('instance-ip', {
      virtual_network_refs: [{ uuid: network.uuid }],
      virtual_machine_interface_refs: [{ uuid: port.uuid }],
    });
    const pool = await make('floating-ip-pool', { parent_uuid: network.uuid, name: 'pool' });
    const floating = await make('floating-ip', {
      parent_uuid: pool.uuid,
      virtual_machine_interface_refs: [{ uuid: port.uuid }],
      project_refs: [{ uuid: project.uuid }],
    });
    const system = await make('global-system-config', { fq_name: ['gsc-2'], autonomous_system: 64512 });
    const router = await make('virtual-router', {
      fq_name: ['default-global-system-config', 'host-a'],
      virtual_router_ip_address: '192.0.2.10',
      virtual_machine_refs: [{ uuid: machine.uuid }],
    });

    assert.equal(project.parent_uuid, domain.uuid);
    assert.deepEqual(ipam.fq_name, ['d1', 'p1', 'ipam1']);
    assert.deepEqual(network.network_policy_refs, [
      {
        to: ['d1', 'p1', 'allow-web'],
        uuid: policy.uuid,
        attr: { sequence: { major: 0, minor: 0 } },
        href: `${server.restUrl}/network-policy/${policy.uuid}`,
      },
    ]);
    assert.match(String(address.instance_ip_address), /^10\.10\.0\.\d+$/);
    assert.match(String(floating.floating_ip_address), /^10\.10\.0\.\d+$/);
    assert.notEqual(address.instance_ip_address, floating.floating_ip_address);
    assert.equal(typeof (group as { security_group_id?: number }).security_group_id, 'number');
    assert.equal(system.autonomous_system, 64512);
    assert.equal(router.parent_type, 'global-system-config');

    for (const { type, uuid, parent } of created) {
      const read = await server.request('GET', `/${type}/${uuid}`);
      assert.equal(read.status, 200, `${type} read`);
      assert.equal(read.body[type].uuid, uuid);
      const listed = await server.request('GET', parent ? `/${type}s?parent_id=${parent}` : `/${type}s`);
      assert.ok(
        listed.body[`${type}s`].some((entry: { uuid: string }) => entry.uuid === uuid),
        `${type} listed`,
      );
      const updated = await server.request('PUT', `/${type}/${uuid}`, { [type]: { display_name: `new ${type}` } });
      assert.equal(updated.status, 200, `${type} update: ${JSON.stringify(updated.body)}`);
      const reread = await server.request('GET', `/${type}/${uuid}`);
      assert.equal(reread.body[type].display_name, `new ${type}`);
      assert.deepEqual(reread.body[type].fq_name, read.body[type].fq_name);
      assert.equal(reread.body[type].id_perms.created, read.body[type].id_perms.created);
      await assertListOptions(type, reread.body[type]);
    }

    // A read shows back-references and children.
    const networkRead = (await server.request('GET', `/virtual-network/${network.uuid}`)).body['virtual-network'];
    assert.deepEqual(
      networkRead.virtual_machine_interface_back_refs.map((ref: { uuid: string }) => ref.uuid),
      [port.uuid],
    );
    assert.deepEqual(
      networkRead.instance_ip_back_refs.map((ref: { uuid: string }) => ref.uuid),
      [address.uuid],
    );
    assert.deepEqual(
      networkRead.floating_ip_pools.map((child: { uuid: string }) => child.uuid),
      [pool.uuid],
    );
    const slim = (await server.request('GET', `/project/${project.uuid}?exclude_children=true&exclude_back_refs=true`))
      .body.project;
    assert.equal(slim.virtual_networks, undefined);
    assert.equal(slim.floating_ip_back_refs, undefined);
    assert.deepEqual(slim.quota, { virtual_network: 10 });
    const picked = (
      await server.request('GET', `/virtual-network/${network.uuid}?fields=route_target_list,floating_ip_pools`)
    ).body['virtual-network'];
    assert.deepEqual(Object.keys(picked).sort(), [
      'floating_ip_pools',
      'fq_name',
      'href',
      'name',
      'parent_type',
      'parent_uuid',
      'route_target_list',
      'uuid',
    ]);
    assert.equal((await server.request('GET', `/project/${project.uuid}?colour=red`)).status, 400);
    const projectRead = (await server.request('GET', `/project/${project.uuid}`)).body.project;
    assert.deepEqual(projectRead.virtual_networks, [
      { to: ['d1', 'p1', 'web'], uuid: network.uuid, href: `${server.restUrl}/virtual-network/${network.uuid}` },
    ]);

    // In use: refused with 409, nothing changes.
    const refused = await server.request('DELETE', `/virtual-network/${network.uuid}`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'IN_USE');
    assert.match(refused.body.error.message, /virtual-machine-interface d1:p1:pod-1-eth0/);
    assert.equal((await server.request('DELETE', `/project/${project.uuid}`)).status, 409);
    assert.equal((await server.request('GET', `/virtual-network/${network.uuid}`)).status, 200);

    for (const { type, uuid } of created.reverse()) {
      const deleted = await server.request('DELETE', `/${type}/${uuid}`);
      assert.equal(deleted.status, 200, `${type} delete: ${JSON.stringify(deleted.body)}`);
      assert.equal((await server.request('GET', `/${type}/${uuid}`)).status, 404);
    }
  });
});

const uuidsOf = (reply: { body: Record<string, { uuid: string }[]> }, type: string) =>
  reply.body[`${type}s`]!.map((entry) => entry.uuid);

/** Every list option finds `object` (of `type`) as it should. */
async function assertListOptions(type: string, object: Record<string, unknown> & { uuid: string }) {
  const list = (query: string) => server.request('GET', `/${type}s?${query}`);
  const detail = await list(`obj_uuids=${object.uuid}&detail=true`);
  assert.deepEqual(
    detail.body[`${type}s`].map((entry: Record<string, { uuid: string }>) => entry[type]!.uuid),
    [object.uuid],
    `${type} obj_uuids + detail`,
  );
  assert.deepEqual((await list(`obj_uuids=${object.uuid}&count=true`)).body, { [`${type}s`]: { count: 1 } });
  const filtered = await list(
    `filters=display_name==${encodeURIComponent(String(object.display_name))}&fields=display_name`,
  );
  assert.deepEqual(
    filtered.body[`${type}s`].map((entry: { uuid: string; display_name: string }) => [entry.uuid, entry.display_name]),
    [[object.uuid, object.display_name]],
    `${type} filters + fields`,
  );
  if (object.parent_uuid) {
    const parentFq = (object.fq_name as string[]).slice(0, -1).join(':');
    const byParent = await list(`parent_fq_name_str=${parentFq}&parent_type=${object.parent_type}`);
    assert.ok(uuidsOf(byParent, type).includes(object.uuid), `${type} parent_fq_name_str`);
  }
  for (const [field, refs] of Object.entries(object)) {
    if (!field.endsWith('_refs') || field.endsWith('_back_refs')) continue;
    for (const ref of refs as { uuid: string }[]) {
      assert.ok(uuidsOf(await list(`back_ref_id=${ref.uuid}`), type).includes(object.uuid), `${type} back_ref_id`);
    }
  }
  // Pages of one cover the whole collection, this object included, each object once.
  const seen: string[] = [];
  for (let marker = ''; ; ) {
    const page = await list(`page_limit=1&page_marker=${marker}`);
    seen.push(...uuidsOf(page, type));
    if (page.body.marker === null) break;
    marker = page.body.marker;
  }
  assert.ok(seen.includes(object.uuid), `${type} pages`);
  assert.equal(new Set(seen).size, seen.length);
  assert.equal(seen.length, (await list('count=true')).body[`${type}s`].count);
}

describe('lists', () => {
  const uuids: string[] = [];
  let project: { uuid: string };
  before(async () => {
    project = await server.create('project', { fq_name: ['default-domain', 'list-p'] });
    for (let index = 0; index < 7; index++) {
      const network = await server.create('virtual-network', {
        fq_name: ['default-domain', 'list-p', `n${index}`],
        is_shared: index % 2 === 0,
        display_name: `net ${index}`,
      });
      uuids.push(network.uuid);
    }
    uuids.sort();
  });

  test('filter by parent_id, parent_fq_name_str, obj_uuids, filters and count', async () => {
    const byParent = await server.request('GET', `/virtual-networks?parent_id=${project.uuid}`);
    assert.deepEqual(
      byParent.body['virtual-networks'].map((entry: { uuid: string }) => entry.uuid),
      uuids,
    );
    const byFq = await server.request('GET', '/virtual-networks?parent_fq_name_str=default-domain:list-p&count=true');
    assert.deepEqual(byFq.body, { 'virtual-networks': { count: 7 } });
    const some = await server.request('GET', `/virtual-networks?obj_uuids=${uuids[1]},${uuids[3]}`);
    assert.deepEqual(
      some.body['virtual-networks'].map((entry: { uuid: string }) => entry.uuid),
      [uuids[1], uuids[3]],
    );
    const shared = await server.request(
      'GET',
      `/virtual-networks?parent_id=${project.uuid}&filters=is_shared==true&fields=display_name,is_shared`,
    );
    assert.equal(shared.body['virtual-networks'].length, 4);
    for (const entry of shared.body['virtual-networks']) {
      assert.equal(entry.is_shared, true);
      assert.match(entry.display_name, /^net [0246]$/);
    }
    const named = await server.request('GET', `/virtual-networks?filters=display_name==net%203`);
    assert.deepEqual(
      named.body['virtual-networks'].map((entry: { fq_name: string[] }) => entry.fq_name.at(-1)),
      ['n3'],
    );
    const badFilter = await server.request('GET', '/virtual-networks?filters=nonsense==1');
    assert.equal(badFilter.status, 400);
    assert.equal(badFilter.body.error.field, 'filters');
  });

  test('detail returns whole objects with back-references, and back_ref_id finds referrers', async () => {
    const port = await server.create('virtual-machine-interface', {
      fq_name: ['default-domain', 'list-p', 'port'],
      virtual_network_refs: [{ uuid: uuids[2] }],
    });
    const detail = await server.request('GET', `/virtual-networks?obj_uuids=${uuids[2]}&detail=true`);
    const object = detail.body['virtual-networks'][0]['virtual-network'];
    assert.equal(object.uuid, uuids[2]);
    assert.deepEqual(
      object.virtual_machine_interface_back_refs.map((ref: { uuid: string }) => ref.uuid),
      [port.uuid],
    );
    const referrers = await server.request('GET', `/virtual-machine-interfaces?back_ref_id=${uuids[2]}`);
    assert.deepEqual(
      referrers.body['virtual-machine-interfaces'].map((entry: { uuid: string }) => entry.uuid),
      [port.uuid],
    );
    const bulk = await server.request('POST', '/list-bulk-collection', {
      type: 'virtual-machine-interfaces',
      back_ref_id: [uuids[2]],
      detail: true,
    });
    assert.equal(bulk.body['virtual-machine-interfaces'][0]['virtual-machine-interface'].uuid, port.uuid);
    assert.equal((await server.request('DELETE', `/virtual-machine-interface/${port.uuid}`)).status, 200);
  });

  test('pages with page_limit and page_marker cover every object once, in uuid order', async () => {
    const seen: string[] = [];
    let marker: string | null = '';
    let pages = 0;
    while (marker !== null) {
      const page: { body: Record<string, unknown> & { marker: string | null } } = await server.request(
        'GET',
        `/virtual-networks?parent_id=${project.uuid}&page_limit=3&page_marker=${marker}`,
      );
      seen.push(...(page.body['virtual-networks'] as { uuid: string }[]).map((entry) => entry.uuid));
      marker = page.body.marker;
      pages += 1;
    }
    assert.deepEqual(seen, uuids);
    assert.equal(pages, 3);
    assert.equal((await server.request('GET', '/virtual-networks?page_limit=0')).status, 400);
  });
});

describe('references and lookups', () => {
  test('ref-update adds and removes a reference with its attr, by uuid or fq_name', async () => {
    const network = await server.create('virtual-network', networkBody('ref-net'));
    const policy = await server.create('network-policy', { fq_name: [...DEFAULT_PROJECT, 'ref-pol'] });
    const added = await server.request('POST', '/ref-update', {
      operation: 'ADD',
      type: 'virtual-network',
      uuid: network.uuid,
      'ref-type': 'network-policy',
      'ref-fq-name': policy.fq_name,
      attr: { sequence: { major: 1, minor: 2 } },
    });
    assert.deepEqual(added.body, { uuid: network.uuid });
    let read = (await server.request('GET', `/virtual-network/${network.uuid}`)).body['virtual-network'];
    assert.deepEqual(read.network_policy_refs[0].attr, { sequence: { major: 1, minor: 2 } });
    const policyRead = (await server.request('GET', `/network-policy/${policy.uuid}`)).body['network-policy'];
    assert.equal(policyRead.virtual_network_back_refs[0].uuid, network.uuid);

    const badAttr = await server.request('POST', '/ref-update', {
      operation: 'ADD',
      type: 'virtual-network',
      uuid: network.uuid,
      'ref-type': 'network-policy',
      'ref-uuid': policy.uuid,
      attr: { sequence: { major: 'first' } },
    });
    assert.equal(badAttr.status, 400);
    assert.match(badAttr.body.error.field, /^network_policy_refs\[0\]\.attr\.sequence/);

    const removed = await server.request('POST', '/ref-update', {
      operation: 'DELETE',
      type: 'virtual-network',
      uuid: network.uuid,
      'ref-type': 'network-policy',
      'ref-uuid': policy.uuid,
    });
    assert.equal(removed.status, 200);
    read = (await server.request('GET', `/virtual-network/${network.uuid}`)).body['virtual-network'];
    assert.deepEqual(read.network_policy_refs, []);
    assert.equal((await server.request('DELETE', `/network-policy/${policy.uuid}`)).status, 200);
  });

  test('fqname-to-id and id-to-fqname', async () => {
    const ipam = await server.request('POST', '/fqname-to-id', { type: 'network-ipam', fq_name: DEFAULT_IPAM });
    assert.equal(ipam.status, 200);
    const back = await server.request('POST', '/id-to-fqname', { uuid: ipam.body.uuid });
    assert.deepEqual(back.body, { type: 'network-ipam', fq_name: DEFAULT_IPAM });
    const missing = await server.request('POST', '/fqname-to-id', { type: 'network-ipam', fq_name: ['nope'] });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'NOT_FOUND');
    const unknownType = await server.request('POST', '/fqname-to-id', { type: 'router', fq_name: ['x'] });
    assert.equal(unknownType.status, 404);
    assert.equal(unknownType.body.error.code, 'NO_SUCH_TYPE');
  });

  test('the default objects exist from the first start', async () => {
    for (const [type, fqName] of [
      ['global-system-config', ['default-global-system-config']],
      ['domain', ['default-domain']],
      ['project', DEFAULT_PROJECT],
      ['network-ipam', DEFAULT_IPAM],
    ] as const) {
      assert.equal((await server.request('POST', '/fqname-to-id', { type, fq_name: fqName })).status, 200, type);
    }
  });
});

describe('bad input gets a 4xx naming the field and stores nothing', () => {
  const cases: [string, string, unknown, number, string | RegExp][] = [
    ['malformed JSON', '/virtual-networks', '{"virtual-network": {', 400, 'body'],
    [
      'unknown field',
      '/virtual-networks',
      { 'virtual-network': { fq_name: [...DEFAULT_PROJECT, 'x'], colour: 1 } },
      400,
      'virtual-network.colour',
    ],
    [
      'wrong field type',
      '/virtual-networks',
      { 'virtual-network': { fq_name: [...DEFAULT_PROJECT, 'x'], is_shared: 'yes' } },
      400,
      'virtual-network.is_shared',
    ],
    ['wrong envelope', '/virtual-networks', { network: {} }, 400, /network|virtual-network/],
    [
      'bad prefix',
      '/virtual-networks',
      { 'virtual-network': networkBody('x', '10.0.0.1/24') },
      400,
      'network_ipam_refs[0].attr.ipam_subnets[0].subnet.ip_prefix',
    ],
    [
      'not an address',
      '/virtual-networks',
      { 'virtual-network': networkBody('x', '10.0.0.300/24') },
      400,
      'network_ipam_refs[0].attr.ipam_subnets[0].subnet.ip_prefix',
    ],
    [
      'overlapping subnets',
      '/virtual-networks',
      { 'virtual-network': networkBody('x', '10.0.0.0/24', '10.0.0.128/25') },
      400,
      'network_ipam_refs[0].attr.ipam_subnets[1].subnet',
    ],
    [
      'bad MAC',
      '/virtual-machine-interfaces',
      {
        'virtual-machine-interface': {
          fq_name: [...DEFAULT_PROJECT, 'x'],
          virtual_machine_interface_mac_addresses: { mac_address: ['02:00:00:00:00'] },
        },
      },
      400,
      'virtual-machine-interface.virtual_machine_interface_mac_addresses.mac_address[0]',
    ],
    [
      'dangling reference',
      '/virtual-machine-interfaces',
      {
        'virtual-machine-interface': {
          fq_name: [...DEFAULT_PROJECT, 'x'],
          virtual_network_refs: [{ uuid: '00000000-0000-4000-8000-000000000000' }],
        },
      },
      404,
      'virtual_network_refs[0]',
    ],
    [
      'missing parent',
      '/virtual-networks',
      { 'virtual-network': { fq_name: ['default-domain', 'nope', 'x'] } },
      404,
      'fq_name',
    ],
    ['duplicate fq_name', '/network-ipams', { 'network-ipam': { fq_name: DEFAULT_IPAM } }, 409, 'fq_name'],
    [
      'deep nesting',
      '/virtual-networks',
      `{"virtual-network":{"annotations":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
      400,
      /annotations/,
    ],
  ];
  for (const [what, path, body, status, field] of cases) {
    test(what, async () => {
      const type = path.slice(1, -1);
      const before = await countOf(type);
      const reply = await server.request('POST', path, body);
      assert.equal(reply.status, status, JSON.stringify(reply.body));
      assert.equal(typeof reply.body.error.message, 'string');
      if (field instanceof RegExp) assert.match(reply.body.error.field ?? reply.body.error.message, field);
      else assert.equal(reply.body.error.field, field, JSON.stringify(reply.body));
      assert.equal(await countOf(type), before);
    });
  }

  test('oversized body gets 413', async () => {
    const reply = await server.request('POST', '/virtual-networks', {
      'virtual-network': { fq_name: [...DEFAULT_PROJECT, 'big'], display_name: 'x'.repeat(2 * 1024 * 1024) },
    });
    assert.equal(reply.status, 413);
  });

  test('unknown type, bad uuid and unknown object', async () => {
    assert.equal((await server.request('GET', '/routers')).status, 404);
    const badUuid = await server.request('GET', '/virtual-network/not-a-uuid');
    assert.equal(badUuid.status, 400);
    assert.equal(badUuid.body.error.field, 'uuid');
    const missing = await server.request('GET', '/virtual-network/00000000-0000-4000-8000-000000000000');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'NOT_FOUND');
  });

  test('fq_name and parent cannot change on update', async () => {
    const network = await server.create('virtual-network', networkBody('fixed-name'));
    const reply = await server.request('PUT', `/virtual-network/${network.uuid}`, {
      'virtual-network': { fq_name: [...DEFAULT_PROJECT, 'other'] },
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error.field, 'fq_name');
  });
});

test('a GET or DELETE that says content-type: application/json with no body is served, as TF clients send it', async () => {
  const network = await server.create('virtual-network', networkBody('empty-body-habit', '10.77.0.0/24'));
  const asTfClient = (method: string, path: string) =>
    fetch(`${server.restUrl}${path}`, { method, headers: { 'content-type': 'application/json' } });
  const read = await asTfClient('GET', `/virtual-network/${network.uuid}`);
  assert.equal(read.status, 200);
  const deleted = await asTfClient('DELETE', `/virtual-network/${network.uuid}`);
  assert.equal(deleted.status, 200, await deleted.text());
  assert.equal((await server.request('GET', `/virtual-network/${network.uuid}`)).status, 404);
});
