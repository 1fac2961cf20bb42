// The VNC API's actions: every operation besides create, read, update, delete and list of one
// type, each declared once with the name Tungsten Fabric's API server gives its link on the
// root page (GET /) and its path, method and body. The routes, the root page's action links and
// the OpenAPI document all come from this table; TF's client finds each action by its link name.

import { fqName, type Schema, t, typeByPlural, UUID_PATTERN } from '@weft/model';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../errors.js';
import { ipAlloc, ipFree, subnetIpCount } from '../service/actions/ip-block.js';
import { chmod, chown, objPerms } from '../service/actions/perms.js';
import { type CollectionUpdate, propCollectionGet, propCollectionUpdate } from '../service/actions/prop-collection.js';
import { relaxForDelete } from '../service/actions/relax.js';
import { setTag } from '../service/actions/set-tag.js';
import { userAgentKv } from '../service/actions/useragent-kv.js';
import type { ConfigService } from '../service/config-service.js';
import { withoutNulls } from '../service/input.js';
import { listAnswer } from './list-answer.js';

type Body = Record<string, unknown>;

export const baseOf = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

export interface Action {
  /** The name of its link on the root page, which TF's client looks the action up by. */
  link: string;
  method: 'GET' | 'POST';
  /** Route path; `:uuid` is written `%s` in the link, which TF's client fills in. */
  path: string;
  summary: string;
  body?: Schema;
  querystring?: Schema;
  /**
   * Decides per object for each caller (reads what he may read, writes what he may write);
   * an action without it is for callers who may do anything (cloud-admin).
   */
  tenantAware?: true;
  handle(service: ConfigService, request: FastifyRequest): unknown;
}

const typeName = t.string({ maxLength: 64, description: 'resource type, e.g. virtual-network' });
const uuidString = t.string({ pattern: UUID_PATTERN });
const orNull = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });
const anyObject = (description: string, properties: Record<string, Schema> = {}, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  description,
});

/** "virtual-network", "virtual_network" or "virtual-networks": the VNC API names types every way. */
const typeNamed = (service: ConfigService, name: string) =>
  service.typeOf(typeByPlural.get(name)?.type ?? name.replace(/_/g, '-'));

const body = (request: FastifyRequest) => request.body as Body;
const uuidParam = (request: FastifyRequest) => (request.params as { uuid: string }).uuid;

