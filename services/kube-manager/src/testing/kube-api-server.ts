// A stand-in Kubernetes API server for tests: the REST shapes of the API reference for the
// types in resources.ts, served by fastify. Create, get, list, replace, patch and delete; watch
// as a stream of JSON lines with BOOKMARK events and a 410 Expired ERROR event when the asked
// resourceVersion is older than the change log holds. What it simplifies is listed in README.md.
import { type FastifyInstance, type FastifyReply, type FastifyRequest, fastify } from 'fastify';
import { jsonPatch, mergePatch, PATCH_TYPES } from './patch.js';
import { apiVersionOf, findType, type ResourceType } from './resources.js';
import { type KubeObject, selectorMatch } from './selectors.js';
import { KubeStatusError, successStatus } from './status.js';
import { type ChangeEvent, KubeStore } from './store.js';

export interface KubeApiServerOptions {
  /** 0 (the default): any free port on 127.0.0.1. */
  port?: number;
  host?: string;
  /** How often an idle watch that allows them gets a BOOKMARK. */
  bookmarkIntervalMs?: number;
  /** Changes the log keeps for watches; a watch from before them is 410 Expired. */
  changeLogKeep?: number;
}

export interface KubeApiServer {
  url: string;
  store: KubeStore;
  app: FastifyInstance;
  /** Every request the server answered, in order (method, path and query), for tests that check how a client behaves. */
  requests: { method: string; url: string }[];
  /**
   * While set, requests it returns true for are answered 503 ServiceUnavailable (a Status), as
   * a server that is failing answers: for tests of what a client does meanwhile.
   */
  refuse: ((request: { method: string; url: string }) => boolean) | undefined;
  /**
   * Compacts the change log and ends every open watch with an ERROR event carrying 410 Expired,
   * as a real server does when a watcher falls behind its compacted history: clients must list again.
   */
  expireWatches(): void;
  close(): Promise<void>;
}

interface Target {
  resource: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: 'status' | undefined;
}

