// gRPC weft.config.v1.Config against a real server: the same objects and errors as REST, List
// with the store revision, and Watch: replay from the log in order, then live, without a gap;
// OUT_OF_RANGE once the log was trimmed past the asked revision.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { credentials, type ServiceError, status } from '@grpc/grpc-js';
import { waitFor } from '@weft/kit/testing';
import { loadConfigProto } from '@weft/proto';
import type { ChangeEvent__Output } from '@weft/proto/gen/weft/config/v1/ChangeEvent.js';
import type { ConfigClient } from '@weft/proto/gen/weft/config/v1/Config.js';
import { DEFAULT_PROJECT, networkBody, startTestServer, type TestServer } from '../testing/server.js';

let server: TestServer;
let client: ConfigClient;
before(async () => {
  server = await startTestServer();
  client = new (loadConfigProto().weft.config.v1.Config)(server.grpcAddress, credentials.createInsecure());
});
after(async () => {
  client.close();
  await server.dispose();
});

function call<T>(method: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => {
    // biome-ignore lint/suspicious/noExplicitAny: dynamic method name
    (client as any)[method](request, (error: ServiceError | null, value: T) =>
      error ? reject(error) : resolve(value),
    );
  });
}

function collect(stream: NodeJS.ReadableStream): {
  events: ChangeEvent__Output[];
  ended: Promise<ServiceError | undefined>;
} {
  const events: ChangeEvent__Output[] = [];
  stream.on('data', (event: ChangeEvent__Output) => events.push(event));
  const ended = new Promise<ServiceError | undefined>((resolve) => {
    stream.on('error', (error: ServiceError) => resolve(error));
    stream.on('end', () => resolve(undefined));
  });
  return { events, ended };
}

test('Create, Get, Update, List and Delete answer as REST does', async () => {
  const created = await call<{ uuid: string; object_json: string; revision: number; fq_name: string[] }>('Create', {
    type: 'virtual-network',
    object_json: JSON.stringify(networkBody('grpc-net', '10.90.0.0/24')),
  });
  assert.deepEqual(created.fq_name, [...DEFAULT_PROJECT, 'grpc-net']);
  const rest = await server.request('GET', `/virtual-network/${created.uuid}`);
  const got = await call<{ object_json: string; revision: number }>('Get', {
    type: 'virtual-network',
    uuid: created.uuid,
  });
  assert.deepEqual(JSON.parse(got.object_json), rest.body['virtual-network']);
  assert.equal(got.revision, created.revision);

  const updated = await call<{ object_json: string; revision: number }>('Update', {
    type: 'virtual-network',
    uuid: created.uuid,
    object_json: JSON.stringify({ display_name: 'renamed' }),
  });
  assert.equal(JSON.parse(updated.object_json).display_name, 'renamed');
  assert.ok(updated.revision > created.revision);

  const listed = await call<{ objects: { uuid: string }[]; revision: number; next_page_marker: string }>('List', {
    type: 'virtual-network',
    uuids: [created.uuid],
  });
  assert.deepEqual(
    listed.objects.map((object) => object.uuid),
    [created.uuid],
  );
  assert.equal(listed.revision, updated.revision);
  assert.equal(listed.next_page_marker, '');

  const deleted = await call<{ revision: number }>('Delete', { type: 'virtual-network', uuid: created.uuid });
  assert.equal(deleted.revision, updated.revision + 1);
});

