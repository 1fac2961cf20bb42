// A property-based test with fast-check: sequences of random and malformed requests against a
// real server. Whatever arrives, no 5xx and no crash; and afterwards the store is consistent:
// every reference and parent points at an existing object, and no address or MAC is held twice.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { model } from '@weft/model';
import fc from 'fast-check';
import { DEFAULT_IPAM, DEFAULT_PROJECT, startTestServer, type TestServer } from './testing/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.dispose());

/** Objects created so far; "$ref:N" in a generated request stands for the Nth (modulo) of them. */
const pool: { type: string; uuid: string }[] = [];
const types = [...model.keys()];

const ref = fc.nat().map((n) => `$ref:${n}`);
const name = fc.oneof(fc.constantFrom('a', 'default-project', 'x:y', '', ' '), fc.stringMatching(/^[a-z0-9-]{1,8}$/));
/** A reference to an object of the given type (when one exists), resolved at run time. */
const typedRef = (type: string) => fc.nat().map((n) => `$${type}:${n}`);
const fqName = fc.oneof(
  name.map((last) => [...DEFAULT_PROJECT, last]),
  fc.array(name, { maxLength: 4 }),
);
/** Mostly a fresh valid name, sometimes anything. */
const likelyFqName = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[a-z0-9]{1,12}$/).map((last) => [...DEFAULT_PROJECT, last]) },
  { weight: 1, arbitrary: fqName },
);
const prefix = fc.constantFrom(
  '10.0.0.0/24',
  '10.1.0.0/28',
  'fd00::/120',
  '10.0.0.0/29',
  '10.0.0.0/30',
  '10.0.0.8/29',
  '10.0.0.1/29',
  'fd00::/125',
  '300.0.0.0/8',
  'x/1',
);
const subnet = prefix.map((text) => {
  const [ip, length] = text.split('/');
  return { subnet: { ip_prefix: ip, ip_prefix_len: Number(length) } };
});
const address = fc.constantFrom('10.0.0.2', '10.0.0.3', '10.0.0.9', 'fd00::2', '10.0.0.0', 'junk', '::');
const mac = fc.constantFrom('02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:0', 'zz');