/** The resource a path (after /api/v1 or /apis/<group>/<version>) names. */
function targetOf(group: string, version: string, segments: string[]): Target {
  const unknown = () => new KubeStatusError('NotFound', `the server could not find the requested resource`);
  let namespace: string | undefined;
  let rest = segments;
  // /namespaces/<ns>/<plural>… is a namespaced path; /namespaces and /namespaces/<name>[/status] name namespaces.
  if (segments[0] === 'namespaces' && segments.length >= 3 && segments[2] !== 'status') {
    namespace = segments[1];
    rest = segments.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  const resource = plural === undefined ? undefined : findType(group, version, plural);
  if (!resource || extra.length > 0) throw unknown();
  if (namespace !== undefined && !resource.namespaced) throw unknown();
  if (namespace === undefined && name !== undefined && resource.namespaced) throw unknown();
  if (subresource !== undefined && (subresource !== 'status' || !resource.statusSubresource)) throw unknown();
  return { resource, namespace, name, subresource: subresource as 'status' | undefined };
}

interface WatchQuery {
  watch?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: string;
  timeoutSeconds?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

const truthy = (value: string | undefined) => value === 'true' || value === '1';

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const store = new KubeStore(options.changeLogKeep ?? 10_000);
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 1_000;
  const requests: { method: string; url: string }[] = [];
  const app = fastify({ bodyLimit: 3 * 1024 * 1024 });
  /** Each open watch's stop, given the Status to send first, if any. */
  const openWatches = new Set<(status?: KubeStatusError) => void>();
  const server: KubeApiServer = {
    url: '',
    store,
    app,
    requests,
    refuse: undefined,
    expireWatches() {
      store.compact();
      const expired = new KubeStatusError('Expired', `too old resource version (compacted at ${store.revision})`);
      for (const stop of [...openWatches]) stop(expired);
    },
    async close() {
      for (const stop of [...openWatches]) stop();
      await app.close();
    },
  };

  for (const type of PATCH_TYPES) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch (error) {
        done(
          new KubeStatusError(
            'BadRequest',
            `the body of the request was in an unknown format: ${(error as Error).message}`,
          ),
          undefined,
        );
      }
    });
  }
  app.addHook('onRequest', async (request, reply) => {
    requests.push({ method: request.method, url: request.url });
    if (server.refuse?.({ method: request.method, url: request.url })) {
      const status = new KubeStatusError('ServiceUnavailable', 'the stand-in was told to refuse this request');
      return reply.code(status.code).send(status.toStatus());
    }
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status =
      error instanceof KubeStatusError
        ? error
        : error.statusCode === 415
          ? new KubeStatusError('UnsupportedMediaType', error.message)
          : new KubeStatusError('BadRequest', error.message);
    reply.code(status.code).send(status.toStatus());
  });
  app.setNotFoundHandler((request, reply) => {
    const status = new KubeStatusError('NotFound', `the server could not find the requested resource (${request.url})`);
    reply.code(404).send(status.toStatus());
  });

  app.get('/version', async () => ({
    major: '1',
    minor: '34',
    gitVersion: 'v1.34.0-weft-stand-in',
    platform: 'linux/amd64',
  }));
  app.get('/healthz', async () => 'ok');
  app.get('/api', async () => ({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] }));

  const handle =
    (group: (request: FastifyRequest) => [string, string]) => async (request: FastifyRequest, reply: FastifyReply) => {
      const [apiGroup, version] = group(request);
      const wildcard = (request.params as { '*': string })['*'] ?? '';
      const target = targetOf(
        apiGroup,
        version,
        wildcard.split('/').filter((part) => part !== ''),
      );
      const query = request.query as WatchQuery;
      const { resource, namespace, name, subresource } = target;
      switch (request.method) {
        case 'GET':
          if (name !== undefined) return store.get(resource, namespace, name);
          if (truthy(query.watch)) return watch(request, reply, target, query);
          return list(target, query);
        case 'POST':
          if (name !== undefined)
            throw new KubeStatusError('MethodNotAllowed', 'POST names a collection, not an object');
          reply.code(201);
          return store.create(resource, namespace, (request.body ?? {}) as Partial<KubeObject>);
        case 'PUT':
          if (name === undefined) throw new KubeStatusError('MethodNotAllowed', 'PUT names an object');
          return store.replace(resource, namespace, name, (request.body ?? {}) as Partial<KubeObject>, subresource);
        case 'PATCH': {
          if (name === undefined) throw new KubeStatusError('MethodNotAllowed', 'PATCH names an object');
          const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim();
          const current = store.get(resource, namespace, name);
          let patched: unknown;
          if (contentType === 'application/json-patch+json') patched = jsonPatch(current, request.body);
          else if (
            contentType === 'application/merge-patch+json' ||
            contentType === 'application/strategic-merge-patch+json'
          )
            patched = mergePatch(current, request.body);
          else
            throw new KubeStatusError(
              'UnsupportedMediaType',
              `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
            );
          const next = patched as KubeObject;
          // A patch carries no precondition unless it sets metadata.resourceVersion itself.
          const asked = (request.body as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion;
          next.metadata = { ...next.metadata, resourceVersion: asked ?? current.metadata.resourceVersion };
          return store.replace(resource, namespace, name, next, subresource);
        }
        case 'DELETE':
          if (name === undefined)
            throw new KubeStatusError('MethodNotAllowed', 'deleting a collection is not supported by the stand-in');
          if (resource.plural === 'namespaces' || resource.plural === 'pods')
            return store.delete(resource, namespace, name);
          store.delete(resource, namespace, name);
          return successStatus({ name, group: resource.group, kind: resource.plural });
        default:
          throw new KubeStatusError('MethodNotAllowed', `${request.method} is not supported`);
      }
    };

  function list(target: Target, query: WatchQuery): Record<string, unknown> {
    const match = selectorMatch(query.labelSelector, query.fieldSelector);
    const items = store.list(target.resource, target.namespace).filter(match);
    // A list's items carry no kind or apiVersion: the list's own say it.
    for (const item of items) {
      delete item.kind;
      delete item.apiVersion;
    }
    return {
      kind: `${target.resource.kind}List`,
      apiVersion: apiVersionOf(target.resource),
      metadata: { resourceVersion: String(store.revision) },
      items,
    };
  }

  function watch(request: FastifyRequest, reply: FastifyReply, target: Target, query: WatchQuery): void {
    const match = selectorMatch(query.labelSelector, query.fieldSelector);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const send = (type: string, object: unknown) => raw.write(`${JSON.stringify({ type, object })}\n`);
    const inScope = (event: ChangeEvent) =>
      event.resource === target.resource &&
      (target.namespace === undefined || event.object.metadata.namespace === target.namespace) &&
      match(event.object);

    const asked = query.resourceVersion;
    let from: number;
    if (asked === undefined || asked === '' || asked === '0') {
      // No resourceVersion: the current state as ADDED events first, then the changes after it.
      for (const object of store.list(target.resource, target.namespace).filter(match)) send('ADDED', object);
      from = store.revision;
    } else {
      from = Number(asked);
      if (!Number.isInteger(from) || from < 0) {
        const status = new KubeStatusError('BadRequest', `invalid resource version: ${asked}`);
        send('ERROR', status.toStatus());
        raw.end();
        return;
      }
    }
    let unsubscribe: () => void;
    try {
      unsubscribe = store.subscribe((event) => {
        if (inScope(event)) send(event.type, event.object);
      }, from);
    } catch (error) {
      // As the real server does: the stream opens (200), then says 410 in an ERROR event.
      send('ERROR', (error as KubeStatusError).toStatus());
      raw.end();
      return;
    }
    const bookmarks = truthy(query.allowWatchBookmarks)
      ? setInterval(
          () =>
            send('BOOKMARK', {
              kind: target.resource.kind,
              apiVersion: apiVersionOf(target.resource),
              metadata: { resourceVersion: String(store.revision) },
            }),
          bookmarkIntervalMs,
        )
      : undefined;
    const timeout = query.timeoutSeconds ? setTimeout(() => stop(), Number(query.timeoutSeconds) * 1000) : undefined;
    const stop = (status?: KubeStatusError) => {
      if (status && !raw.writableEnded) send('ERROR', status.toStatus());
      unsubscribe();
      clearInterval(bookmarks);
      clearTimeout(timeout);
      openWatches.delete(stop);
      if (!raw.writableEnded) raw.end();
    };
    openWatches.add(stop);
    request.raw.on('close', () => stop());
  }

  const core = handle(() => ['', 'v1']);
  const grouped = handle((request) => {
    const params = request.params as { group: string; version: string };
    return [params.group, params.version];
  });
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    app.route({ method, url: '/api/v1/*', handler: core });
    app.route({ method, url: '/apis/:group/:version/*', handler: grouped });
  }

  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  server.url = address;
  return server;
}
