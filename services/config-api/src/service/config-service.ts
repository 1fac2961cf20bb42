// The config-api's semantics, shared by REST and gRPC: create, read, update, delete, list,
// fq_name lookups and ref-update over the store, with integrity (parents and references exist,
// fq_name unique, nothing deleted while in use) and the per-type hooks of ./../ipam/hooks.ts.
// Every write runs synchronously inside one store transaction.
import { randomUUID } from 'node:crypto';
import { describeSchemaError, model, type ResourceType } from '@weft/model';
import { errors, invalid } from '../errors.js';
import { Allocator } from '../ipam/allocator.js';
import { hooks } from '../ipam/hooks.js';
import { forgetParsedSubnets } from '../ipam/subnets.js';
import type { ConfigStore, ListQuery, ReadView, StoredObject, WriteTx } from '../store/store.js';
import { relatedOf, renderObject } from './render.js';

type Body = Record<string, unknown>;

/** Parents used when a create names neither fq_name nor parent, as the VNC API does. */
const DEFAULT_PARENTS: Record<string, string[]> = {
  domain: ['default-domain'],
  project: ['default-domain', 'default-project'],
  'global-system-config': ['default-global-system-config'],
};

/** Fields the server owns on every object: accepted in a body, never taken from it. */
const SERVER_FIELDS = ['href', 'parent_href', 'uuid', 'fq_name', 'name', 'parent_type', 'parent_uuid'];

export interface ListParams {
  type: string;
  parentUuids?: string[];
  parentFqName?: string[];
  parentType?: string;
  backRefUuids?: string[];
  uuids?: string[];
  fields?: string[];
  detail?: boolean;
  count?: boolean;
  filters?: { field: string; value: string }[];
  pageMarker?: string;
  pageLimit?: number;
}

export interface ListResult {
  objects: StoredObject[];
  rendered: Body[];
  count?: number;
  /** uuid to continue after, when there is a next page. */
  nextMarker?: string;
  revision: number;
}

export interface ReadOptions {
  fields?: string[];
  excludeBackRefs?: boolean;
  excludeChildren?: boolean;
}

export interface RefUpdate {
  operation: 'ADD' | 'DELETE';
  type: string;
  uuid: string;
  refType: string;
  refUuid?: string;
  refFqName?: string[];
  attr?: unknown;
}

export class ConfigService {
  readonly allocator = new Allocator();

  constructor(readonly store: ConfigStore) {}

  typeOf(name: string): ResourceType {
    const type = model.get(name);
    if (!type) throw errors.NO_SUCH_TYPE({ type: name });
    return type;
  }

