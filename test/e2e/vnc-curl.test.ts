// The VNC API as Tungsten Fabric's documentation shows it: the curl commands of its REST API
// page (tf-api-client's rest_details), run by bash against a weft-config-api daemon started as
// it is deployed, in the order the page tells them. Only the address ($API for
// http://10.84.14.2:8082) and the uuids (shell variables for those the page prints) change, and
// each command prints its status after the body; the headers, bodies and paths are the page's,
// "X-Auth-Token: $OS_TOKEN" and the content type on a GET and a DELETE included.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, tempDir, waitFor } from '@weft/kit/testing';

// biome-ignore lint/suspicious/noExplicitAny: the answers are whatever JSON the API sends
type Json = any;

const configApiMain = join(dirname(fileURLToPath(import.meta.resolve('@weft/config-api'))), 'main.js');
const state = tempDir('weft-vnc-curl-');
const vars: Record<string, string> = { OS_TOKEN: 'no-keystone-here' };
let daemon: ReturnType<typeof spawn>;

/** Runs one command line of the documentation in bash; its JSON answer and HTTP status. */
function curl(commandLine: string): { status: number; json: Json; text: string } {
  const result = spawnSync('bash', ['-c', `${commandLine} -s -w '\\n%{http_code}'`], {
    env: { ...process.env, ...vars },
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `curl failed: ${result.stderr}`);
  const text = result.stdout.slice(0, result.stdout.lastIndexOf('\n'));
  const status = Number(result.stdout.slice(result.stdout.lastIndexOf('\n') + 1));
  let json: Json;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, json, text };
}

/** The command must succeed; its JSON answer. */
function ok(commandLine: string): Json {
  const { status, json, text } = curl(commandLine);
  assert.equal(status, 200, `${commandLine}\n→ ${status} ${text}`);
  return json;
}

