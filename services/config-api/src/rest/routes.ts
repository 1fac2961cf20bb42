// The VNC API over HTTP: a collection and an object route per type, and the lookups.
// Bodies are validated by fastify against the schemas derived from the resource model.

import { bodySchemaOf, fqName, model, type Schema, t, typeByPlural, UUID_PATTERN } from '@weft/model';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ConfigService } from '../service/config-service.js';
import { parseListParams, parseReadOptions } from './query.js';

type Body = Record<string, unknown>;

const baseOf = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

const uuidParams = {
  type: 'object',
  properties: { uuid: { type: 'string', pattern: UUID_PATTERN } },
  required: ['uuid'],
};

const typeName = t.string({ maxLength: 64, description: 'resource type, e.g. virtual-network' });

const lookupSchemas: Record<string, Schema> = {
  fqNameToId: t.object({ type: typeName, fq_name: fqName }, { required: ['type', 'fq_name'] }),
  idToFqName: t.object({ uuid: t.string({ pattern: UUID_PATTERN }) }, { required: ['uuid'] }),
  refUpdate: t.object(
    {
      operation: t.enum(['ADD', 'DELETE'] as const),
      type: typeName,
      uuid: t.string({ pattern: UUID_PATTERN }),
      'ref-type': typeName,
      'ref-uuid': { anyOf: [t.string({ pattern: UUID_PATTERN }), { type: 'null' }] },
      'ref-fq-name': { anyOf: [fqName, { type: 'null' }] },
      attr: { description: "the reference's attr, validated against its type's schema" },
    },
    { required: ['operation', 'type', 'uuid', 'ref-type'] },
  ),
  listBulk: {
    type: 'object',
    required: ['type'],
    properties: { type: typeName },
    description: 'type plus the options of GET /<type>s, as JSON (lists as arrays or comma-separated)',
  },
};

export function registerRoutes(app: FastifyInstance, service: ConfigService): void {
  app.get('/', { schema: { hide: true } }, async (request) => ({
    href: baseOf(request),
    links: [...model.values()].map((type) => ({
      link: { rel: 'collection', href: `${baseOf(request)}/${type.plural}`, name: type.type },
    })),
  }));

  for (const type of model.values()) {
    const tags = [type.type];
    app.post(
      `/${type.plural}`,
      { schema: { tags, summary: `Create a ${type.type}`, description: type.description, body: bodySchemaOf(type) } },
      async (request) => {
        const object = await service.create(type.type, (request.body as Body)[type.type] as Body);
        // A new object has no children or back-references yet: no need to look them up.
        return { [type.type]: service.render(object, baseOf(request), { related: false }) };
      },
    );
    app.get(`/${type.plural}`, { schema: { tags, summary: `List ${type.plural}` } }, async (request) =>
      listAnswer(service, type.type, request.query as Body, baseOf(request)),
    );
    app.get(
      `/${type.type}/:uuid`,
      { schema: { tags, summary: `Read a ${type.type}`, params: uuidParams } },
      async (request) => {
        const options = parseReadOptions(request.query as Body);
        const object = service.read(type.type, (request.params as { uuid: string }).uuid);
        return { [type.type]: service.renderRead(object, baseOf(request), options) };
      },
    );
    app.put(
      `/${type.type}/:uuid`,
      {
        schema: {
          tags,
          summary: `Update the fields given of a ${type.type}`,
          params: uuidParams,
          body: bodySchemaOf(type),
        },
      },
      async (request) => {
        const object = await service.update(
          type.type,
          (request.params as { uuid: string }).uuid,
          (request.body as Body)[type.type] as Body,
        );
        return { [type.type]: service.render(object, baseOf(request)) };
      },
    );
    app.delete(
      `/${type.type}/:uuid`,
      {
        schema: {
          tags,
          summary: `Delete a ${type.type} (409 while it has children or back-references)`,
          params: uuidParams,
        },
      },
      async (request) => {
        await service.delete(type.type, (request.params as { uuid: string }).uuid);
        return {};
      },
    );
  }

  const lookup = { tags: ['lookups'] };
  app.post('/fqname-to-id', { schema: { ...lookup, body: lookupSchemas.fqNameToId } }, async (request) => {
    const body = request.body as { type: string; fq_name: string[] };
    return { uuid: service.fqNameToId(body.type, body.fq_name) };
  });
  app.post('/id-to-fqname', { schema: { ...lookup, body: lookupSchemas.idToFqName } }, async (request) =>
    service.idToFqName((request.body as { uuid: string }).uuid),
  );
  app.post('/ref-update', { schema: { ...lookup, body: lookupSchemas.refUpdate } }, async (request) => {
    const body = request.body as Body;
    const object = await service.refUpdate({
      operation: body.operation as 'ADD' | 'DELETE',
      type: body.type as string,
      uuid: body.uuid as string,
      refType: body['ref-type'] as string,
      refUuid: (body['ref-uuid'] as string | null) ?? undefined,
      refFqName: (body['ref-fq-name'] as string[] | null) ?? undefined,
      attr: body.attr,
    });
    return { uuid: object.uuid };
  });
  app.post('/list-bulk-collection', { schema: { ...lookup, body: lookupSchemas.listBulk } }, async (request) => {
    const { type: name, ...options } = request.body as Body;
    // The VNC API names the type here in either form: "virtual-network" or "virtual-networks".
    const type = service.typeOf(typeByPlural.get(name as string)?.type ?? (name as string));
    return listAnswer(service, type.type, options, baseOf(request));
  });
}

/** The VNC API's list answer: entries, whole objects (detail) or a count, and the page marker. */
function listAnswer(service: ConfigService, typeName: string, options: Body, base: string): Body {
  const params = parseListParams(typeName, options);
  const type = service.typeOf(typeName);
  const result = service.list(params, base);
  if (result.count !== undefined) return { [type.plural]: { count: result.count } };
  return {
    [type.plural]: params.detail ? result.rendered.map((object) => ({ [type.type]: object })) : result.rendered,
    ...(params.pageLimit !== undefined ? { marker: result.nextMarker ?? null } : {}),
  };
}