test('errors carry the same meaning as REST, as gRPC status codes', async () => {
  const cases: [string, object, status, RegExp][] = [
    [
      'Create',
      { type: 'virtual-network', object_json: '{"colour": 1}' },
      status.INVALID_ARGUMENT,
      /^colour: is not a known field/,
    ],
    [
      'Create',
      { type: 'virtual-network', object_json: '{' },
      status.INVALID_ARGUMENT,
      /^object_json: is not valid JSON/,
    ],
    ['Create', { type: 'router', object_json: '{}' }, status.INVALID_ARGUMENT, /no resource type "router"/],
    [
      'Create',
      { type: 'network-ipam', object_json: JSON.stringify({ fq_name: [...DEFAULT_PROJECT, 'default-network-ipam'] }) },
      status.ALREADY_EXISTS,
      /^fq_name:/,
    ],
    [
      'Get',
      { type: 'virtual-network', uuid: '00000000-0000-4000-8000-000000000000' },
      status.NOT_FOUND,
      /no virtual-network/,
    ],
    ['Delete', { type: 'project', uuid: '' }, status.NOT_FOUND, /no project/],
  ];
  for (const [method, request, code, message] of cases) {
    await assert.rejects(call(method, request), (error: ServiceError) => {
      assert.equal(error.code, code, `${method} ${JSON.stringify(request)}: ${error.message}`);
      assert.match(error.details, message);
      return true;
    });
  }
  const inUse = await call<{ objects: { uuid: string; fq_name: string[] }[] }>('List', { type: 'project' });
  const defaultProject = inUse.objects.find((object) => object.fq_name.join(':') === DEFAULT_PROJECT.join(':'))!;
  await assert.rejects(call('Delete', { type: 'project', uuid: defaultProject.uuid }), (error: ServiceError) => {
    assert.equal(error.code, status.FAILED_PRECONDITION);
    return true;
  });
});

test('Watch from 0 replays every change in order, then streams live ones', async () => {
  const watch = collect(client.Watch({ from_revision: 0, types: [] }));
  const listed = await call<{ revision: number }>('List', { type: 'domain' });
  await waitFor(() => watch.events.length >= listed.revision, { what: 'the replay' });
  assert.deepEqual(
    watch.events.map((event) => Number(event.revision)),
    Array.from({ length: listed.revision }, (_, index) => index + 1),
  );
  assert.deepEqual(
    watch.events.slice(0, 4).map((event) => [event.operation, event.type]),
    [
      ['OPERATION_CREATE', 'global-system-config'],
      ['OPERATION_CREATE', 'domain'],
      ['OPERATION_CREATE', 'project'],
      ['OPERATION_CREATE', 'network-ipam'],
    ],
  );
  const live = await server.create('virtual-machine', { fq_name: ['watched'] });
  await server.request('PUT', `/virtual-machine/${live.uuid}`, { 'virtual-machine': { display_name: 'w' } });
  await server.request('DELETE', `/virtual-machine/${live.uuid}`);
  await waitFor(() => watch.events.length >= listed.revision + 3, { what: 'three live events' });
  const tail = watch.events.slice(listed.revision);
  assert.deepEqual(
    tail.map((event) => [Number(event.revision), event.operation, event.uuid]),
    [
      [listed.revision + 1, 'OPERATION_CREATE', live.uuid],
      [listed.revision + 2, 'OPERATION_UPDATE', live.uuid],
      [listed.revision + 3, 'OPERATION_DELETE', live.uuid],
    ],
  );
  assert.equal(JSON.parse(tail[1]!.object_json).display_name, 'w');

  // A filtered watch from the middle sees only its types, from that revision on.
  const filtered = collect(client.Watch({ from_revision: listed.revision + 1, types: ['virtual-machine'] }));
  await waitFor(() => filtered.events.length >= 3, { what: 'filtered replay' });
  assert.deepEqual(
    filtered.events.map((event) => Number(event.revision)),
    [listed.revision + 1, listed.revision + 2, listed.revision + 3],
  );
  await assert.rejects(
    new Promise((_, reject) => {
      const bad = client.Watch({ from_revision: 0, types: ['router'] });
      bad.on('error', reject);
      bad.on('data', () => {});
    }),
    (error: ServiceError) => error.code === status.INVALID_ARGUMENT,
  );
});

test('a watcher that started while writes ran sees every revision exactly once', async () => {
  const start = (await call<{ revision: number }>('List', { type: 'domain' })).revision;
  const writes = Promise.all(
    Array.from({ length: 60 }, (_, index) => server.create('virtual-machine', { fq_name: [`race-${index}`] })),
  );
  const watch = collect(client.Watch({ from_revision: start + 1, types: [] }));
  await writes;
  await waitFor(() => watch.events.length >= 60, { what: '60 events' });
  assert.deepEqual(
    watch.events.slice(0, 60).map((event) => Number(event.revision)),
    Array.from({ length: 60 }, (_, index) => start + 1 + index),
  );
});

