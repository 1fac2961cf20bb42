// Tungsten Fabric's client against a real config-api, through TF's wire shapes: the requests
// vnc_api.VncApi makes (../testing/vnc-client.ts replays them from its source), from the root
// page it starts with to every action and list option, with its habits (null for what is not
// set, a content type on an empty DELETE, objects written back as they were read), and its
// exceptions for each status.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { model } from '@weft/model';
import { DEFAULT_IPAM, DEFAULT_PROJECT, startTestServer, type TestServer } from '../testing/server.js';
import { refTo, VncClient, VncError, type VncErrorKind, vncObject, xsd } from '../testing/vnc-client.js';

type Body = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
type Any = any;

let server: TestServer;
let vnc: VncClient;
let defaultProject: string;
before(async () => {
  server = await startTestServer();
  vnc = await VncClient.connect(server.restUrl);
  defaultProject = await vnc.fqNameToId('project', DEFAULT_PROJECT);
});
after(async () => {
  vnc.close();
  await server.dispose();
});

async function raises(promise: Promise<unknown>, kind: VncErrorKind, content?: RegExp): Promise<VncError> {
  const error = await promise.then(
    () => assert.fail(`expected ${kind}`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof VncError, String(error));
  assert.equal(error.kind, kind, error.message);
  if (content) assert.match(error.content, content);
  return error;
}

const subnetsOf = (...prefixes: string[]) =>
  xsd('VnSubnetsType', {
    ipam_subnets: prefixes.map((prefix) => {
      const [ip, length] = prefix.split('/');
      return xsd('IpamSubnetType', { subnet: xsd('SubnetType', { ip_prefix: ip, ip_prefix_len: Number(length) }) });
    }),
  });

const ipam = { fq_name: DEFAULT_IPAM, uuid: null };

/** A virtual network in the default project as vnc_api writes one: VirtualNetwork(name, project) + add_network_ipam. */
async function network(name: string, ...prefixes: string[]) {
  const object = vncObject(
    'virtual-network',
    [...DEFAULT_PROJECT, name],
    {
      network_ipam_refs: [refTo(ipam, subnetsOf(...prefixes))],
      virtual_network_properties: xsd('VirtualNetworkType', { forwarding_mode: 'l2_l3' }),
    },
    'project',
  );
  await vnc.create(object);
  return object as typeof object & { uuid: string };
}

async function port(name: string, networkObject: { fq_name: string[]; uuid: string }, fields: Body = {}) {
  const object = vncObject(
    'virtual-machine-interface',
    [...DEFAULT_PROJECT, name],
    { virtual_network_refs: [refTo(networkObject)], ...fields },
    'project',
  );
  await vnc.create(object);
  return object as typeof object & { uuid: string };
}

describe('the root page', () => {
  test('links every type and action the way TF API server does, and the client takes its paths from it', async () => {
    const page = (await vnc.readHomepage()) as { href: string; links: { link: Body }[] };
    assert.equal(page.href, server.restUrl);
    for (const { link } of page.links) {
      assert.deepEqual(Object.keys(link).sort(), ['href', 'name', 'rel']);
      assert.ok((link.href as string).startsWith(page.href), String(link.href));
    }
    for (const type of model.values()) {
      assert.equal(vnc.createUri.get(type.type), `/${type.type}s`);
      assert.equal(vnc.resourceBase.get(type.type), `/${type.type}`);
    }
    assert.deepEqual(Object.fromEntries(vnc.actionUri), {
      'name-to-id': '/fqname-to-id',
      'id-to-name': '/id-to-fqname',
      'ref-update': '/ref-update',
      'ref-relax-for-delete': '/ref-relax-for-delete',
      'prop-collection-get': '/prop-collection-get',
      'prop-collection-update': '/prop-collection-update',
      'set-tag': '/set-tag',
      chown: '/chown',
      chmod: '/chmod',
      'obj-perms': '/obj-perms',
      'list-bulk-collection': '/list-bulk-collection',
      'useragent-keyvalue': '/useragent-kv',
      'virtual-network-ip-alloc': '/virtual-network/%s/ip-alloc',
      'virtual-network-ip-free': '/virtual-network/%s/ip-free',
      'virtual-network-subnet-ip-count': '/virtual-network/%s/subnet-ip-count',
    });
  });
});

describe("TF's request habits", () => {
  test('a create with "uuid": null and every unset attribute null stores what was set, nothing of the nulls', async () => {
    const project = vncObject(
      'project',
      ['default-domain', 'vnc-habits'],
      {
        quota: xsd('QuotaType', { virtual_network: 10 }),
        id_perms: xsd('IdPermsType', { enable: true, description: 'made by vnc_api' }),
        perms2: xsd('PermType2', { owner: 'admin' }),
        display_name: null,
      },
      'domain',
    );
    await vnc.create(project);
    const sent = JSON.parse(vnc.requests.at(-1)!.body!).project;
    assert.equal(sent.uuid, null);
    assert.equal(sent.id_perms.creator, null);
    const read = await vnc.read('project', { id: project.uuid! });
    assert.deepEqual(read.quota, { virtual_network: 10, host_based_service: 0 });
    assert.equal((read.id_perms as Body).description, 'made by vnc_api');
    assert.equal((read.id_perms as Body).creator, undefined);
    assert.equal((read.perms2 as Body).owner, 'admin');
    assert.equal(read.display_name, 'vnc-habits');

    const blue = await network('vnc-blue', '10.70.0.0/24');
    const net = await vnc.read('virtual-network', { id: blue.uuid });
    const [subnet] = ((net.network_ipam_refs as Any)[0].attr as Any).ipam_subnets;
    assert.equal(subnet.default_gateway, '10.70.0.1');
    assert.equal(subnet.enable_dhcp, true);
    assert.equal(subnet.alloc_unit, 1);
    assert.equal(subnet.dns_nameservers, undefined);
    assert.equal((net.virtual_network_properties as Body).mirror_destination, false);
    assert.equal((net.virtual_network_properties as Body).rpf, undefined);
  });

  test('a read is by default without back-references and children; fields picks fields; exclude_hrefs drops hrefs', async () => {
    const red = await network('vnc-read', '10.71.0.0/24');
    await port('vnc-read-port', red);
    assert.match(vnc.requests.at(-1)!.path, /^\/virtual-machine-interfaces$/);
    const lean = await vnc.read('virtual-network', { id: red.uuid });
    assert.match(vnc.requests.at(-1)!.path, /exclude_back_refs=True&exclude_children=True$/);
    assert.equal(lean.virtual_machine_interface_back_refs, undefined);
    assert.equal(lean.href, `${server.restUrl}/virtual-network/${red.uuid}`);
    const full = await vnc.read(
      'virtual-network',
      { id: red.uuid },
      { excludeBackRefs: false, excludeChildren: false },
    );
    assert.equal((full.virtual_machine_interface_back_refs as Body[]).length, 1);
    const picked = await vnc.read(
      'virtual-network',
      { fq_name: red.fq_name },
      { fields: ['virtual_machine_interface_back_refs'] },
    );
    assert.deepEqual(Object.keys(picked).sort(), [
      'fq_name',
      'href',
      'name',
      'parent_type',
      'parent_uuid',
      'uuid',
      'virtual_machine_interface_back_refs',
    ]);
    const bare = await vnc.read('virtual-network', { id: red.uuid }, { excludeHrefs: true, excludeBackRefs: false });
    assert.equal(bare.href, undefined);
    assert.equal(bare.parent_href, undefined);
    assert.equal((bare.network_ipam_refs as Body[])[0]!.href, undefined);
    assert.equal((bare.virtual_machine_interface_back_refs as Body[])[0]!.href, undefined);
  });

  test('an update sends the uuid and the fields set; a property set to null goes away', async () => {
    const green = await network('vnc-update', '10.72.0.0/24');
    green.pending = {
      display_name: 'Green',
      route_target_list: xsd('RouteTargetList', { route_target: ['target:64512:72'] }),
    };
    await vnc.update(green);
    const sent = JSON.parse(vnc.requests.at(-1)!.body!)['virtual-network'];
    assert.deepEqual(Object.keys(sent).sort(), ['display_name', 'route_target_list', 'uuid']);
    let read = await vnc.read('virtual-network', { id: green.uuid });
    assert.equal(read.display_name, 'Green');
    assert.deepEqual(read.route_target_list, { route_target: ['target:64512:72'] });
    green.pending = { route_target_list: null };
    await vnc.update(green);
    read = await vnc.read('virtual-network', { id: green.uuid });
    assert.equal(read.route_target_list, undefined);
    assert.equal(read.display_name, 'Green');
  });

  test('an object read and written back whole (hrefs, back-references, children, id_perms.uuid) is accepted and unchanged', async () => {
    const orange = await network('vnc-roundtrip', '10.73.0.0/24');
    await port('vnc-roundtrip-port', orange);
    const read = await vnc.read(
      'virtual-network',
      { id: orange.uuid },
      { excludeBackRefs: false, excludeChildren: false },
    );
    assert.ok(read.parent_href && read.virtual_machine_interface_back_refs);
    // As TF's server renders it: the uuid in two unsigned 64-bit halves, past what JSON numbers keep.
    const written = JSON.stringify({
      'virtual-network': { ...read, id_perms: { ...(read.id_perms as Body), uuid: '@uuid' }, routing_instances: [] },
    }).replace('"@uuid"', '{"uuid_mslong": 10125498831222882614, "uuid_lslong": 11086156774262128366}');
    await vnc.updateRaw('virtual-network', orange.uuid, written);
    const again = await vnc.read(
      'virtual-network',
      { id: orange.uuid },
      { excludeBackRefs: false, excludeChildren: false },
    );
    const { id_perms: before, ...restBefore } = read;
    const { id_perms: now, ...restNow } = again;
    assert.deepEqual(restNow, restBefore);
    assert.equal((now as Body).created, (before as Body).created);
  });

  test('a DELETE carries Content-type: application/json and no body, and is served', async () => {
    const doomed = await network('vnc-delete', '10.74.0.0/24');
    await vnc.delete('virtual-network', doomed.uuid);
    const sent = vnc.requests.at(-1)!;
    assert.equal(sent.method, 'DELETE');
    assert.equal(sent.headers['Content-type'], 'application/json; charset="UTF-8"');
    assert.equal(sent.headers['Content-Length'], '0');
    await raises(vnc.read('virtual-network', { id: doomed.uuid }), 'NoIdError');
  });

  test("each status maps onto the client's exception", async () => {
    await raises(vnc.read('virtual-network', { id: '00000000-0000-4000-8000-000000000000' }), 'NoIdError');
    await raises(vnc.fqNameToId('virtual-network', [...DEFAULT_PROJECT, 'nowhere']), 'NoIdError', /nowhere/);
    const used = await network('vnc-in-use', '10.75.0.0/24');
    await port('vnc-in-use-port', used);
    await raises(vnc.delete('virtual-network', used.uuid), 'RefsExistError', /IN_USE/);
    await raises(
      vnc.create(vncObject('virtual-network', used.fq_name, {}, 'project')),
      'RefsExistError',
      /FQ_NAME_TAKEN/,
    );
    const bad = vncObject('virtual-network', [...DEFAULT_PROJECT, 'vnc-bad'], {
      virtual_network_properties: xsd('VirtualNetworkType', { forwarding_mode: 'l4' }),
    });
    await raises(vnc.create(bad), 'BadRequest', /forwarding_mode/);
    const huge = vncObject('virtual-network', [...DEFAULT_PROJECT, 'vnc-huge'], {
      display_name: 'x'.repeat(2 * 1024 * 1024),
    });
    await raises(vnc.create(huge), 'RequestSizeError');
  });
});

describe('actions', () => {
  test('name-to-id and id-to-name', async () => {
    const project = await vnc.fqNameToId('project', DEFAULT_PROJECT);
    assert.deepEqual(await vnc.idToFqNameType(project), { fq_name: DEFAULT_PROJECT, type: 'project' });
  });

  test('ref-update adds a reference with its attr, changes the attr, and deletes by fq_name', async () => {
    const policy = vncObject('network-policy', [...DEFAULT_PROJECT, 'vnc-policy'], {}, 'project');
    await vnc.create(policy);
    const net = await network('vnc-refs', '10.76.0.0/24');
    const sequence = (major: number) =>
      xsd('VirtualNetworkPolicyType', { sequence: xsd('SequenceType', { major, minor: 0 }) });
    assert.equal(
      await vnc.refUpdate('virtual-network', net.uuid, 'network_policy_refs', policy.uuid!, [], 'ADD', sequence(1)),
      net.uuid,
    );
    await vnc.refUpdate('virtual-network', net.uuid, 'network-policy', policy.uuid!, [], 'ADD', sequence(2));
    let read = await vnc.read('virtual-network', { id: net.uuid });
    assert.deepEqual(
      (read.network_policy_refs as Any).map((ref: Body) => ref.attr),
      [{ sequence: { major: 2, minor: 0 } }],
    );
    await vnc.refUpdate('virtual-network', net.uuid, 'network_policy_refs', null, policy.fq_name, 'DELETE');
    read = await vnc.read('virtual-network', { id: net.uuid });
    assert.deepEqual(read.network_policy_refs, []);
    await raises(
      vnc.refUpdate('virtual-network', net.uuid, 'network-policy', null, [...DEFAULT_PROJECT, 'none'], 'ADD'),
      'NoIdError',
    );
  });

  test('ref-relax-for-delete lets the target go, taking the reference with it', async () => {
    const group = vncObject('security-group', [...DEFAULT_PROJECT, 'vnc-relaxed-sg'], {}, 'project');
    await vnc.create(group);
    const net = await network('vnc-relax', '10.77.0.0/24');
    const vmi = await port('vnc-relax-port', net, { security_group_refs: [refTo(group)] });
    await raises(vnc.delete('security-group', group.uuid!), 'RefsExistError');
    assert.equal(await vnc.refRelaxForDelete(vmi.uuid, group.uuid!), vmi.uuid);
    await vnc.delete('security-group', group.uuid!);
    const read = await vnc.read('virtual-machine-interface', { id: vmi.uuid });
    assert.deepEqual(read.security_group_refs, []);
    await raises(vnc.refRelaxForDelete(vmi.uuid, net.uuid.replace(/^.{4}/, 'ffff')), 'NoIdError');
  });

  test('prop-collection-update and -get change and read one element of a map or a list', async () => {
    const net = await network('vnc-props', '10.78.0.0/24');
    await vnc.propCollectionUpdate(
      net.uuid,
      'annotations',
      'set',
      xsd('KeyValuePair', { key: 'stage', value: 'prod' }),
    );
    await vnc.propCollectionUpdate(net.uuid, 'annotations', 'set', xsd('KeyValuePair', { key: 'team', value: 'red' }));
    await vnc.propCollectionUpdate(net.uuid, 'annotations', 'set', xsd('KeyValuePair', { key: 'team', value: 'blue' }));
    assert.deepEqual(await vnc.propCollectionGet(net.uuid, 'annotations'), [
      [{ key: 'stage', value: 'prod' }, 'stage'],
      [{ key: 'team', value: 'blue' }, 'team'],
    ]);
    assert.deepEqual(await vnc.propCollectionGet(net.uuid, 'annotations', 'team'), [
      [{ key: 'team', value: 'blue' }, 'team'],
    ]);
    await vnc.propCollectionUpdate(net.uuid, 'annotations', 'delete', null, 'stage');
    const read = await vnc.read('virtual-network', { id: net.uuid });
    assert.deepEqual(read.annotations, { key_value_pair: [{ key: 'team', value: 'blue' }] });

    const group = vncObject('address-group', [...DEFAULT_PROJECT, 'vnc-prefixes'], {}, 'project');
    await vnc.create(group);
    const prefix = (ip: string) => xsd('SubnetType', { ip_prefix: ip, ip_prefix_len: 24 });
    await vnc.propCollectionUpdate(group.uuid!, 'address_group_prefix', 'add', prefix('10.1.0.0'));
    await vnc.propCollectionUpdate(group.uuid!, 'address_group_prefix', 'add', prefix('10.3.0.0'));
    await vnc.propCollectionUpdate(group.uuid!, 'address_group_prefix', 'add', prefix('10.2.0.0'), 1);
    await vnc.propCollectionUpdate(group.uuid!, 'address_group_prefix', 'modify', prefix('10.9.0.0'), '0');
    await vnc.propCollectionUpdate(group.uuid!, 'address_group_prefix', 'delete', null, 2);
    assert.deepEqual(await vnc.propCollectionGet(group.uuid!, 'address_group_prefix'), [
      [{ ip_prefix: '10.9.0.0', ip_prefix_len: 24 }, 0],
      [{ ip_prefix: '10.2.0.0', ip_prefix_len: 24 }, 1],
    ]);
    await raises(vnc.propCollectionUpdate(net.uuid, 'display_name', 'set', 'x'), 'BadRequest', /display_name/);
    await raises(
      vnc.propCollectionUpdate(group.uuid!, 'address_group_prefix', 'modify', prefix('10.4.0.0'), 5),
      'BadRequest',
      /position/,
    );
  });

  test('set-tag attaches, replaces and removes tags by type; labels take several values', async () => {
    const global = vncObject('tag', ['application=web'], { tag_type_name: 'application', tag_value: 'web' });
    await vnc.create(global);
    const scoped = vncObject(
      'tag',
      [...DEFAULT_PROJECT, 'application=db'],
      { tag_type_name: 'application', tag_value: 'db' },
      'project',
    );
    await vnc.create(scoped);
    for (const value of ['red', 'blue']) {
      await vnc.create(
        vncObject(
          'tag',
          [...DEFAULT_PROJECT, `label=${value}`],
          { tag_type_name: 'label', tag_value: value },
          'project',
        ),
      );
    }
    const net = await network('vnc-tagged', '10.79.0.0/24');
    const tagsOf = async () =>
      ((await vnc.read('virtual-network', { id: net.uuid })).tag_refs as { to: string[] }[])
        .map((ref) => ref.to.join(':'))
        .sort();
    const target = { type: 'virtual_network', uuid: net.uuid };
    await vnc.setTags(target, { application: { is_global: true, value: 'web' } });
    assert.deepEqual(await tagsOf(), ['application=web']);
    await vnc.setTags(target, { application: { value: 'db' }, label: { add_values: ['red', 'blue'] } });
    assert.deepEqual(await tagsOf(), [
      'default-domain:default-project:application=db',
      'default-domain:default-project:label=blue',
      'default-domain:default-project:label=red',
    ]);
    await vnc.setTags(target, { label: { delete_values: ['red'] } });
    await vnc.setTags(target, { application: null });
    assert.deepEqual(await tagsOf(), ['default-domain:default-project:label=blue']);
    await raises(vnc.setTags(target, { application: { add_values: ['web'] } }), 'BadRequest', /application/);
    await raises(vnc.setTags(target, { tier: { value: 'front' } }), 'NoIdError', /tier=front/);
  });

  test('chown and chmod change perms2; global access shares the network; obj-perms answers with every permission', async () => {
    const net = await network('vnc-perms', '10.80.0.0/24');
    const owner = '6f0c2e2a-8f63-4a7e-9d2a-2b2f59c0a0b1';
    await vnc.chown(net.uuid, owner);
    await vnc.chmod(net.uuid, { ownerAccess: 5, share: [[`tenant:${owner}`, 4]], globalAccess: 4 });
    const read = await vnc.read('virtual-network', { id: net.uuid });
    assert.deepEqual(read.perms2, {
      owner,
      owner_access: 5,
      global_access: 4,
      share: [{ tenant: `tenant:${owner}`, tenant_access: 4 }],
    });
    assert.equal(read.is_shared, true);
    await raises(vnc.chmod(net.uuid, { ownerAccess: 9 }), 'BadRequest', /owner_access/);
    await raises(vnc.chown(net.uuid, 'nobody'), 'BadRequest', /owner/);
    assert.deepEqual(await vnc.objPerms(net.uuid), {
      token_info: null,
      is_cloud_admin_role: false,
      is_global_read_only_role: false,
      permissions: 'RWX',
    });
  });

  test('useragent-kv stores, retrieves (one or all) and deletes', async () => {
    await vnc.kvStore('vnc-key', { port: 'abc', binding: [1, 2] });
    await vnc.kvStore('vnc-other', 'text');
    assert.deepEqual(await vnc.kvRetrieve('vnc-key'), { port: 'abc', binding: [1, 2] });
    await vnc.kvStore('vnc-key', 'replaced');
    assert.deepEqual(
      ((await vnc.kvRetrieve()) as Body[]).filter((entry) => String(entry.key).startsWith('vnc-')),
      [
        { key: 'vnc-key', value: 'replaced' },
        { key: 'vnc-other', value: 'text' },
      ],
    );
    await vnc.kvDelete('vnc-key');
    await raises(vnc.kvRetrieve('vnc-key'), 'NoIdError', /vnc-key/);
  });

  test('ip-alloc takes addresses no instance-ip gets, ip-free gives them back, subnet-ip-count counts', async () => {
    const net = await network('vnc-ipblock', '10.81.0.0/29');
    const taken = await vnc.virtualNetworkIpAlloc(net.uuid, 2, '10.81.0.0/29', 'v4');
    assert.deepEqual(taken, ['10.81.0.5', '10.81.0.4']);
    assert.deepEqual(await vnc.virtualNetworkSubnetIpCount(net.uuid, ['10.81.0.0/29']), [2]);
    const vmi = await port('vnc-ipblock-port', net);
    const ip = vncObject('instance-ip', ['vnc-ipblock-ip'], {
      virtual_network_refs: [refTo(net)],
      virtual_machine_interface_refs: [refTo(vmi)],
    });
    await vnc.create(ip);
    assert.equal((await vnc.read('instance-ip', { id: ip.uuid! })).instance_ip_address, '10.81.0.3');
    await raises(vnc.virtualNetworkIpFree(net.uuid, ['10.81.0.3']), 'RefsExistError', /instance-ip/);
    await vnc.virtualNetworkIpFree(net.uuid, taken);
    assert.deepEqual(await vnc.virtualNetworkSubnetIpCount(net.uuid, ['10.81.0.0/29']), [1]);
    assert.deepEqual(await vnc.virtualNetworkIpAlloc(net.uuid), ['10.81.0.5']);
    await raises(vnc.virtualNetworkIpAlloc(net.uuid, 1, '10.99.0.0/24'), 'BadRequest', /subnet/);
  });
});

describe('list options', () => {
  let nets: { uuid: string; fq_name: string[] }[];
  let project: string;
  before(async () => {
    const other = vncObject('project', ['default-domain', 'vnc-lists'], {}, 'domain');
    await vnc.create(other);
    project = other.uuid!;
    nets = [];
    for (const [index, shared] of [false, true, false].entries()) {
      const object = vncObject(
        'virtual-network',
        ['default-domain', 'vnc-lists', `list-${index}`],
        {
          network_ipam_refs: [refTo(ipam, subnetsOf(`10.82.${index}.0/24`))],
          is_shared: shared,
          display_name: index === 2 ? 'odd one' : 'even',
        },
        'project',
      );
      await vnc.create(object);
      nets.push(object as { uuid: string; fq_name: string[] });
    }
    await vnc.chmod(nets[1]!.uuid, { globalAccess: 4 });
    await port('vnc-list-port', nets[0]!);
  });

  const uuids = (answer: Body) =>
    ((answer['virtual-networks'] as Body[]).map((entry) => entry.uuid) as string[]).sort();

  test('parent_id, parent_fq_name_str, obj_uuids, fq_names and back_ref_id narrow the list', async () => {
    const mine = nets.map((net) => net.uuid).sort();
    assert.deepEqual(uuids(await vnc.list('virtual-network', { parent_id: project })), mine);
    assert.match(vnc.requests.at(-1)!.path, /detail=False&count=False&shared=False/);
    assert.deepEqual(
      uuids(await vnc.list('virtual-network', { parent_fq_name: ['default-domain', 'vnc-lists'] })),
      mine,
    );
    assert.deepEqual(
      uuids(await vnc.list('virtual-network', { obj_uuids: [nets[0]!.uuid, nets[2]!.uuid] })),
      [nets[0]!.uuid, nets[2]!.uuid].sort(),
    );
    assert.deepEqual(uuids(await vnc.list('virtual-network', { fq_names: [nets[1]!.fq_name] })), [nets[1]!.uuid]);
    const vmis = await vnc.list('virtual-machine-interface', { back_ref_id: nets[0]!.uuid });
    assert.equal((vmis['virtual-machine-interfaces'] as Body[]).length, 1);
  });

  test('detail gives whole objects, fields adds fields to each entry, count counts', async () => {
    const detailed = (await vnc.list('virtual-network', { parent_id: project, detail: true }))[
      'virtual-networks'
    ] as Body[];
    assert.equal(detailed.length, 3);
    const first = detailed.find((entry) => (entry['virtual-network'] as Body).uuid === nets[0]!.uuid)![
      'virtual-network'
    ] as Body;
    assert.equal(first.name, 'list-0');
    assert.ok(first.network_ipam_refs && first.id_perms);
    const withFields = (
      await vnc.list('virtual-network', {
        parent_id: project,
        fields: ['display_name', 'virtual_machine_interface_back_refs'],
      })
    )['virtual-networks'] as Body[];
    const entry = withFields.find((item) => item.uuid === nets[0]!.uuid)!;
    assert.deepEqual(Object.keys(entry).sort(), [
      'display_name',
      'fq_name',
      'href',
      'uuid',
      'virtual_machine_interface_back_refs',
    ]);
    assert.deepEqual(await vnc.list('virtual-network', { parent_id: project, count: true }), {
      'virtual-networks': { count: 3 },
    });
  });

  test('filters match field==json, several values of one field match any', async () => {
    assert.deepEqual(
      uuids(await vnc.list('virtual-network', { parent_id: project, filters: { display_name: 'odd one' } })),
      [nets[2]!.uuid],
    );
    assert.deepEqual(uuids(await vnc.list('virtual-network', { parent_id: project, filters: { is_shared: true } })), [
      nets[1]!.uuid,
    ]);
    assert.deepEqual(
      uuids(
        await vnc.list('virtual-network', {
          parent_id: project,
          filters: { display_name: ['odd one', 'even'], is_shared: false },
        }),
      ),
      [nets[0]!.uuid, nets[2]!.uuid].sort(),
    );
  });

  test('shared adds the networks shared with everyone to those of the parent', async () => {
    const shared = await vnc.list('virtual-network', { parent_id: defaultProject, shared: true });
    assert.ok(uuids(shared).includes(nets[1]!.uuid));
    assert.ok(!uuids(shared).includes(nets[0]!.uuid));
    const unshared = await vnc.list('virtual-network', { parent_id: defaultProject });
    assert.ok(!uuids(unshared).includes(nets[1]!.uuid));
  });

  test('exclude_hrefs, page_limit and page_marker, as TF sends them', async () => {
    const plain = (await server.request('GET', `/virtual-networks?parent_id=${project}&exclude_hrefs=True`)).body;
    assert.ok((plain['virtual-networks'] as Body[]).every((entry) => entry.href === undefined && entry.uuid));
    const ordered = [...nets.map((net) => net.uuid)].sort();
    const first = (await server.request('GET', `/virtual-networks?parent_id=${project}&page_limit=2&page_marker=None`))
      .body;
    assert.deepEqual(uuids(first), ordered.slice(0, 2));
    assert.equal(first.marker, ordered[1]);
    const second = (
      await server.request(
        'GET',
        `/virtual-networks?parent_id=${project}&page_limit=2&page_marker=default-domain:vnc-lists:list-1:${first.marker}`,
      )
    ).body;
    assert.deepEqual(uuids(second), ordered.slice(2));
    assert.equal(second.marker, null);
    const bad = await server.request('GET', '/virtual-networks?page_marker=not-a-marker');
    assert.equal(bad.status, 400);
  });

  test('more than 25 uuids go to list-bulk-collection', async () => {
    const ids = [
      ...nets.map((net) => net.uuid),
      ...Array.from({ length: 30 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`),
    ];
    const answer = await vnc.list('virtual-network', { obj_uuids: ids, detail: true });
    const sent = vnc.requests.at(-1)!;
    assert.equal(sent.path, '/list-bulk-collection');
    assert.equal(JSON.parse(sent.body!).type, 'virtual-network');
    assert.equal((answer['virtual-networks'] as Body[]).length, 3);
  });
});

describe("the types TF's Kubernetes manager creates", () => {
  test('security policy: tags and tag types, address and service groups, firewall rules, policies and application policy sets', async () => {
    const web = vncObject('tag', ['default-tag'], { tag_type_name: 'Application', tag_value: 'k8s-web' });
    await vnc.create(web);
    assert.deepEqual(web.fq_name, ['application=k8s-web']);
    const team = vncObject('tag', [...DEFAULT_PROJECT, 'x'], { tag_type_name: 'team', tag_value: 'blue' }, 'project');
    await vnc.create(team);
    const webTag = await vnc.read('tag', { id: web.uuid! });
    assert.equal(webTag.tag_type_name, 'application');
    assert.match(webTag.tag_id as string, /^0x0001[0-9a-f]{4}$/);
    const teamTag = await vnc.read('tag', { id: team.uuid! });
    assert.match(teamTag.tag_id as string, /^0x0100[0-9a-f]{4}$/);
    const teamType = await vnc.read('tag-type', { fq_name: ['team'] });
    assert.equal(teamType.tag_type_id, '0x0100');
    assert.deepEqual(
      (teamTag.tag_type_refs as Body[]).map((ref) => ref.uuid),
      [teamType.uuid],
    );

    const pm = vncObject('policy-management', ['vnc-k8s']);
    await vnc.create(pm);
    const group = vncObject(
      'address-group',
      ['vnc-k8s', 'pods'],
      {
        address_group_prefix: xsd('SubnetListType', {
          subnet: [xsd('SubnetType', { ip_prefix: '10.32.0.0', ip_prefix_len: 12 })],
        }),
      },
      'policy-management',
    );
    await vnc.create(group);
    const service = vncObject(
      'service-group',
      ['vnc-k8s', 'http'],
      {
        service_group_firewall_service_list: xsd('FirewallServiceGroupType', {
          firewall_service: [
            xsd('FirewallServiceType', {
              protocol: 'tcp',
              dst_ports: xsd('PortType', { start_port: 80, end_port: 80 }),
            }),
          ],
        }),
      },
      'policy-management',
    );
    await vnc.create(service);
    const rule = vncObject(
      'firewall-rule',
      ['vnc-k8s', 'allow-web'],
      {
        action_list: xsd('ActionListType', { simple_action: 'pass' }),
        endpoint_1: xsd('FirewallRuleEndpointType', { tags: ['application=k8s-web'] }),
        endpoint_2: xsd('FirewallRuleEndpointType', { address_group: 'vnc-k8s:pods' }),
        service: xsd('FirewallServiceType', {
          protocol: 'tcp',
          dst_ports: xsd('PortType', { start_port: 80, end_port: 80 }),
        }),
        direction: '<>',
        match_tags: xsd('FirewallRuleMatchTagsType', { tag_list: ['application', 'team'] }),
        service_group_refs: [refTo(service)],
        address_group_refs: [refTo(group)],
      },
      'policy-management',
    );
    await vnc.create(rule);
    const storedRule = await vnc.read('firewall-rule', { id: rule.uuid! });
    assert.deepEqual(storedRule.match_tag_types, { tag_type: [1, 0x100] });
    assert.equal((storedRule.action_list as Body).simple_action, 'pass');
    const policy = vncObject(
      'firewall-policy',
      ['vnc-k8s', 'web'],
      { firewall_rule_refs: [refTo(rule, xsd('FirewallSequence', { sequence: '1.0' }))] },
      'policy-management',
    );
    await vnc.create(policy);
    const aps = vncObject(
      'application-policy-set',
      ['vnc-k8s', 'k8s'],
      { firewall_policy_refs: [refTo(policy, xsd('FirewallSequence', { sequence: '1.0' }))], tag_refs: [refTo(web)] },
      'policy-management',
    );
    await vnc.create(aps);
    const readPolicy = await vnc.read('firewall-policy', { id: policy.uuid! }, { excludeBackRefs: false });
    assert.deepEqual(
      (readPolicy.application_policy_set_back_refs as Body[]).map((ref) => ref.attr),
      [{ sequence: '1.0' }],
    );
    await raises(vnc.delete('firewall-policy', policy.uuid!), 'RefsExistError');
    const listed = await vnc.list('firewall-rule', { parent_fq_name: ['vnc-k8s'] });
    assert.deepEqual(
      (listed['firewall-rules'] as Body[]).map((entry) => entry.uuid),
      [rule.uuid],
    );
    await raises(
      vnc.create(vncObject('firewall-rule', ['vnc-k8s', 'bad'], { direction: '>>' }, 'policy-management')),
      'BadRequest',
      /direction/,
    );
    await raises(
      vnc.create(vncObject('tag', ['no-value'], { tag_type_name: 'application' })),
      'BadRequest',
      /tag_value/,
    );
  });

  test('routing and addresses: logical routers, route tables, BGP routers, alias IPs, virtual DNS and namespaces', async () => {
    const net = await network('vnc-routed', '10.83.0.0/24');
    const vmi = await port('vnc-routed-port', net);
    const routes = xsd('RouteTableType', {
      route: [xsd('RouteType', { prefix: '0.0.0.0/0', next_hop: '10.83.0.254', next_hop_type: 'ip-address' })],
    });
    const table = vncObject('route-table', [...DEFAULT_PROJECT, 'vnc-rt'], { routes }, 'project');
    await vnc.create(table);
    const ifTable = vncObject(
      'interface-route-table',
      [...DEFAULT_PROJECT, 'vnc-irt'],
      { interface_route_table_routes: routes },
      'project',
    );
    await vnc.create(ifTable);
    await vnc.refUpdate('virtual-network', net.uuid, 'route-table', table.uuid!, [], 'ADD');
    await vnc.refUpdate('virtual-machine-interface', vmi.uuid, 'interface-route-table', ifTable.uuid!, [], 'ADD');
    const router = vncObject(
      'logical-router',
      [...DEFAULT_PROJECT, 'vnc-lr'],
      {
        virtual_machine_interface_refs: [refTo(vmi)],
        virtual_network_refs: [refTo(net, xsd('LogicalRouterVirtualNetworkType'))],
        logical_router_type: 'snat-routing',
        configured_route_target_list: xsd('RouteTargetList', { route_target: ['target:64512:9'] }),
      },
      'project',
    );
    await vnc.create(router);
    const readRouter = await vnc.read('logical-router', { id: router.uuid! });
    assert.deepEqual((readRouter.virtual_network_refs as Body[])[0]!.attr, {
      logical_router_virtual_network_type: 'ExternalGateway',
    });

    const instance = vncObject('routing-instance', [...net.fq_name, '__default__'], {}, 'virtual-network');
    await vnc.create(instance);
    const params = (address: string) =>
      xsd('BgpRouterParams', {
        autonomous_system: 64512,
        identifier: address,
        address,
        router_type: 'control-node',
        address_families: xsd('AddressFamilies', { family: ['route-target', 'inet-vpn', 'e-vpn'] }),
      });
    const peer = vncObject(
      'bgp-router',
      [...instance.fq_name, 'gw'],
      { bgp_router_parameters: params('192.0.2.1') },
      'routing-instance',
    );
    await vnc.create(peer);
    const control = vncObject(
      'bgp-router',
      [...instance.fq_name, 'control-1'],
      {
        bgp_router_parameters: params('192.0.2.2'),
        bgp_router_refs: [
          refTo(peer, { session: [{ uuid: null, attributes: [{ admin_down: false, hold_time: 90 }] }] }),
        ],
      },
      'routing-instance',
    );
    await vnc.create(control);
    const readPeer = await vnc.read('bgp-router', { id: peer.uuid! }, { excludeBackRefs: false });
    assert.equal((readPeer.bgp_router_parameters as Body).port, 179);
    assert.deepEqual(
      (readPeer.bgp_router_back_refs as Body[]).map((ref) => ref.uuid),
      [control.uuid],
    );

    const pool = vncObject('alias-ip-pool', [...net.fq_name, 'aliases'], {}, 'virtual-network');
    await vnc.create(pool);
    const alias = vncObject(
      'alias-ip',
      [...pool.fq_name, 'a1'],
      { project_refs: [{ to: DEFAULT_PROJECT, attr: null }], virtual_machine_interface_refs: [refTo(vmi)] },
      'alias-ip-pool',
    );
    await vnc.create(alias);
    const readAlias = await vnc.read('alias-ip', { id: alias.uuid! });
    assert.equal(readAlias.alias_ip_address, '10.83.0.253');
    assert.equal(readAlias.alias_ip_address_family, 'v4');

    const dns = vncObject(
      'virtual-DNS',
      ['default-domain', 'vnc-dns'],
      { virtual_DNS_data: xsd('VirtualDnsType', { domain_name: 'k8s.local' }) },
      'domain',
    );
    await vnc.create(dns);
    assert.equal(vnc.requests.at(-1)!.path, '/virtual-DNSs');
    const ipamUuid = await vnc.fqNameToId('network-ipam', DEFAULT_IPAM);
    await vnc.refUpdate('network-ipam', ipamUuid, 'virtual_DNS_refs', dns.uuid!, [], 'ADD');
    assert.equal(((await vnc.read('network-ipam', { id: ipamUuid })).virtual_DNS_refs as Body[])[0]!.uuid, dns.uuid);
    await vnc.refUpdate('network-ipam', ipamUuid, 'virtual_DNS_refs', dns.uuid!, [], 'DELETE');
    await raises(
      vnc.create(
        vncObject(
          'virtual-DNS',
          ['default-domain', 'vnc-dns-2'],
          { virtual_DNS_data: xsd('VirtualDnsType') },
          'domain',
        ),
      ),
      'BadRequest',
      /domain_name/,
    );

    const namespace = vncObject(
      'namespace',
      ['default-domain', 'vnc-ns'],
      { namespace_cidr: xsd('SubnetType', { ip_prefix: '10.96.0.0', ip_prefix_len: 12 }) },
      'domain',
    );
    await vnc.create(namespace);
    await vnc.refUpdate(
      'project',
      defaultProject,
      'namespace',
      namespace.uuid!,
      [],
      'ADD',
      xsd('SubnetType', { ip_prefix: '10.96.0.0', ip_prefix_len: 16 }),
    );
    const readNamespace = await vnc.read('namespace', { id: namespace.uuid! }, { excludeBackRefs: false });
    assert.deepEqual((readNamespace.project_back_refs as Body[])[0]!.attr, {
      ip_prefix: '10.96.0.0',
      ip_prefix_len: 16,
    });
    await vnc.refUpdate('project', defaultProject, 'namespace', namespace.uuid!, [], 'DELETE');
  });

  test('load balancing: a load balancer, its listener, pool, members and health monitor', async () => {
    const net = await network('vnc-lb', '10.84.0.0/24');
    const vip = await port('vnc-lb-vip', net);
    const subnetUuid = ((await vnc.read('virtual-network', { id: net.uuid })).network_ipam_refs as Any)[0].attr
      .ipam_subnets[0].subnet_uuid;
    const balancer = vncObject(
      'loadbalancer',
      [...DEFAULT_PROJECT, 'vnc-svc'],
      {
        loadbalancer_properties: xsd('LoadbalancerType', { vip_subnet_id: subnetUuid, vip_address: '10.84.0.10' }),
        loadbalancer_provider: 'native',
        virtual_machine_interface_refs: [refTo(vip)],
      },
      'project',
    );
    await vnc.create(balancer);
    const listener = vncObject(
      'loadbalancer-listener',
      [...DEFAULT_PROJECT, 'vnc-svc-80'],
      {
        loadbalancer_listener_properties: xsd('LoadbalancerListenerType', { protocol: 'TCP', protocol_port: 80 }),
        loadbalancer_refs: [refTo(balancer)],
      },
      'project',
    );
    await vnc.create(listener);
    const monitor = vncObject(
      'loadbalancer-healthmonitor',
      [...DEFAULT_PROJECT, 'vnc-svc-hm'],
      {
        loadbalancer_healthmonitor_properties: xsd('LoadbalancerHealthmonitorType', {
          monitor_type: 'TCP',
          delay: 5,
          timeout: 3,
          max_retries: 3,
        }),
      },
      'project',
    );
    await vnc.create(monitor);
    const pool = vncObject(
      'loadbalancer-pool',
      [...DEFAULT_PROJECT, 'vnc-svc-pool'],
      {
        loadbalancer_pool_properties: xsd('LoadbalancerPoolType', {
          protocol: 'TCP',
          loadbalancer_method: 'ROUND_ROBIN',
        }),
        loadbalancer_listener_refs: [refTo(listener)],
        loadbalancer_healthmonitor_refs: [refTo(monitor)],
      },
      'project',
    );
    await vnc.create(pool);
    for (const [index, address] of ['10.84.0.21', '10.84.0.22'].entries()) {
      const member = vncObject(
        'loadbalancer-member',
        [...pool.fq_name, `m${index}`],
        { loadbalancer_member_properties: xsd('LoadbalancerMemberType', { address, protocol_port: 8080 }) },
        'loadbalancer-pool',
      );
      await vnc.create(member);
    }
    const readPool = await vnc.read('loadbalancer-pool', { id: pool.uuid! }, { excludeChildren: false });
    assert.equal((readPool.loadbalancer_members as Body[]).length, 2);
    const members = (await vnc.list('loadbalancer-member', { parent_id: pool.uuid!, detail: true }))[
      'loadbalancer-members'
    ] as Body[];
    assert.deepEqual(
      members.map((entry) => ((entry['loadbalancer-member'] as Any).loadbalancer_member_properties as Body).weight),
      [1, 1],
    );
    await raises(
      vnc.create(
        vncObject(
          'loadbalancer-listener',
          [...DEFAULT_PROJECT, 'vnc-smtp'],
          { loadbalancer_listener_properties: xsd('LoadbalancerListenerType', { protocol: 'SMTP' }) },
          'project',
        ),
      ),
      'BadRequest',
      /loadbalancer_listener_properties\.protocol/,
    );
    await raises(vnc.delete('loadbalancer-pool', pool.uuid!), 'RefsExistError', /loadbalancer-member/);
  });
});
