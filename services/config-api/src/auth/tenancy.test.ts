// Tenant isolation, as a matrix: two tenants (alice and bob, each a member of a project of his
// own) × every type a tenant makes × every verb (read, list, update, delete, reference, watch,
// and the name lookups). Every attempt of bob's on alice's objects is refused as if they did not
// exist, and nothing of alice's changes. A shared network is readable and referable by bob, not
// writable; a reader of alice's project reads it and writes nothing.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentials, Metadata } from '@grpc/grpc-js';
import { tempDir, waitFor } from '@weft/kit/testing';
import { model } from '@weft/model';
import { loadConfigProto } from '@weft/proto';
import type { ChangeEvent__Output } from '@weft/proto/gen/weft/config/v1/ChangeEvent.js';
import type { ConfigClient } from '@weft/proto/gen/weft/config/v1/Config.js';
import { type Reply, startTestServer, type TestServer } from '../testing/server.js';

const TOKENS = {
  admin: 'admin-token-matrix-0123456789',
  alice: 'alice-token-matrix-0123456789',
  bob: 'bob-token-matrix-01234567890',
  carol: 'carol-token-matrix-0123456789',
};
const ALICE = ['default-domain', 'alice'];
/** The types that only the system (a cloud-admin) makes: every other type is in the matrix. */
const SYSTEM_TYPES = [
  'global-system-config',
  'domain',
  'project',
  'virtual-router',
  'tag-type',
  'virtual-DNS',
  'namespace',
];
const BOB = ['default-domain', 'bob'];

type Ref = { uuid: string; fq_name: string[] };
type Client = ReturnType<TestServer['as']>;

const subnet = (prefix: string) => {
  const [ip, length] = prefix.split('/');
  return { ipam_subnets: [{ subnet: { ip_prefix: ip, ip_prefix_len: Number(length) } }] };
};

/** One object of every type a tenant makes, in `project`, each body as small as its type allows. */
async function populate(client: Client, project: string[], prefix: string): Promise<Map<string, Ref>> {
  const made = new Map<string, Ref>();
  const create = async (type: string, body: Record<string, unknown>) => {
    const reply = await client.request('POST', `/${type}s`, { [type]: body });
    assert.equal(reply.status, 200, `${project.join(':')} creates a ${type}: ${JSON.stringify(reply.body)}`);
    made.set(type, reply.body[type]);
    return reply.body[type] as Ref;
  };
  const ipam = await create('network-ipam', { fq_name: [...project, 'ipam'] });
  const network = await create('virtual-network', {
    fq_name: [...project, 'net'],
    network_ipam_refs: [{ uuid: ipam.uuid, attr: subnet(prefix) }],
  });
  for (const type of model.values()) {
    if (made.has(type.type) || !type.parentTypes.includes('project')) continue;
    if (type.type === 'tag') continue;
    await create(type.type, { fq_name: [...project, `own-${type.type}`] });
  }
  await create('tag', {
    fq_name: [...project, `application=${project[1]}`],
    tag_type_name: 'application',
    tag_value: project[1],
  });
  const vm = await create('virtual-machine', { fq_name: [`${project[1]}-vm`] });
  await create('instance-ip', {
    virtual_network_refs: [{ uuid: network.uuid }],
    virtual_machine_interface_refs: [{ uuid: made.get('virtual-machine-interface')!.uuid }],
  });
  const fipPool = await create('floating-ip-pool', { fq_name: [...network.fq_name, 'fips'] });
  await create('floating-ip', { fq_name: [...fipPool.fq_name, 'fip'] });
  const aliasPool = await create('alias-ip-pool', { fq_name: [...network.fq_name, 'aliases'] });
  await create('alias-ip', { fq_name: [...aliasPool.fq_name, 'alias'] });
  await create('loadbalancer-member', { fq_name: [...made.get('loadbalancer-pool')!.fq_name, 'member'] });
  // What the system usually makes under a network is still the network's tenant's.
  const instance = await create('routing-instance', { fq_name: [...network.fq_name, 'ri'] });
  await create('access-control-list', { fq_name: [...network.fq_name, 'acl'] });
  await create('bgp-router', { fq_name: [...instance.fq_name, 'bgp'] });
  assert.ok(vm);
  return made;
}

/** A type bob can make in his project with a reference to `target` type, and the field. */
function referrerOf(target: string): { type: string; field: string } | undefined {
  for (const type of model.values()) {
    if (!type.parentTypes.includes('project') || type.type === 'tag') continue;
    for (const [field, ref] of type.refFields) if (ref.to === target) return { type: type.type, field };
  }
  return undefined;
}