export const actions: Action[] = [
  {
    link: 'name-to-id',
    method: 'POST',
    path: '/fqname-to-id',
    summary: 'The uuid of the object of a type with an fq_name',
    body: t.object({ type: typeName, fq_name: fqName }, { required: ['type', 'fq_name'] }),
    tenantAware: true,
    handle: (service, request) => ({
      uuid: service.fqNameToId(
        typeNamed(service, body(request).type as string).type,
        body(request).fq_name as string[],
        request.scope,
      ),
    }),
  },
  {
    link: 'id-to-name',
    method: 'POST',
    path: '/id-to-fqname',
    summary: 'The type and fq_name of the object with a uuid',
    body: t.object({ uuid: uuidString }, { required: ['uuid'] }),
    tenantAware: true,
    handle: (service, request) => service.idToFqName(body(request).uuid as string, request.scope),
  },
  {
    link: 'ref-update',
    method: 'POST',
    path: '/ref-update',
    summary: 'Adds a reference (or changes its attr) or removes it, without writing the whole object',
    body: t.object(
      {
        operation: t.string({ pattern: '^([Aa][Dd][Dd]|[Dd][Ee][Ll][Ee][Tt][Ee])$', description: 'ADD or DELETE' }),
        type: typeName,
        uuid: uuidString,
        'ref-type': typeName,
        'ref-uuid': orNull(uuidString),
        'ref-fq-name': orNull(t.array(fqName.items as Schema, 16)),
        attr: { description: "the reference's attr, validated against its type's schema" },
        relax_ref_for_delete: t.boolean('also relax the reference for the delete of its target'),
      },
      { required: ['operation', 'type', 'uuid', 'ref-type'] },
    ),
    tenantAware: true,
    handle: async (service, request) => {
      const given = body(request);
      const refFqName = given['ref-fq-name'] as string[] | null | undefined;
      const refType = (given['ref-type'] as string).replace(/[-_]refs$/, '');
      const object = await service.refUpdate(
        {
          operation: (given.operation as string).toUpperCase() as 'ADD' | 'DELETE',
          type: typeNamed(service, given.type as string).type,
          uuid: given.uuid as string,
          refType: typeNamed(service, refType).type,
          refUuid: (given['ref-uuid'] as string | null) ?? undefined,
          refFqName: refFqName && refFqName.length > 0 ? refFqName : undefined,
          attr: withoutNulls(given.attr),
          relaxForDelete: given.relax_ref_for_delete === true,
        },
        request.scope,
      );
      return { uuid: object.uuid };
    },
  },
  {
    link: 'ref-relax-for-delete',
    method: 'POST',
    path: '/ref-relax-for-delete',
    summary: 'Lets the target of a reference be deleted, taking the reference away with it',
    body: t.object({ uuid: uuidString, 'ref-uuid': uuidString }, { required: ['uuid', 'ref-uuid'] }),
    handle: (service, request) =>
      relaxForDelete(service, body(request).uuid as string, body(request)['ref-uuid'] as string),
  },
  {
    link: 'prop-collection-get',
    method: 'GET',
    path: '/prop-collection-get',
    summary: 'Elements of list and map properties: {field: [[element, position], …]}',
    querystring: t.object(
      {
        uuid: uuidString,
        fields: t.string({ minLength: 1, description: 'comma-separated property names' }),
        position: t.string({ description: 'an index of a list, a key of a map' }),
      },
      { required: ['uuid', 'fields'] },
    ),
    handle: (service, request) => {
      const query = request.query as { uuid: string; fields: string; position?: string };
      return propCollectionGet(service, query.uuid, query.fields.split(','), query.position);
    },
  },
  {
    link: 'prop-collection-update',
    method: 'POST',
    path: '/prop-collection-update',
    summary:
      'Adds, changes and removes elements of list properties (add, modify, delete) and map properties (set, delete)',
    body: t.object(
      {
        uuid: uuidString,
        updates: t.array(
          anyObject(
            'one change',
            {
              field: t.string({ maxLength: 255 }),
              operation: t.string({
                maxLength: 16,
                description: 'add, modify or delete (a list); set or delete (a map)',
              }),
              value: { description: 'an element, validated against the property' },
              position: { anyOf: [t.string(), t.integer(0, 2 ** 31 - 1), { type: 'null' }] },
            },
            ['field', 'operation'],
          ),
          1024,
        ),
      },
      { required: ['uuid'] },
    ),
    handle: (service, request) => {
      const updates = (
        (body(request).updates ?? []) as (CollectionUpdate & { value?: unknown; position?: unknown })[]
      ).map((update) => ({
        ...update,
        value: update.value ?? undefined,
        position: (update.position ?? undefined) as string | number | undefined,
      }));
      return propCollectionUpdate(service, body(request).uuid as string, updates);
    },
  },
  {
    link: 'set-tag',
    method: 'POST',
    path: '/set-tag',
    summary:
      'Attaches tags to an object or takes them off: {obj_type, obj_uuid, <tag type>: {value, is_global, add_values, delete_values} or null}',
    body: anyObject('obj_type, obj_uuid, and one entry per tag type', { obj_type: typeName, obj_uuid: uuidString }, [
      'obj_type',
      'obj_uuid',
    ]),
    handle: (service, request) => setTag(service, body(request)),
  },
  {
    link: 'chown',
    method: 'POST',
    path: '/chown',
    summary: 'Gives an object to another owner (perms2.owner)',
    body: t.object({ uuid: uuidString, owner: t.string({ maxLength: 64 }) }, { required: ['uuid', 'owner'] }),
    handle: (service, request) => chown(service, body(request)),
  },
  {
    link: 'chmod',
    method: 'POST',
    path: '/chmod',
    summary: "Changes an object's owner, owner access, sharing and global access (perms2)",
    body: anyObject('uuid and the perms2 fields to change', { uuid: uuidString }, ['uuid']),
    tenantAware: true,
    handle: (service, request) => chmod(service, body(request), request.scope),
  },
  {
    link: 'obj-perms',
    method: 'GET',
    path: '/obj-perms',
    summary:
      "The caller's permissions on an object (RWX), his user and roles (every permission without authentication)",
    querystring: t.object({ uuid: uuidString, token: t.string() }),
    tenantAware: true,
    handle: (service, request) => objPerms(service, request.query as { uuid?: string }, request.scope),
  },
  {
    link: 'list-bulk-collection',
    method: 'POST',
    path: '/list-bulk-collection',
    summary: 'GET /<type>s with its options in a JSON body, for lists of uuids too long for a URL',
    body: anyObject('type plus the options of GET /<type>s (lists as arrays or comma-separated)', { type: typeName }, [
      'type',
    ]),
    tenantAware: true,
    handle: (service, request) => {
      const { type: name, ...options } = body(request);
      return listAnswer(service, typeNamed(service, name as string).type, options, baseOf(request), request.scope);
    },
  },
  {
    link: 'useragent-keyvalue',
    method: 'POST',
    path: '/useragent-kv',
    summary: 'A key-value store for clients: {operation: STORE, RETRIEVE or DELETE, key, value}',
    body: anyObject('operation, key, value', { operation: t.string({ maxLength: 16 }), key: orNull(t.string()) }, [
      'operation',
    ]),
    handle: (service, request) => userAgentKv(service, body(request)),
  },
  {
    link: 'virtual-network-ip-alloc',
    method: 'POST',
    path: '/virtual-network/:uuid/ip-alloc',
    summary: 'Takes addresses of a network that no instance-ip holds: {count, subnet, family} → {ip_addr}',
    body: t.object({
      count: t.integer(1, 4096),
      subnet: orNull(t.string({ maxLength: 64, description: 'subnet uuid or prefix/length' })),
      family: orNull(t.enum(['v4', 'v6'] as const)),
    }),
    handle: (service, request) => ipAlloc(service, uuidParam(request), body(request) ?? {}),
  },
  {
    link: 'virtual-network-ip-free',
    method: 'POST',
    path: '/virtual-network/:uuid/ip-free',
    summary: 'Gives back addresses taken with ip-alloc: {ip_addr: [...]}',
    body: t.object({ ip_addr: t.array(t.string({ maxLength: 64 }), 4096), subnet: orNull(t.string()) }),
    handle: (service, request) => ipFree(service, uuidParam(request), body(request) ?? {}),
  },
  {
    link: 'virtual-network-subnet-ip-count',
    method: 'POST',
    path: '/virtual-network/:uuid/subnet-ip-count',
    summary: 'How many addresses are held in each subnet: {subnet_list} → {ip_count_list}',
    body: t.object({ subnet_list: t.array(t.string({ maxLength: 64 }), 1024) }),
    handle: (service, request) => subnetIpCount(service, uuidParam(request), body(request) ?? {}),
  },
];

/** The path TF's client sees in the action's link: route parameters become "%s". */
export const linkPathOf = (action: Action) => action.path.replace(':uuid', '%s');

export function registerActions(app: FastifyInstance, service: ConfigService): void {
  for (const action of actions) {
    const params = action.path.includes(':uuid')
      ? { type: 'object', properties: { uuid: { type: 'string', pattern: UUID_PATTERN } }, required: ['uuid'] }
      : undefined;
    app.route({
      method: action.method,
      url: action.path,
      schema: {
        tags: ['actions'],
        summary: action.summary,
        operationId: action.link,
        ...(action.body ? { body: action.body } : {}),
        ...(action.querystring ? { querystring: action.querystring } : {}),
        ...(params ? { params } : {}),
      },
      handler: async (request) => {
        const scope = request.scope;
        if (scope && !scope.unrestricted && !action.tenantAware) {
          throw errors.FORBIDDEN({ user: scope.identity.user, action: `use ${action.path} (cloud-admin only)` });
        }
        return action.handle(service, request);
      },
    });
  }
}
