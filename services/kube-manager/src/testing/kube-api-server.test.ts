// The stand-in follows the API's conventions where a client relies on them: Status objects and
// codes, optimistic concurrency, list resourceVersion, watch from a resourceVersion with
// bookmarks, 410 Expired for a compacted one, and patches. Driven by raw HTTP and by
// @kubernetes/client-node, the client the manager uses.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { kubeConfigFor } from '../kube/informers.js';
import { type KubeApiServer, startKubeApiServer } from './kube-api-server.js';

// biome-ignore lint/suspicious/noExplicitAny: API objects are arbitrary JSON, read by path
type Json = any;

let server: KubeApiServer;
before(async () => {
  server = await startKubeApiServer({ bookmarkIntervalMs: 50, changeLogKeep: 100 });
});
after(() => server.close());

async function call(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, Json> };
}

/** Reads a watch stream's events until `until` says stop. */
async function watchEvents(path: string, until: (events: Json[]) => boolean): Promise<Json[]> {
  const controller = new AbortController();
  const response = await fetch(`${server.url}${path}`, { signal: controller.signal });
  const events: Json[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      events.push(JSON.parse(buffer.slice(0, newline)));
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
    if (until(events)) break;
  }
  controller.abort();
  return events;
}

const pod = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'busybox' }] },
});