describe('tenant isolation', () => {
  const files = tempDir('weft-tenancy-');
  let server: TestServer;
  let admin: Client;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  let alices: Map<string, Ref>;
  let bobs: Map<string, Ref>;
  /** Every object of alice's, as the admin reads it, before bob tries anything. */
  const before_: Map<string, unknown> = new Map();

  before(async () => {
    const tokensFile = join(files.path, 'tokens.json');
    writeFileSync(
      tokensFile,
      JSON.stringify({
        tokens: [
          { token: TOKENS.admin, user: 'admin', roles: ['cloud-admin'] },
          { token: TOKENS.alice, user: 'alice', projects: { 'default-domain:alice': 'member' } },
          { token: TOKENS.bob, user: 'bob', projects: { 'default-domain:bob': 'member' } },
          { token: TOKENS.carol, user: 'carol', projects: { 'default-domain:alice': 'reader' } },
        ],
      }),
    );
    server = await startTestServer({ auth: { mode: 'rbac', tokensFile } });
    admin = server.as(TOKENS.admin);
    alice = server.as(TOKENS.alice);
    bob = server.as(TOKENS.bob);
    carol = server.as(TOKENS.carol);
    await admin.create('project', { fq_name: ALICE });
    await admin.create('project', { fq_name: BOB });
    alices = await populate(alice, ALICE, '10.10.0.0/24');
    bobs = await populate(bob, BOB, '10.20.0.0/24');
    for (const [type, ref] of alices) before_.set(ref.uuid, (await admin.request('GET', `/${type}/${ref.uuid}`)).body);
  });
  after(async () => {
    await server.dispose();
    files.remove();
  });

  const notFound = (reply: Reply, what: string) => {
    assert.equal(reply.status, 404, `${what}: ${JSON.stringify(reply.body)}`);
  };

  test('bob can neither read, update nor delete any of alice’s objects: each answers 404', async () => {
    for (const type of model.keys()) {
      if (!SYSTEM_TYPES.includes(type)) assert.ok(alices.has(type), `alice made a ${type}`);
    }
    for (const [type, ref] of alices) {
      notFound(await bob.request('GET', `/${type}/${ref.uuid}`), `bob reads alice's ${type}`);
      notFound(
        await bob.request('PUT', `/${type}/${ref.uuid}`, { [type]: { display_name: 'taken' } }),
        `bob updates alice's ${type}`,
      );
      notFound(await bob.request('DELETE', `/${type}/${ref.uuid}`), `bob deletes alice's ${type}`);
      notFound(await bob.request('POST', '/fqname-to-id', { type, fq_name: ref.fq_name }), `bob looks up ${type}`);
      notFound(await bob.request('POST', '/id-to-fqname', { uuid: ref.uuid }), `bob names alice's ${type}`);
    }
  });

  test('bob’s lists, counts and bulk lists leave alice’s objects out; his own are there', async () => {
    for (const [type, ref] of alices) {
      const plural = model.get(type)!.plural;
      const listed = await bob.request('GET', `/${plural}?detail=true`);
      assert.equal(listed.status, 200);
      const uuids = (listed.body[plural] as { [k: string]: Ref }[]).map((item) => item[type]!.uuid);
      assert.ok(!uuids.includes(ref.uuid), `alice's ${type} is not in bob's list`);
      assert.ok(uuids.includes(bobs.get(type)!.uuid), `bob's own ${type} is`);
      const bulk = await bob.request('POST', '/list-bulk-collection', { type, obj_uuids: [ref.uuid] });
      assert.deepEqual(bulk.body[plural], [], `bulk list of alice's ${type}`);
      const count = await bob.request('GET', `/${plural}?obj_uuids=${ref.uuid}&count=true`);
      assert.equal(count.body[plural].count, 0, `count of alice's ${type}`);
    }
    // alice's project does not list its children to bob either.
    notFound(
      await bob.request(
        'GET',
        `/project/${(await admin.request('POST', '/fqname-to-id', { type: 'project', fq_name: ALICE })).body.uuid}`,
      ),
      'alice’s project',
    );
  });

  test('bob cannot refer to any of alice’s objects: the reference answers 404 and nothing is made', async () => {
    let tried = 0;
    for (const [type, ref] of alices) {
      const referrer = referrerOf(type);
      if (!referrer) continue;
      tried++;
      const name = `ref-to-${type}`;
      const reply = await bob.request('POST', `/${model.get(referrer.type)!.plural}`, {
        [referrer.type]: { fq_name: [...BOB, name], [referrer.field]: [{ uuid: ref.uuid }] },
      });
      notFound(reply, `bob's ${referrer.type} refers to alice's ${type}`);
      assert.equal(reply.body.error.code, 'REF_NOT_FOUND');
      notFound(
        await bob.request('POST', '/fqname-to-id', { type: referrer.type, fq_name: [...BOB, name] }),
        'nothing made',
      );
      // ref-update on bob's own object, to alice's.
      const own = bobs.get(referrer.type)!;
      const update = await bob.request('POST', '/ref-update', {
        operation: 'ADD',
        type: referrer.type,
        uuid: own.uuid,
        'ref-type': type,
        'ref-uuid': ref.uuid,
      });
      notFound(update, `bob's ref-update to alice's ${type}`);
    }
    assert.ok(tried >= 8, `references were tried to ${tried} types`);
  });

  test('bob’s watch carries his changes and none of alice’s', async () => {
    const client: ConfigClient = new (loadConfigProto().weft.config.v1.Config)(
      server.grpcAddress,
      credentials.createInsecure(),
    );
    const metadata = new Metadata();
    metadata.set('x-auth-token', TOKENS.bob);
    const events: ChangeEvent__Output[] = [];
    const stream = client.Watch({ from_revision: 1, types: [] }, metadata);
    stream.on('data', (event: ChangeEvent__Output) => events.push(event));
    stream.on('error', () => {});
    try {
      const marker = await bob.create('network-policy', { fq_name: [...BOB, 'watch-marker'] });
      await waitFor(() => events.some((event) => event.uuid === marker.uuid), {
        what: "bob's own change in his watch",
      });
      const alicesUuids = new Set([...alices.values()].map((ref) => ref.uuid));
      const leaked = events.filter((event) => alicesUuids.has(event.uuid));
      assert.deepEqual(
        leaked.map((event) => event.type),
        [],
        'no change of alice’s reaches bob',
      );
      for (const ref of bobs.values())
        assert.ok(
          events.some((event) => event.uuid === ref.uuid),
          'bob sees his own',
        );
    } finally {
      stream.cancel();
      client.close();
    }
    // A network shared with everyone reaches bob's watch; unshared, it is gone from it.
    const client2: ConfigClient = new (loadConfigProto().weft.config.v1.Config)(
      server.grpcAddress,
      credentials.createInsecure(),
    );
    const seen: ChangeEvent__Output[] = [];
    const watch = client2.Watch({ from_revision: 1, types: ['virtual-network'] }, metadata);
    watch.on('data', (event: ChangeEvent__Output) => seen.push(event));
    watch.on('error', () => {});
    try {
      const toggled = await alice.create('virtual-network', { fq_name: [...ALICE, 'toggled'], is_shared: true });
      await waitFor(() => seen.some((event) => event.uuid === toggled.uuid), {
        what: 'the shared network in bob’s watch',
      });
      assert.equal(
        (await alice.request('PUT', `/virtual-network/${toggled.uuid}`, { 'virtual-network': { is_shared: false } }))
          .status,
        200,
      );
      const gone = await waitFor(
        () => seen.find((event) => event.uuid === toggled.uuid && event.operation === 'OPERATION_DELETE'),
        { what: 'the unshared network gone from bob’s watch' },
      );
      assert.deepEqual(JSON.parse(gone.object_json), { uuid: toggled.uuid, fq_name: toggled.fq_name });
      notFound(await bob.request('GET', `/virtual-network/${toggled.uuid}`), 'unshared');
    } finally {
      watch.cancel();
      client2.close();
    }
    // gRPC List and Get filter the same way.
    const grpcClient: ConfigClient = new (loadConfigProto().weft.config.v1.Config)(
      server.grpcAddress,
      credentials.createInsecure(),
    );
    try {
      const network = alices.get('virtual-network')!;
      const got = await new Promise<{ code?: number }>((resolve) =>
        grpcClient.Get({ type: 'virtual-network', uuid: network.uuid }, metadata, (error) => resolve(error ?? {})),
      );
      assert.equal(got.code, 5, 'NOT_FOUND');
      const listed = await new Promise<string[]>((resolve, reject) =>
        grpcClient.List({ type: 'virtual-network', page_limit: 100 }, metadata, (error, value) =>
          error ? reject(error) : resolve(value!.objects.map((object) => object.uuid)),
        ),
      );
      assert.ok(!listed.includes(network.uuid));
      assert.ok(listed.includes(bobs.get('virtual-network')!.uuid));
    } finally {
      grpcClient.close();
    }
  });

  test('after all of bob’s attempts, nothing of alice’s changed', async () => {
    for (const [type, ref] of alices) {
      const now = (await admin.request('GET', `/${type}/${ref.uuid}`)).body;
      assert.deepEqual(now, before_.get(ref.uuid), `alice's ${type} is as it was`);
    }
  });

  test('a shared network is readable and referable by bob, and neither writable nor deletable', async () => {
    const shared = await alice.create('virtual-network', {
      fq_name: [...ALICE, 'shared'],
      is_shared: true,
      network_ipam_refs: [{ uuid: alices.get('network-ipam')!.uuid, attr: subnet('10.30.0.0/24') }],
    });
    const read = await bob.request('GET', `/virtual-network/${shared.uuid}`);
    assert.equal(read.status, 200);
    assert.equal(read.body['virtual-network'].perms2.global_access, 5, 'read and link for everyone');
    const listed = await bob.request('GET', '/virtual-networks');
    assert.ok(listed.body['virtual-networks'].some((item: Ref) => item.uuid === shared.uuid));
    const port = await bob.create('virtual-machine-interface', {
      fq_name: [...BOB, 'on-shared'],
      virtual_network_refs: [{ uuid: shared.uuid }],
    });
    const address = await bob.request('POST', '/instance-ips', {
      'instance-ip': {
        virtual_network_refs: [{ uuid: shared.uuid }],
        virtual_machine_interface_refs: [{ uuid: port.uuid }],
      },
    });
    assert.equal(address.status, 200, JSON.stringify(address.body));
    const update = await bob.request('PUT', `/virtual-network/${shared.uuid}`, {
      'virtual-network': { display_name: 'mine now' },
    });
    assert.equal(update.status, 403);
    assert.equal(update.body.error.code, 'FORBIDDEN');
    assert.equal((await bob.request('DELETE', `/virtual-network/${shared.uuid}`)).status, 403);
    const after = await admin.request('GET', `/virtual-network/${shared.uuid}`);
    assert.equal(after.body['virtual-network'].display_name, 'shared');
    // alice sees bob's port on her network, but bob's objects stay his: she cannot change them.
    const back = after.body['virtual-network'].virtual_machine_interface_back_refs as Ref[];
    assert.ok(
      back.some((item) => item.uuid === port.uuid),
      'the admin sees the back-reference',
    );
    const alicesRead = (await alice.request('GET', `/virtual-network/${shared.uuid}`)).body['virtual-network'];
    assert.ok(
      !(alicesRead.virtual_machine_interface_back_refs ?? []).some((item: Ref) => item.uuid === port.uuid),
      'alice does not see bob’s port in her network’s back-references',
    );
    notFound(await alice.request('GET', `/virtual-machine-interface/${port.uuid}`), 'alice reads bob’s port');
  });

  test('alice shares a policy with bob’s project through chmod; bob reads it and cannot share it on', async () => {
    const policy = await alice.create('network-policy', { fq_name: [...ALICE, 'for-bob'] });
    notFound(await bob.request('GET', `/network-policy/${policy.uuid}`), 'before the share');
    const bobsProject = (await admin.request('POST', '/fqname-to-id', { type: 'project', fq_name: BOB })).body.uuid;
    const shared = await alice.request('POST', '/chmod', {
      uuid: policy.uuid,
      share: [{ tenant: `tenant:${bobsProject}`, tenant_access: 5 }],
    });
    assert.equal(shared.status, 200, JSON.stringify(shared.body));
    assert.equal((await bob.request('GET', `/network-policy/${policy.uuid}`)).status, 200);
    const perms = await bob.request('GET', `/obj-perms?uuid=${policy.uuid}`);
    assert.equal(perms.body.permissions, 'RX');
    assert.equal(perms.body.is_cloud_admin_role, false);
    assert.equal((await alice.request('GET', `/obj-perms?uuid=${policy.uuid}`)).body.permissions, 'RWX');
    assert.equal((await bob.request('POST', '/chmod', { uuid: policy.uuid, global_access: 7 })).status, 403);
    notFound(
      await bob.request('POST', '/chmod', { uuid: alices.get('virtual-network')!.uuid, global_access: 7 }),
      'chmod of alice’s',
    );
    notFound(
      await bob.request('GET', `/obj-perms?uuid=${alices.get('virtual-network')!.uuid}`),
      'obj-perms of alice’s',
    );
    assert.equal(
      (await alice.request('POST', '/chmod', { uuid: policy.uuid, owner: bobsProject })).status,
      403,
      'no giving away',
    );
  });

  test('a reader of alice’s project reads her objects and changes nothing', async () => {
    const network = alices.get('virtual-network')!;
    assert.equal((await carol.request('GET', `/virtual-network/${network.uuid}`)).status, 200);
    const update = await carol.request('PUT', `/virtual-network/${network.uuid}`, {
      'virtual-network': { display_name: 'carol was here' },
    });
    assert.equal(update.status, 403);
    const create = await carol.request('POST', '/network-policys', {
      'network-policy': { fq_name: [...ALICE, 'carols'] },
    });
    assert.equal(create.status, 403, JSON.stringify(create.body));
    assert.equal((await carol.request('DELETE', `/virtual-network/${network.uuid}`)).status, 403);
    notFound(await carol.request('GET', `/virtual-network/${bobs.get('virtual-network')!.uuid}`), 'carol reads bob’s');
  });

  test('the system’s objects of every system type: readable by a tenant, never made, changed or deleted by one', async () => {
    const bodies: Record<string, Record<string, unknown>> = {
      'global-system-config': { fq_name: ['other-gsc'] },
      domain: { fq_name: ['other-domain'] },
      project: { fq_name: ['default-domain', 'other-project'] },
      'virtual-router': { fq_name: ['default-global-system-config', 'vr-1'], virtual_router_ip_address: '10.0.0.1' },
      'tag-type': { fq_name: ['colour'] },
      'virtual-DNS': { fq_name: ['default-domain', 'dns-1'] },
      namespace: { fq_name: ['default-domain', 'ns-1'] },
    };
    assert.deepEqual(Object.keys(bodies).sort(), [...SYSTEM_TYPES].sort());
    for (const type of SYSTEM_TYPES) {
      const plural = model.get(type)!.plural;
      const refused = await bob.request('POST', `/${plural}`, { [type]: bodies[type] });
      assert.equal(refused.status, 403, `bob makes a ${type}: ${JSON.stringify(refused.body)}`);
      const made = await admin.create(type, bodies[type]!);
      const before = (await admin.request('GET', `/${type}/${made.uuid}`)).body;
      if (type === 'project') {
        notFound(await bob.request('GET', `/${type}/${made.uuid}`), 'another project');
      } else {
        assert.equal((await bob.request('GET', `/${type}/${made.uuid}`)).status, 200, `bob reads the system's ${type}`);
      }
      const update = await bob.request('PUT', `/${type}/${made.uuid}`, { [type]: { display_name: 'bob was here' } });
      assert.ok([403, 404].includes(update.status), `bob updates a ${type}: ${update.status}`);
      const removal = await bob.request('DELETE', `/${type}/${made.uuid}`);
      assert.ok([403, 404].includes(removal.status), `bob deletes a ${type}: ${removal.status}`);
      assert.deepEqual((await admin.request('GET', `/${type}/${made.uuid}`)).body, before, `the ${type} is as it was`);
    }
  });

  test('what a cloud-admin makes for a tenant is the tenant’s: an instance-ip on her network is hers, a bare VM nobody’s', async () => {
    const address = await admin.create('instance-ip', {
      virtual_network_refs: [{ uuid: alices.get('virtual-network')!.uuid }],
    });
    assert.equal((await alice.request('GET', `/instance-ip/${address.uuid}`)).status, 200);
    notFound(await bob.request('GET', `/instance-ip/${address.uuid}`), 'bob reads the address on alice’s network');
    const vm = await admin.create('virtual-machine', { fq_name: ['admins-vm'] });
    notFound(await bob.request('GET', `/virtual-machine/${vm.uuid}`), 'bob reads the admin’s VM');
    notFound(await alice.request('GET', `/virtual-machine/${vm.uuid}`), 'alice reads the admin’s VM');
  });

  test('a tenant cannot make projects or system objects, nor change them', async () => {
    assert.equal(
      (await bob.request('POST', '/projects', { project: { fq_name: ['default-domain', 'bob2'] } })).status,
      403,
    );
    assert.equal((await bob.request('POST', '/domains', { domain: { fq_name: ['bobs-domain'] } })).status, 403);
    const domain = (await admin.request('POST', '/fqname-to-id', { type: 'domain', fq_name: ['default-domain'] })).body
      .uuid;
    assert.equal((await bob.request('PUT', `/domain/${domain}`, { domain: { display_name: 'x' } })).status, 403);
    const own = (await admin.request('POST', '/fqname-to-id', { type: 'project', fq_name: BOB })).body.uuid;
    assert.equal((await bob.request('DELETE', `/project/${own}`)).status, 403, 'not even his own project');
    assert.equal(
      (await bob.request('POST', '/chown', { uuid: bobs.get('virtual-network')!.uuid, owner: own })).status,
      403,
    );
  });
});
