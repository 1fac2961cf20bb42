// The VNC API over HTTP: the root page, a collection and an object route per type, and the
// actions (./actions.ts). Bodies are validated by fastify against the schemas derived from the
// resource model, after Tungsten Fabric's habits (nulls, what reads add) are made plain.
import { bodySchemaOf, model, type ResourceType, UUID_PATTERN } from '@weft/model';
import type { FastifyInstance, FastifyRequest, preValidationHookHandler } from 'fastify';
import type { Scope } from '../auth/tenancy.js';
import type { ConfigService } from '../service/config-service.js';
import { fromTfWrite } from '../service/input.js';
import { baseOf, registerActions } from './actions.js';
import { listAnswer } from './list-answer.js';
import { parseReadOptions } from './query.js';
import { registerRoot } from './root.js';

type Body = Record<string, unknown>;

const uuidParams = {
  type: 'object',
  properties: { uuid: { type: 'string', pattern: UUID_PATTERN } },
  required: ['uuid'],
};

/** Fields a write sent as null, by request, for the update to remove. */
const clearedFields = new WeakMap<FastifyRequest, string[]>();

/** Makes TF's habits plain before the body meets its schema. */
const tfWrite =
  (type: ResourceType): preValidationHookHandler =>
  (request, _reply, done) => {
    const body = request.body as Body | undefined;
    const inner = body?.[type.type];
    if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
      const { body: plain, cleared } = fromTfWrite(type, inner as Body);
      body![type.type] = plain;
      clearedFields.set(request, cleared);
    }
    done();
  };

const uuidOf = (request: FastifyRequest) => (request.params as { uuid: string }).uuid;

declare module 'fastify' {
  interface FastifyRequest {
    /** What the caller may see and change; none without authentication (no-auth). */
    scope: Scope | undefined;
  }
}

export function registerRoutes(app: FastifyInstance, service: ConfigService): void {
  registerRoot(app);
  for (const type of model.values()) registerType(app, service, type);
  registerActions(app, service);
}

function registerType(app: FastifyInstance, service: ConfigService, type: ResourceType): void {
  const tags = [type.type];
  app.post(
    `/${type.plural}`,
    {
      schema: { tags, summary: `Create a ${type.type}`, description: type.description, body: bodySchemaOf(type) },
      preValidation: tfWrite(type),
    },
    async (request) => {
      const object = await service.create(type.type, (request.body as Body)[type.type] as Body, request.scope);
      // A new object has no children or back-references yet: no need to look them up.
      return { [type.type]: service.render(object, baseOf(request), { related: false }) };
    },
  );
  app.get(`/${type.plural}`, { schema: { tags, summary: `List ${type.plural}` } }, async (request) =>
    listAnswer(service, type.type, request.query as Body, baseOf(request), request.scope),
  );
  app.get(
    `/${type.type}/:uuid`,
    { schema: { tags, summary: `Read a ${type.type}`, params: uuidParams } },
    async (request, reply) => {
      const base = baseOf(request);
      const scope = request.scope;
      // The same read at the same store revision renders the same JSON: serve it again. Only a
      // caller who sees everything shares answers; a tenant's depend on what he may see.
      const cacheable = !scope || scope.readsEverything;
      const key = `${request.url}\n${base}`;
      const cached = cacheable ? service.readCache.get(key) : undefined;
      if (cached !== undefined) return reply.type('application/json; charset=utf-8').send(cached);
      const options = parseReadOptions(request.query as Body);
      const object = service.read(type.type, uuidOf(request), scope);
      const json = JSON.stringify({
        [type.type]: service.renderRead(object, base, options, cacheable ? undefined : scope),
      });
      if (cacheable) service.readCache.set(key, json);
      return reply.type('application/json; charset=utf-8').send(json);
    },
  );
  app.put(
    `/${type.type}/:uuid`,
    {
      schema: {
        tags,
        summary: `Update the fields given of a ${type.type} (null removes a property)`,
        params: uuidParams,
        body: bodySchemaOf(type),
      },
      preValidation: tfWrite(type),
    },
    async (request) => {
      const object = await service.update(
        type.type,
        uuidOf(request),
        (request.body as Body)[type.type] as Body,
        clearedFields.get(request),
        request.scope,
      );
      return { [type.type]: service.render(object, baseOf(request), { scope: request.scope }) };
    },
  );
  app.delete(
    `/${type.type}/:uuid`,
    {
      schema: {
        tags,
        summary: `Delete a ${type.type} (409 while it has children or back-references that are not relaxed)`,
        params: uuidParams,
      },
    },
    async (request) => {
      await service.delete(type.type, uuidOf(request), request.scope);
      return {};
    },
  );
}