describe('the stand-in Kubernetes API server', () => {
  test('creates, reads and lists with the list resourceVersion; items carry uid and resourceVersion', async () => {
    const created = await call('POST', '/api/v1/namespaces/default/pods', pod('one', { role: 'client' }));
    assert.equal(created.status, 201);
    assert.equal(created.body.kind, 'Pod');
    assert.match(created.body.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.equal(created.body.metadata.namespace, 'default');
    const read = await call('GET', '/api/v1/namespaces/default/pods/one');
    assert.deepEqual(read.body, created.body);
    const list = await call('GET', '/api/v1/pods?labelSelector=role%3Dclient');
    assert.equal(list.body.kind, 'PodList');
    assert.equal(list.body.metadata.resourceVersion, String(server.store.revision));
    assert.deepEqual(
      list.body.items.map((item: Json) => item.metadata.name),
      ['one'],
    );
    const none = await call('GET', '/api/v1/pods?labelSelector=role%20in%20(server)');
    assert.equal(none.body.items.length, 0);
  });

  test('answers failures with Status objects: 404, 409 AlreadyExists, 409 Conflict, 422 Invalid, 415', async () => {
    const missing = await call('GET', '/api/v1/namespaces/default/pods/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(
      { kind: missing.body.kind, status: missing.body.status, reason: missing.body.reason, code: missing.body.code },
      { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 },
    );
    assert.deepEqual(missing.body.details, { name: 'nope', group: '', kind: 'pods' });

    await call('POST', '/api/v1/namespaces/default/pods', pod('dup'));
    const again = await call('POST', '/api/v1/namespaces/default/pods', pod('dup'));
    assert.equal(again.status, 409);
    assert.equal(again.body.reason, 'AlreadyExists');

    const current = (await call('GET', '/api/v1/namespaces/default/pods/dup')).body;
    const stale = { ...current, metadata: { ...current.metadata, resourceVersion: '1' } };
    const conflict = await call('PUT', '/api/v1/namespaces/default/pods/dup', stale);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.reason, 'Conflict');

    const invalid = await call('POST', '/api/v1/namespaces/default/pods', pod('Not_A_Name'));
    assert.equal(invalid.status, 422);
    assert.equal(invalid.body.reason, 'Invalid');
    assert.equal(invalid.body.details.causes[0].field, 'metadata.name');

    const noNamespace = await call('POST', '/api/v1/namespaces/absent/pods', pod('x'));
    assert.equal(noNamespace.status, 404);
    assert.equal(noNamespace.body.details.kind, 'namespaces');

    const wrongPatch = await call(
      'PATCH',
      '/api/v1/namespaces/default/pods/dup',
      { metadata: {} },
      'application/apply-patch+yaml',
    );
    assert.equal(wrongPatch.status, 415);
    assert.equal(wrongPatch.body.kind, 'Status');
  });

  test('a watch from a resourceVersion sends the changes after it, then bookmarks', async () => {
    const from = server.store.revision;
    await call('POST', '/api/v1/namespaces/default/pods', pod('watched'));
    await call(
      'PATCH',
      '/api/v1/namespaces/default/pods/watched',
      { metadata: { annotations: { a: 'b' } } },
      'application/merge-patch+json',
    );
    await call('DELETE', '/api/v1/namespaces/default/pods/watched');
    const events = await watchEvents(
      `/api/v1/namespaces/default/pods?watch=1&resourceVersion=${from}&allowWatchBookmarks=true`,
      (seen) => seen.some((event) => event.type === 'BOOKMARK'),
    );
    const changes = events.filter((event) => event.type !== 'BOOKMARK');
    assert.deepEqual(
      changes.map((event) => [event.type, event.object.metadata.name]),
      [
        ['ADDED', 'watched'],
        ['MODIFIED', 'watched'],
        ['DELETED', 'watched'],
      ],
    );
    assert.equal(changes[1].object.metadata.annotations.a, 'b');
    const bookmark = events.find((event) => event.type === 'BOOKMARK');
    assert.equal(bookmark.object.kind, 'Pod');
    assert.equal(bookmark.object.metadata.resourceVersion, String(server.store.revision));
  });

  test('a watch from a compacted resourceVersion gets an ERROR event with a 410 Expired Status', async () => {
    const old = server.store.revision;
    await call('POST', '/api/v1/namespaces/default/pods', pod('after-compaction'));
    server.store.compact();
    const events = await watchEvents(`/api/v1/pods?watch=true&resourceVersion=${old}`, (seen) => seen.length > 0);
    assert.equal(events[0].type, 'ERROR');
    assert.equal(events[0].object.kind, 'Status');
    assert.equal(events[0].object.code, 410);
    assert.equal(events[0].object.reason, 'Expired');
  });

  test('custom resources and JSON patch through @kubernetes/client-node', async () => {
    const nad = await call('POST', '/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions', {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: 'blue' },
      spec: { config: '{"type":"weft-cni","network":"blue"}' },
    });
    assert.equal(nad.status, 201);
    const all = await call('GET', '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions');
    assert.ok(all.body.items.some((item: Json) => item.metadata.name === 'blue'));

    const api = kubeConfigFor(server.url).makeApiClient(CoreV1Api);
    await api.createNamespacedPod({ namespace: 'default', body: pod('typed') as never });
    const patched = await api.patchNamespacedPod({
      name: 'typed',
      namespace: 'default',
      body: [{ op: 'add', path: '/metadata/annotations', value: { x: 'y' } }],
    });
    assert.equal(patched.metadata?.annotations?.x, 'y');
    await assert.rejects(api.readNamespacedPod({ name: 'gone', namespace: 'default' }), (error: { code?: number }) => {
      assert.equal(error.code, 404);
      return true;
    });
  });

  test('the status subresource changes only status; the main resource leaves status alone', async () => {
    await call('POST', '/api/v1/namespaces/default/pods', { ...pod('phased'), status: { phase: 'Pending' } });
    const current = (await call('GET', '/api/v1/namespaces/default/pods/phased')).body;
    await call('PUT', '/api/v1/namespaces/default/pods/phased/status', { ...current, status: { phase: 'Running' } });
    const put = await call('PUT', '/api/v1/namespaces/default/pods/phased', {
      ...current,
      metadata: { ...current.metadata, resourceVersion: undefined, labels: { now: 'labelled' } },
      status: { phase: 'Failed' },
    });
    assert.equal(put.body.status.phase, 'Running');
    assert.equal(put.body.metadata.labels.now, 'labelled');
  });
});