test('Watch and List follow the types the datapath does not carry yet (tags, firewall rules, load balancers…)', async () => {
  const start = (await call<{ revision: number }>('List', { type: 'domain' })).revision;
  const types = ['tag', 'tag-type', 'firewall-rule', 'loadbalancer', 'virtual-DNS'];
  const watch = collect(client.Watch({ from_revision: start + 1, types }));
  const tag = await server.create('tag', { tag_type_name: 'tier', tag_value: 'front' });
  const rule = await server.create('firewall-rule', {
    fq_name: [...DEFAULT_PROJECT, 'grpc-rule'],
    direction: '>',
    tag_refs: [{ uuid: tag.uuid }],
  });
  const balancer = await server.create('loadbalancer', {
    fq_name: [...DEFAULT_PROJECT, 'grpc-lb'],
    loadbalancer_provider: 'native',
  });
  await server.create('virtual-DNS', {
    fq_name: ['default-domain', 'grpc-dns'],
    virtual_DNS_data: { domain_name: 'weft.local' },
  });
  await server.create('virtual-machine', { fq_name: ['not-watched-here'] });
  await waitFor(() => watch.events.length >= 5, { what: 'five watched creates' });
  assert.deepEqual(
    watch.events.map((event) => event.type),
    ['tag-type', 'tag', 'firewall-rule', 'loadbalancer', 'virtual-DNS'],
  );
  assert.deepEqual(JSON.parse(watch.events[2]!.object_json).tag_refs[0].uuid, tag.uuid);
  const listed = await call<{ objects: { uuid: string }[] }>('List', { type: 'loadbalancer', page_limit: 10 });
  assert.deepEqual(
    listed.objects.map((object) => object.uuid),
    [balancer.uuid],
  );
  assert.equal(rule.direction, '>');
});

test('Watch from a trimmed revision ends with OUT_OF_RANGE', async () => {
  const small = await startTestServer({ changeLogKeep: 10 });
  const smallClient = new (loadConfigProto().weft.config.v1.Config)(small.grpcAddress, credentials.createInsecure());
  try {
    for (let index = 0; index < 30; index++) await small.create('virtual-machine', { fq_name: [`t-${index}`] });
    const watch = collect(smallClient.Watch({ from_revision: 1, types: [] }));
    const error = await watch.ended;
    assert.equal(error?.code, status.OUT_OF_RANGE);
    assert.match(error?.details ?? '', /list again/);
    // From the revision List gives, the watch works.
    const listed = await new Promise<{ revision: number }>((resolve, reject) =>
      smallClient.List({ type: 'virtual-machine' }, (e, v) => (e ? reject(e) : resolve(v as { revision: number }))),
    );
    const resumed = collect(smallClient.Watch({ from_revision: listed.revision + 1, types: [] }));
    await small.create('virtual-machine', { fq_name: ['after-trim'] });
    await waitFor(() => resumed.events.length === 1, { what: 'the live event after a re-list' });
    assert.equal(Number(resumed.events[0]!.revision), listed.revision + 1);
  } finally {
    smallClient.close();
    await small.dispose();
  }
});

test('List pages through a type with page_limit and next_page_marker, and filters by parent', async () => {
  const project = await call<{ uuid: string }>('Create', {
    type: 'project',
    object_json: JSON.stringify({ fq_name: ['default-domain', 'grpc-pages'] }),
  });
  const created: string[] = [];
  for (let index = 0; index < 5; index++) {
    const policy = await call<{ uuid: string }>('Create', {
      type: 'network-policy',
      object_json: JSON.stringify({ parent_uuid: project.uuid, name: `pol-${index}` }),
    });
    created.push(policy.uuid);
  }
  const seen: string[] = [];
  let marker = '';
  let pages = 0;
  do {
    const page = await call<{ objects: { uuid: string; object_json: string }[]; next_page_marker: string }>('List', {
      type: 'network-policy',
      parent_uuids: [project.uuid],
      page_limit: 2,
      page_marker: marker,
    });
    for (const object of page.objects) {
      assert.equal(JSON.parse(object.object_json).parent_uuid, project.uuid);
      seen.push(object.uuid);
    }
    marker = page.next_page_marker;
    pages += 1;
  } while (marker !== '');
  assert.deepEqual(seen, [...created].sort());
  assert.equal(pages, 3);
});