const network = fc.record(
  {
    fq_name: likelyFqName,
    network_ipam_refs: fc.array(
      fc.record({
        to: fc.constant(DEFAULT_IPAM),
        attr: fc.record({ ipam_subnets: fc.array(subnet, { minLength: 1, maxLength: 2 }) }),
      }),
      { minLength: 1, maxLength: 1 },
    ),
    virtual_network_properties: fc.record(
      { vxlan_network_identifier: fc.integer({ min: -1, max: 5 }) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['fq_name', 'network_ipam_refs'] },
);
const port = fc.record(
  {
    fq_name: likelyFqName,
    virtual_network_refs: fc.array(fc.record({ uuid: fc.oneof(typedRef('virtual-network'), ref) }), { maxLength: 2 }),
    virtual_machine_interface_mac_addresses: fc.record({ mac_address: fc.array(mac, { maxLength: 1 }) }),
  },
  { requiredKeys: ['fq_name'] },
);
const instanceIp = fc.record(
  {
    virtual_network_refs: fc.array(fc.record({ uuid: fc.oneof(typedRef('virtual-network'), ref) }), {
      minLength: 1,
      maxLength: 2,
    }),
    virtual_machine_interface_refs: fc.array(fc.record({ uuid: typedRef('virtual-machine-interface') }), {
      maxLength: 1,
    }),
    instance_ip_address: fc.oneof(address, fc.constant(undefined)),
    instance_ip_family: fc.constantFrom('v4', 'v6', 'v5', undefined),
  },
  { requiredKeys: ['virtual_network_refs', 'virtual_machine_interface_refs'] },
);

type Request = { method: string; path: string; body?: unknown };

const requestArb: fc.Arbitrary<Request> = fc.oneof(
  network.map((body) => ({ method: 'POST', path: '/virtual-networks', body: { 'virtual-network': body } })),
  port.map((body) => ({
    method: 'POST',
    path: '/virtual-machine-interfaces',
    body: { 'virtual-machine-interface': body },
  })),
  instanceIp.map((body) => ({ method: 'POST', path: '/instance-ips', body: { 'instance-ip': body } })),
  fc
    .tuple(fc.constantFrom(...types), fc.object({ maxDepth: 3 }))
    .map(([type, body]) => ({ method: 'POST', path: `/${type}s`, body: { [type]: body } })),
  fc
    .tuple(fc.constantFrom(...types), fc.json())
    .map(([type, text]) => ({ method: 'POST', path: `/${type}s`, body: text })),
  fc
    .tuple(fc.constantFrom(...types), fc.string())
    .map(([type, text]) => ({ method: 'POST', path: `/${type}s`, body: `{"${type}": ${text}` })),
  fc
    .tuple(ref, fc.oneof(fc.object({ maxDepth: 2 }), fc.record({ display_name: fc.string() })))
    .map(([target, body]) => ({ method: 'PUT', path: `/$type/${target}`, body: { $type: body } })),
  ref.map((target) => ({ method: 'DELETE', path: `/$type/${target}` })),
  fc
    .tuple(
      fc.constantFrom(...types),
      fc.dictionary(
        fc.constantFrom(
          'parent_id',
          'back_ref_id',
          'obj_uuids',
          'fields',
          'detail',
          'count',
          'filters',
          'page_limit',
          'page_marker',
          'parent_fq_name_str',
          'bogus',
        ),
        fc.oneof(fc.string(), ref, fc.constantFrom('true', '0', '3', 'display_name==a', 'is_shared==true')),
      ),
    )
    .map(([type, query]) => ({
      method: 'GET',
      path: `/${type}s?${Object.entries(query)
        .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
        .join('&')}`,
    })),
  fc
    .record({
      operation: fc.constantFrom('ADD', 'DELETE', 'MOVE'),
      type: fc.constantFrom(...types),
      uuid: ref,
      'ref-type': fc.constantFrom(...types),
      'ref-uuid': ref,
      attr: fc.oneof(
        fc.constant(undefined),
        fc.object({ maxDepth: 2 }),
        fc.constant({ sequence: { major: 1, minor: 0 } }),
      ),
    })
    .map((body) => ({ method: 'POST', path: '/ref-update', body })),
  fc
    .tuple(fc.constantFrom(...types), fqName)
    .map(([type, fq]) => ({ method: 'POST', path: '/fqname-to-id', body: { type, fq_name: fq } })),
  ref.map((target) => ({ method: 'POST', path: '/id-to-fqname', body: { uuid: target } })),
);

/** Replaces "$ref:N" by a real uuid and "$type" by that object's type (or, half the time, another type). */
function resolve(request: Request): Request {
  let lastType = 'virtual-network';
  const pick = (n: number) => {
    const entry =
      pool.length > 0 ? pool[n % pool.length]! : { type: 'project', uuid: '00000000-0000-4000-8000-000000000000' };
    lastType = n % 7 === 0 ? types[n % types.length]! : entry.type;
    return entry.uuid;
  };
  const text = JSON.stringify(request)
    .replace(/\$ref:(\d+)/g, (_, n) => pick(Number(n)))
    .replace(/\$([a-z-]+):(\d+)/g, (_, type: string, n: string) => {
      const ofType = pool.filter((entry) => entry.type === type);
      return ofType.length > 0 ? ofType[Number(n) % ofType.length]!.uuid : pick(Number(n));
    });
  return JSON.parse(text.replace(/\$type/g, () => lastType));
}

test('1,000+ random and malformed requests: no 5xx, and the store stays consistent', async () => {
  let sent = 0;
  let allocated = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(requestArb, { minLength: 20, maxLength: 40 }), async (requests) => {
      for (const raw of requests) {
        const request = resolve(raw);
        const reply = await server.request(request.method, request.path, request.body);
        sent += 1;
        assert.ok(
          reply.status < 500,
          `${request.method} ${request.path} answered ${reply.status}: ${JSON.stringify(reply.body)}`,
        );
        if (reply.status >= 400) {
          assert.equal(typeof reply.body?.error?.message, 'string', 'an error names what is wrong');
        }
        if (request.method === 'DELETE' && reply.status === 200) {
          const uuid = request.path.split('/').at(-1);
          const index = pool.findIndex((entry) => entry.uuid === uuid);
          if (index >= 0) pool.splice(index, 1);
        }
        if (request.method === 'POST' && reply.status === 200 && request.path.endsWith('s')) {
          const type = request.path.slice(1, -1);
          if (reply.body[type]?.uuid) pool.push({ type, uuid: reply.body[type].uuid });
          if (type === 'instance-ip') allocated += 1;
        }
      }
    }),
    { numRuns: 60 },
  );
  assert.ok(sent >= 1000, `only ${sent} requests`);
  assert.equal((await server.request('GET', '/healthz')).status, 200);

  // Every reference and parent points at an existing object; no address or MAC is held twice.
  const uuids = new Set<string>();
  const objects: Record<string, unknown>[] = [];
  for (const type of model.values()) {
    const listed = await server.request('GET', `/${type.plural}?detail=true`);
    for (const entry of listed.body[type.plural]) {
      objects.push(entry[type.type]);
      uuids.add(entry[type.type].uuid);
    }
  }
  const addresses = new Set<string>();
  const macs = new Set<string>();
  let references = 0;
  for (const object of objects) {
    if (object.parent_uuid) assert.ok(uuids.has(object.parent_uuid as string), `parent of ${object.uuid} is gone`);
    for (const [field, value] of Object.entries(object)) {
      if (!field.endsWith('_refs')) continue;
      for (const item of value as { uuid: string }[]) {
        references += 1;
        assert.ok(uuids.has(item.uuid), `${field} of ${object.uuid} points at missing ${item.uuid}`);
      }
    }
    if (object.instance_ip_address) {
      const key = `${(object.virtual_network_refs as { uuid: string }[])[0]!.uuid} ${object.instance_ip_address}`;
      assert.ok(!addresses.has(key), `address ${key} held twice`);
      addresses.add(key);
    }
    const objectMac = (object.virtual_machine_interface_mac_addresses as { mac_address?: string[] } | undefined)
      ?.mac_address?.[0];
    if (objectMac) {
      assert.ok(!macs.has(objectMac), `MAC ${objectMac} held twice`);
      macs.add(objectMac);
    }
  }
  // The run made enough real objects and references for the checks above to mean something.
  assert.ok(pool.length >= 10, `only ${pool.length} objects were created`);
  assert.ok(references >= 5, `only ${references} references`);
  assert.ok(allocated >= 5, `only ${allocated} addresses were allocated`);
});
