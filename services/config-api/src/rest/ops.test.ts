// What operators and tool authors read: the OpenAPI document and docs page generated from the
// model, and the metrics (requests by route and status, latency, objects per type, commits).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { model } from '@weft/model';
import { networkBody, startTestServer, type TestServer } from '../testing/server.js';
import { actions } from './actions.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.dispose());

test('/openapi.json documents every type with the schema of its body and every action, and /docs serves the page', async () => {
  const document = (await server.request('GET', '/openapi.json')).body;
  assert.match(document.openapi, /^3\./);
  for (const type of model.values()) {
    assert.ok(document.paths[`/${type.plural}`]?.post, `POST /${type.plural}`);
    assert.ok(document.paths[`/${type.plural}`]?.get, `GET /${type.plural}`);
    assert.ok(document.paths[`/${type.type}/{uuid}`]?.put, `PUT /${type.type}/{uuid}`);
  }
  const body = document.paths['/virtual-networks'].post.requestBody.content['application/json'].schema;
  const network = body.properties['virtual-network'];
  assert.equal(network.additionalProperties, false);
  assert.ok(network.properties.network_ipam_refs.items.properties.attr.properties.ipam_subnets);
  assert.deepEqual(network.properties.virtual_network_properties.properties.forwarding_mode.enum, [
    'l2_l3',
    'l2',
    'l3',
  ]);
  assert.ok(document.paths['/']?.get, 'GET /');
  const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods as Record<string, { operationId?: string }>).map(([method, operation]) => ({
      path,
      method,
      id: operation.operationId,
    })),
  );
  for (const action of actions) {
    const path = action.path.replace(':uuid', '{uuid}');
    assert.ok(
      documented.some((op) => op.path === path && op.method === action.method.toLowerCase() && op.id === action.link),
      `${action.method} ${path} (${action.link})`,
    );
  }

  const page = await fetch(`${server.restUrl}/docs/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /html/);
});

test('/metrics counts requests by route and status, objects per type and commits', async () => {
  await server.create('virtual-network', networkBody('metered', '10.99.0.0/24'));
  await server.request('POST', '/virtual-networks', { 'virtual-network': { colour: 1 } });
  const text = (await server.request('GET', '/metrics')).body as string;
  const value = (line: RegExp) => Number(text.match(line)?.[1]);
  assert.equal(
    value(/weft_config_api_http_requests_total\{route="\/virtual-networks",method="POST",status="200"\} (\d+)/),
    1,
  );
  assert.equal(
    value(/weft_config_api_http_requests_total\{route="\/virtual-networks",method="POST",status="400"\} (\d+)/),
    1,
  );
  assert.ok(
    value(/weft_config_api_http_request_duration_seconds_count\{route="\/virtual-networks",method="POST"\} (\d+)/) >= 2,
  );
  assert.equal(value(/weft_config_api_objects\{type="virtual-network"\} (\d+)/), 1);
  assert.equal(value(/weft_config_api_objects\{type="project"\} (\d+)/), 1);
  assert.ok(value(/weft_config_api_store_commit_duration_seconds_count (\d+)/) >= 1);
  assert.equal(value(/weft_config_api_store_revision (\d+)/), 5);
});