  /** Validates an object against its type's schema (REST bodies are validated by fastify already). */
  validate(type: ResourceType, input: unknown): Body {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw invalid(type.type, 'must be a JSON object');
    }
    if (!type.validateObject(input)) {
      const { field, reason } = describeSchemaError(type.validateObject.errors![0]!);
      throw invalid(field, reason);
    }
    return input as Body;
  }

  #write<T>(change: (tx: WriteTx) => T): Promise<T> {
    return this.store.write(change).catch((error) => {
      // The transaction rolled back: an allocation hint may point past a value that is free again.
      this.allocator.forgetHints();
      forgetParsedSubnets();
      throw error;
    });
  }

  // ---- create ----

  create(typeName: string, input: Body): Promise<StoredObject> {
    const type = this.typeOf(typeName);
    return this.#write((tx) => this.#create(tx, type, input));
  }

  #create(tx: WriteTx, type: ResourceType, input: Body): StoredObject {
    const uuid = (input.uuid as string | undefined)?.toLowerCase() ?? randomUUID();
    if (tx.get(uuid)) throw errors.UUID_TAKEN({ field: 'uuid', uuid });
    const { fqName, parent } = this.#placeOf(tx, type, input, uuid);
    const existing = tx.uuidOf(type.type, fqName);
    if (existing) throw errors.FQ_NAME_TAKEN({ field: 'fq_name', type: type.type, fq_name: fqName, uuid: existing });
    const now = new Date().toISOString();
    const body: Body = {};
    for (const [field, value] of Object.entries(input)) {
      if (!SERVER_FIELDS.includes(field) && !type.serverAssigned?.includes(field)) body[field] = value;
    }
    Object.assign(body, this.#resolveRefs(tx, type, input));
    Object.assign(body, {
      uuid,
      fq_name: fqName,
      name: fqName[fqName.length - 1],
      ...(parent ? { parent_type: parent.type, parent_uuid: parent.uuid } : {}),
      display_name: input.display_name ?? fqName[fqName.length - 1],
      id_perms: {
        enable: true,
        user_visible: true,
        ...(input.id_perms as Body | undefined),
        created: now,
        last_modified: now,
      },
      perms2: {
        owner: 'cloud-admin',
        owner_access: 7,
        global_access: 0,
        share: [],
        ...(input.perms2 as Body | undefined),
      },
    });
    hooks[type.type]?.create?.({ tx, allocator: this.allocator, uuid }, body);
    const object = { type: type.type, uuid, fqName, parentUuid: parent?.uuid, body };
    const revision = tx.create(object);
    return { ...object, revision };
  }

  /** Where a new object goes: its fq_name and parent, from fq_name, parent_uuid or the default parent. */
  #placeOf(tx: WriteTx, type: ResourceType, input: Body, uuid: string): { fqName: string[]; parent?: StoredObject } {
    const givenFq = input.fq_name as string[] | undefined;
    const name = input.name as string | undefined;
    if (givenFq && name !== undefined && givenFq[givenFq.length - 1] !== name) {
      throw invalid('name', `${JSON.stringify(name)} differs from the last element of fq_name`);
    }
    if (type.parents.length === 0) {
      if (input.parent_uuid !== undefined) throw invalid('parent_uuid', `a ${type.type} has no parent`);
      if (givenFq && givenFq.length !== 1)
        throw invalid('fq_name', `a ${type.type} is top-level: fq_name has one element`);
      return { fqName: givenFq ?? [name ?? uuid] };
    }
    let parent: StoredObject | undefined;
    if (input.parent_uuid !== undefined) {
      parent = tx.get(input.parent_uuid as string);
      if (!parent) throw errors.PARENT_NOT_FOUND({ field: 'parent_uuid', parent: input.parent_uuid as string });
      if (input.parent_type !== undefined && input.parent_type !== parent.type) {
        throw invalid('parent_type', `is ${input.parent_type} but parent_uuid names a ${parent.type}`);
      }
      if (!type.parents.includes(parent.type)) {
        throw invalid(
          'parent_uuid',
          `is a ${parent.type}; the parent of a ${type.type} is a ${type.parents.join(' or ')}`,
        );
      }
      if (givenFq && JSON.stringify(givenFq.slice(0, -1)) !== JSON.stringify(parent.fqName)) {
        throw invalid('fq_name', `does not start with its parent's fq_name ${parent.fqName.join(':')}`);
      }
      return { fqName: givenFq ?? [...parent.fqName, name ?? uuid], parent };
    }
    const parentTypes = input.parent_type !== undefined ? [input.parent_type as string] : type.parents;
    if (givenFq) {
      if (givenFq.length < 2)
        throw invalid('fq_name', `a ${type.type} has a parent: fq_name needs its parent's names first`);
      const parentFq = givenFq.slice(0, -1);
      for (const parentType of parentTypes) {
        const parentUuid = tx.uuidOf(parentType, parentFq);
        if (parentUuid) return { fqName: givenFq, parent: tx.get(parentUuid) };
      }
      throw errors.PARENT_NOT_FOUND({ field: 'fq_name', parent: `${parentTypes.join(' or ')} ${parentFq.join(':')}` });
    }
    const defaultParentType = parentTypes[0]!;
    const defaultParentFq = DEFAULT_PARENTS[defaultParentType];
    const parentUuid = defaultParentFq && tx.uuidOf(defaultParentType, defaultParentFq);
    if (!parentUuid) throw invalid('fq_name', 'is required (or parent_uuid)');
    parent = tx.get(parentUuid)!;
    return { fqName: [...parent.fqName, name ?? uuid], parent };
  }

  /** Every `<type>_refs` of the input, each target found by uuid or fq_name, stored as {to, uuid, attr}. */
  #resolveRefs(tx: ReadView, type: ResourceType, input: Body): Body {
    const resolved: Body = {};
    for (const [field, ref] of type.refFields) {
      const items = input[field] as { to?: string[]; uuid?: string; attr?: unknown }[] | undefined;
      if (items === undefined) continue;
      const seen = new Set<string>();
      resolved[field] = items.map((item, index) => {
        const at = `${field}[${index}]`;
        let target: StoredObject | undefined;
        if (item.uuid !== undefined) {
          target = tx.get(item.uuid.toLowerCase());
          if (!target || target.type !== ref.to)
            throw errors.REF_NOT_FOUND({ field: at, type: ref.to, target: item.uuid });
          if (item.to && JSON.stringify(item.to) !== JSON.stringify(target.fqName)) {
            throw invalid(`${at}.to`, `names ${item.to.join(':')} but uuid ${item.uuid} is ${target.fqName.join(':')}`);
          }
        } else if (item.to !== undefined) {
          const uuid = tx.uuidOf(ref.to, item.to);
          if (!uuid) throw errors.REF_NOT_FOUND({ field: at, type: ref.to, target: item.to.join(':') });
          target = tx.get(uuid)!;
        } else {
          throw invalid(at, 'names neither uuid nor to (fq_name) of the referenced object');
        }
        if (seen.has(target.uuid)) throw invalid(at, `refers to ${target.uuid} a second time`);
        seen.add(target.uuid);
        return {
          to: target.fqName,
          uuid: target.uuid,
          ...(ref.attr && item.attr !== undefined ? { attr: item.attr } : {}),
        };
      });
    }
    return resolved;
  }

  // ---- read ----

  read(typeName: string, uuid: string): StoredObject {
    const type = this.typeOf(typeName);
    const object = this.store.get(uuid.toLowerCase());
    if (!object || object.type !== type.type) throw errors.NOT_FOUND({ type: type.type, uuid });
    return object;
  }

  /** The object as REST's GET returns it: with hrefs, back-references and children. */
  render(object: StoredObject, base: string, { related = true } = {}): Body {
    return renderObject(object, base, related ? relatedOf(this.store, [object.uuid], base) : undefined);
  }

  /** GET /<type>/<uuid> with the VNC API's read options: only some fields, or without back-references or children. */
  renderRead(object: StoredObject, base: string, options: ReadOptions): Body {
    const full = renderObject(
      object,
      base,
      relatedOf(this.store, [object.uuid], base, {
        withBackRefs: !options.excludeBackRefs,
        withChildren: !options.excludeChildren,
      }),
    );
    if (!options.fields) return full;
    const picked: Body = {};
    for (const field of ['uuid', 'fq_name', 'name', 'href', 'parent_type', 'parent_uuid', ...options.fields]) {
      if (full[field] !== undefined) picked[field] = full[field];
    }
    return picked;
  }

  // ---- update ----

  update(typeName: string, uuid: string, patch: Body): Promise<StoredObject> {
    const type = this.typeOf(typeName);
    return this.#write((tx) => this.#update(tx, type, uuid.toLowerCase(), patch));
  }

  #update(tx: WriteTx, type: ResourceType, uuid: string, patch: Body): StoredObject {
    const previous = tx.get(uuid);
    if (!previous || previous.type !== type.type) throw errors.NOT_FOUND({ type: type.type, uuid });
    for (const field of ['uuid', 'fq_name', 'name', 'parent_type', 'parent_uuid'] as const) {
      const given = patch[field];
      if (given === undefined) continue;
      const same =
        field === 'uuid'
          ? String(given).toLowerCase() === uuid
          : JSON.stringify(given) === JSON.stringify(previous.body[field]);
      if (!same) throw invalid(field, 'cannot be changed');
    }
    const body: Body = { ...previous.body };
    for (const [field, value] of Object.entries(patch)) {
      if (!SERVER_FIELDS.includes(field) && !type.serverAssigned?.includes(field)) body[field] = value;
    }
    Object.assign(body, this.#resolveRefs(tx, type, patch));
    const previousPerms = previous.body.id_perms as Body;
    body.id_perms = {
      ...previousPerms,
      ...(patch.id_perms as Body | undefined),
      created: previousPerms.created,
      last_modified: new Date().toISOString(),
    };
    if (patch.perms2) body.perms2 = { ...(previous.body.perms2 as Body), ...(patch.perms2 as Body) };
    hooks[type.type]?.update?.({ tx, allocator: this.allocator, uuid }, body, previous.body, patch);
    const object = { type: type.type, uuid, fqName: previous.fqName, parentUuid: previous.parentUuid, body };
    const revision = tx.update(object);
    return { ...object, revision };
  }

  refUpdate(update: RefUpdate): Promise<StoredObject> {
    const type = this.typeOf(update.type);
    const refType = this.typeOf(update.refType);
    const field = `${refType.type.replace(/-/g, '_')}_refs`;
    const ref = type.refFields.get(field);
    if (!ref) throw invalid('ref-type', `a ${type.type} has no references to ${refType.type}`);
    return this.#write((tx) => {
      const object = tx.get(update.uuid.toLowerCase());
      if (!object || object.type !== type.type) throw errors.NOT_FOUND({ type: type.type, uuid: update.uuid });
      let targetUuid = update.refUuid?.toLowerCase();
      if (targetUuid === undefined) {
        if (!update.refFqName) throw invalid('ref-uuid', 'ref-uuid or ref-fq-name is required');
        targetUuid = tx.uuidOf(refType.type, update.refFqName);
        if (!targetUuid && update.operation === 'ADD') {
          throw errors.REF_NOT_FOUND({ field: 'ref-fq-name', type: refType.type, target: update.refFqName.join(':') });
        }
      }
      const current = (object.body[field] as { uuid: string; attr?: unknown }[] | undefined) ?? [];
      const kept = current.filter((item) => item.uuid !== targetUuid);
      if (update.operation === 'DELETE' && kept.length === current.length) return object;
      const items =
        update.operation === 'ADD'
          ? [
              ...kept,
              { uuid: targetUuid, ...(update.attr !== undefined && update.attr !== null ? { attr: update.attr } : {}) },
            ]
          : kept;
      const patch = this.validate(type, { [field]: items });
      return this.#update(tx, type, object.uuid, patch);
    });
  }

  // ---- delete ----

  delete(typeName: string, uuid: string): Promise<number> {
    const type = this.typeOf(typeName);
    return this.#write((tx) => {
      const object = tx.get(uuid.toLowerCase());
      if (!object || object.type !== type.type) throw errors.NOT_FOUND({ type: type.type, uuid });
      const children = tx.children([object.uuid], 5);
      const backRefs = tx.backRefs([object.uuid], 5);
      if (children.length > 0 || backRefs.length > 0) {
        throw errors.IN_USE({
          type: type.type,
          uuid: object.uuid,
          children: children.map((child) => `${child.type} ${child.fqName.join(':')}`),
          back_refs: backRefs.map((ref) => `${ref.from.type} ${ref.from.fqName.join(':')}`),
        });
      }
      for (const scope of tx.releaseOwnedBy(object.uuid)) this.allocator.released(scope);
      return tx.delete(object);
    });
  }

  // ---- list and lookups ----

  list(params: ListParams, base: string): ListResult {
    const type = this.typeOf(params.type);
    const revision = this.store.revision();
    const query: ListQuery = { type: type.type };
    if (params.parentUuids) query.parentUuids = params.parentUuids.map((uuid) => uuid.toLowerCase());
    if (params.parentFqName) {
      const parentTypes = params.parentType ? [params.parentType] : type.parents;
      const found = parentTypes
        .map((parentType) => this.store.uuidOf(parentType, params.parentFqName!))
        .filter(Boolean);
      if (found.length === 0) {
        throw errors.NOT_FOUND({ type: parentTypes.join(' or ') || 'parent', fq_name: params.parentFqName });
      }
      query.parentUuids = [...(query.parentUuids ?? []), ...(found as string[])];
    }
    if (params.backRefUuids) query.backRefUuids = params.backRefUuids.map((uuid) => uuid.toLowerCase());
    if (params.uuids) query.uuids = params.uuids.map((uuid) => uuid.toLowerCase());
    if (params.filters) {
      query.filters = params.filters.map(({ field, value }) => {
        if (!type.bodyFields.has(field)) throw invalid('filters', `${field} is not a field of ${type.type}`);
        return { field, value: filterValue(value) };
      });
    }
    if (params.count) return { objects: [], rendered: [], count: this.store.count(query), revision };
    if (params.pageMarker) query.after = params.pageMarker.toLowerCase();
    if (params.pageLimit !== undefined) query.limit = params.pageLimit + 1;
    const objects = this.store.list(query);
    let nextMarker: string | undefined;
    if (params.pageLimit !== undefined && objects.length > params.pageLimit) {
      objects.length = params.pageLimit;
      nextMarker = objects[objects.length - 1]?.uuid;
    }
    const wantsRelated =
      params.detail || params.fields?.some((field) => field.endsWith('_back_refs') || !type.bodyFields.has(field));
    const related = wantsRelated
      ? relatedOf(
          this.store,
          objects.map((object) => object.uuid),
          base,
        )
      : undefined;
    const rendered = objects.map((object) => {
      const full = renderObject(object, base, related);
      if (params.detail) return full;
      const entry: Body = { href: full.href, fq_name: object.fqName, uuid: object.uuid };
      for (const field of params.fields ?? []) if (full[field] !== undefined) entry[field] = full[field];
      return entry;
    });
    return { objects, rendered, nextMarker, revision };
  }

  fqNameToId(typeName: string, fqName: string[]): string {
    const type = this.typeOf(typeName);
    const uuid = this.store.uuidOf(type.type, fqName);
    if (!uuid) throw errors.NOT_FOUND({ type: type.type, fq_name: fqName });
    return uuid;
  }

  idToFqName(uuid: string): { type: string; fq_name: string[] } {
    const object = this.store.get(uuid.toLowerCase());
    if (!object) throw errors.NOT_FOUND({ type: 'object', uuid });
    return { type: object.type, fq_name: object.fqName };
  }

  /** default-global-system-config, default-domain, default-project and its default-network-ipam. */
  async ensureDefaults(): Promise<void> {
    const defaults: [string, string[]][] = [
      ['global-system-config', ['default-global-system-config']],
      ['domain', ['default-domain']],
      ['project', ['default-domain', 'default-project']],
      ['network-ipam', ['default-domain', 'default-project', 'default-network-ipam']],
    ];
    for (const [type, fqName] of defaults) {
      if (!this.store.uuidOf(type, fqName)) await this.create(type, { fq_name: fqName });
    }
  }
}

/** A filter value as the VNC API writes it: JSON when it parses as a number or boolean, text otherwise. */
function filterValue(raw: string): string | number | boolean {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) return raw.slice(1, -1);
  return raw;
}