before(async () => {
  const [restPort, closedPort] = [await freePort(), await freePort()];
  daemon = spawn(process.execPath, [configApiMain], {
    env: {
      ...process.env,
      WEFT_STATE_DIR: state.path,
      WEFT_CONFIG_API_REST_PORT: String(restPort),
      WEFT_CONFIG_API_GRPC_PORT: '0',
      WEFT_CONFIG_API_HOST: '127.0.0.1',
      // The page's examples send no token: TF's API server with authentication off, on loopback.
      WEFT_AUTH_MODE: 'no-auth',
      // No NATS server: change events are dropped and counted, the API works all the same.
      WEFT_NATS_URL: `nats://127.0.0.1:${closedPort}`,
      WEFT_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  vars.API = `http://127.0.0.1:${restPort}`;
  await waitFor(() => curl('curl "$API/healthz"').status === 200, { timeoutMs: 20_000, what: 'weft-config-api' });
});

after(async () => {
  const exited = new Promise((resolve) => daemon.once('exit', resolve));
  daemon.kill('SIGTERM');
  await exited;
  state.remove();
});

test("the REST API page's curl examples work as the page says", () => {
  // Discovering API server resources
  const home = JSON.parse(
    spawnSync('bash', ['-c', 'curl -s $API/ | python3 -m json.tool'], {
      env: { ...process.env, ...vars },
      encoding: 'utf8',
    }).stdout,
  );
  assert.equal(home.href, vars.API);
  const links = new Map(home.links.map((entry: Json) => [`${entry.link.rel} ${entry.link.name}`, entry.link.href]));
  assert.equal(links.get('collection virtual-network'), `${vars.API}/virtual-networks`);
  assert.equal(links.get('resource-base virtual-network'), `${vars.API}/virtual-network`);
  assert.equal(links.get('action name-to-id'), `${vars.API}/fqname-to-id`);
  assert.equal(links.get('action id-to-name'), `${vars.API}/id-to-fqname`);
  assert.equal(links.get('action useragent-keyvalue'), `${vars.API}/useragent-kv`);
  assert.equal(links.get('action virtual-network-ip-alloc'), `${vars.API}/virtual-network/%s/ip-alloc`);
  assert.equal(links.get('action virtual-network-ip-free'), `${vars.API}/virtual-network/%s/ip-free`);

  // The page's examples live in project "admin" and use a policy "policy-red-blue": made first.
  ok(
    `curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" -d '{"project": {"fq_name": ["default-domain", "admin"], "parent_type": "domain"}}' $API/projects`,
  );
  const policy = ok(
    `curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" -d '{"network-policy": {"fq_name": ["default-domain", "admin", "policy-red-blue"], "parent_type": "project"}}' $API/network-policys`,
  )['network-policy'];

  // Creating a resource
  const created = ok(
    `curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" -d '{"virtual-network": {"parent_type": "project", "fq_name": ["default-domain", "admin", "vn-blue"], "network_ipam_refs": [{"attr": {"ipam_subnets": [{"subnet": {"ip_prefix": "10.1.1.0", "ip_prefix_len": 24}}]}, "to": ["default-domain", "default-project", "default-network-ipam"]}]}}' $API/virtual-networks`,
  )['virtual-network'];
  assert.deepEqual(created.fq_name, ['default-domain', 'admin', 'vn-blue']);
  assert.equal(created.name, 'vn-blue');
  assert.equal(created.href, `${vars.API}/virtual-network/${created.uuid}`);
  assert.equal(created.parent_href, `${vars.API}/project/${created.parent_uuid}`);
  vars.VN = created.uuid;
  vars.POLICY = policy.uuid;

  // Reading a resource
  const read = ok(
    `curl -X GET -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" $API/virtual-network/$VN`,
  )['virtual-network'];
  assert.equal(read.parent_type, 'project');
  assert.deepEqual(read.network_ipam_refs[0].to, ['default-domain', 'default-project', 'default-network-ipam']);
  assert.deepEqual(read.network_ipam_refs[0].attr.ipam_subnets[0].subnet, { ip_prefix: '10.1.1.0', ip_prefix_len: 24 });
  assert.equal(read.id_perms.enable, true);

  // Updating a resource
  const updated = ok(
    `curl -X PUT -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" -d '{"virtual-network": {"fq_name": ["default-domain", "admin", "vn-blue"],"network_policy_refs": [{"to": ["default-domain", "admin", "policy-red-blue"], "attr":{"sequence":{"major":0, "minor": 0}}}]}}' $API/virtual-network/$VN`,
  )['virtual-network'];
  assert.equal(updated.uuid, vars.VN);
  assert.equal(updated.href, `${vars.API}/virtual-network/${vars.VN}`);
  assert.deepEqual(updated.network_policy_refs[0].uuid, vars.POLICY);

  // Listing resources, with the page's query parameters
  const listed = ok(
    `curl -X GET -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" $API/virtual-networks`,
  )['virtual-networks'];
  assert.deepEqual(
    listed.map((entry: Json) => entry.fq_name.join(':')),
    ['default-domain:admin:vn-blue'],
  );
  assert.deepEqual(Object.keys(listed[0]).sort(), ['fq_name', 'href', 'uuid']);
  vars.ADMIN = created.parent_uuid;
  for (const query of [
    'parent_id=$ADMIN',
    'parent_fq_name_str=default-domain:admin',
    'obj_uuids=$VN&detail=True',
    'back_ref_id=$POLICY',
  ]) {
    const answer = ok(
      `curl -X GET -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" "$API/virtual-networks?${query}"`,
    )['virtual-networks'];
    assert.equal(answer.length, 1, query);
    assert.equal(answer[0].uuid ?? answer[0]['virtual-network'].uuid, vars.VN, query);
  }

  // Converting FQ name to UUID, and UUID to FQ name
  assert.deepEqual(
    ok(
      `curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" -d '{"fq_name": ["default-domain", "admin", "vn-blue"], "type": "virtual-network"}' $API/fqname-to-id`,
    ),
    { uuid: vars.VN },
  );
  assert.deepEqual(
    ok(
      `curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" -d "{\\"uuid\\": \\"$VN\\"}" $API/id-to-fqname`,
    ),
    {
      type: 'virtual-network',
      fq_name: ['default-domain', 'admin', 'vn-blue'],
    },
  );

  // Adding/Deleting/Updating a reference between two objects
  ok(
    `curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" -d "{\\"operation\\": \\"DELETE\\", \\"uuid\\": \\"$VN\\", \\"type\\": \\"virtual-network\\", \\"ref-type\\": \\"network-policy\\", \\"ref-uuid\\": \\"$POLICY\\"}" $API/ref-update`,
  );
  assert.deepEqual(ok('curl -s $API/virtual-network/$VN')['virtual-network'].network_policy_refs, []);
  ok(
    `curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" -d "{\\"operation\\": \\"ADD\\", \\"uuid\\": \\"$VN\\", \\"type\\": \\"virtual-network\\", \\"ref-type\\": \\"network-policy\\", \\"ref-fq-name\\": [\\"default-domain\\", \\"admin\\", \\"policy-red-blue\\"], \\"attr\\": {\\"sequence\\": {\\"major\\": 0, \\"minor\\": 0}}}" $API/ref-update`,
  );
  ok(`curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json" -d "{
        \\"type\\": \\"virtual-network\\",
        \\"uuid\\": \\"$VN\\",
        \\"ref-type\\": \\"network-policy\\",
        \\"operation\\": \\"ADD\\",
        \\"ref-uuid\\": \\"$POLICY\\",
        \\"attr\\": {\\"sequence\\": {\\"major\\": 1, \\"minor\\": 0}}
    }" $API/ref-update`);
  assert.deepEqual(ok('curl -s $API/virtual-network/$VN')['virtual-network'].network_policy_refs[0].attr, {
    sequence: { major: 1, minor: 0 },
  });

  // Relaxing references for deletion: the policy can then go, and the reference with it
  assert.equal(
    curl(
      'curl -X DELETE -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" $API/network-policy/$POLICY',
    ).status,
    409,
  );
  assert.deepEqual(
    ok(`curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json" -d "{
        \\"uuid\\": \\"$VN\\",
        \\"ref-uuid\\": \\"$POLICY\\"
    }" $API/ref-relax-for-delete`),
    { uuid: vars.VN },
  );
  ok(
    'curl -X DELETE -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" $API/network-policy/$POLICY',
  );
  assert.deepEqual(ok('curl -s $API/virtual-network/$VN')['virtual-network'].network_policy_refs, []);

  // Updating and reading a property collection
  ok(`curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" -d "{
        \\"uuid\\": \\"$VN\\",
        \\"updates\\": [
            {
                \\"field\\": \\"annotations\\",
                \\"operation\\": \\"SET\\",
                \\"value\\": {\\"key\\": \\"deployment-stage\\", \\"value\\": \\"production\\"}
            }
        ]
    }" $API/prop-collection-update`);
  assert.deepEqual(
    ok(
      'curl -X GET -H "X-Auth-Token: $OS_TOKEN" "$API/prop-collection-get?uuid=$VN&fields=annotations&position=deployment-stage"',
    ),
    {
      annotations: [[{ key: 'deployment-stage', value: 'production' }, 'deployment-stage']],
    },
  );

  // User-agent key-value store
  ok(`curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json" -d '{
        "operation": "STORE",
        "key": "my-custom-metadata",
        "value": "some-random-string-data"
    }' $API/useragent-kv`);
  assert.deepEqual(
    ok(`curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json" -d '{
        "operation": "RETRIEVE",
        "key": "my-custom-metadata"
    }' $API/useragent-kv`),
    { value: 'some-random-string-data' },
  );

  // Bulk collection listing
  const bulk = ok(`curl -X POST -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json" -d "{
        \\"type\\": \\"virtual-network\\",
        \\"obj_uuids\\": \\"$VN,$POLICY\\",
        \\"detail\\": true,
        \\"fields\\": \\"network_ipam_refs,annotations\\"
    }" $API/list-bulk-collection`)['virtual-networks'];
  assert.equal(bulk.length, 1);
  assert.deepEqual(bulk[0]['virtual-network'].annotations.key_value_pair[0].key, 'deployment-stage');

  // Checking object permissions (authentication is off here: every permission)
  assert.equal(ok('curl -X GET -H "X-Auth-Token: $OS_TOKEN" "$API/obj-perms?uuid=$VN"').permissions, 'RWX');

  // Deleting a resource: a DELETE with the content type and no body
  ok(
    'curl -X DELETE -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" $API/virtual-network/$VN',
  );
  assert.equal(
    curl(
      'curl -X GET -H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/json; charset=UTF-8" $API/virtual-network/$VN',
    ).status,
    404,
  );
});
