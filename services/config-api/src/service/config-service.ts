// The config-api's semantics, shared by REST and gRPC: create, read, update, delete, fq_name
// lookups and ref-update over the store, with integrity (parents and references exist, fq_name
// unique, nothing deleted while in use unless its referrers relaxed their references) and the
// per-type hooks of ../ipam/hooks.ts. Every write runs synchronously inside one store
// transaction. Lists are ./list.ts; the other VNC API actions are in ./actions/.
import { randomUUID } from 'node:crypto';
import { describeSchemaError, fieldOf, model, type ResourceType } from '@weft/model';
import { type Scope, SYSTEM_OWNER, TENANT_ROOTS } from '../auth/tenancy.js';
import { errors, invalid } from '../errors.js';
import { Allocator } from '../ipam/allocator.js';
import { type HookContext, hooks } from '../ipam/hooks.js';
import { forgetParsedSubnets } from '../ipam/subnets.js';
import type { ConfigStore, ReadView, StoredObject, WriteTx } from '../store/store.js';
import { relaxedScope } from './actions/relax.js';
import { type ListParams, type ListResult, listObjects } from './list.js';
import { ReadCache } from './read-cache.js';
import { type RenderOptions, relatedOf, renderObject } from './render.js';

type Body = Record<string, unknown>;

/** Parents used when a create names neither fq_name nor parent, as the VNC API does. */
const DEFAULT_PARENTS: Record<string, string[]> = {
  domain: ['default-domain'],
  project: ['default-domain', 'default-project'],
  'global-system-config': ['default-global-system-config'],
};

/** Fields the server owns on every object: accepted in a body, never taken from it. */
const SERVER_FIELDS = ['href', 'parent_href', 'uuid', 'fq_name', 'name', 'parent_type', 'parent_uuid'];

export type { ListParams, ListResult };

export interface ReadOptions {
  fields?: string[];
  excludeBackRefs?: boolean;
  excludeChildren?: boolean;
  excludeHrefs?: boolean;
}

export interface RefUpdate {
  operation: 'ADD' | 'DELETE';
  type: string;
  uuid: string;
  refType: string;
  refUuid?: string;
  refFqName?: string[];
  attr?: unknown;
  /** Also relax the reference for the delete of its target (TF's relax_ref_for_delete). */
  relaxForDelete?: boolean;
}

export class ConfigService {
  readonly allocator = new Allocator();
  /** Rendered reads by uuid, valid while the store's revision stands still. */
  readonly readCache: ReadCache;

  constructor(readonly store: ConfigStore) {
    this.readCache = new ReadCache(store);
  }

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

  /**
   * Runs `change` in one store transaction (see ConfigStore.write); on failure the allocation
   * hints are forgotten, since the transaction rolled back what they point past.
   */
  transact<T>(change: (tx: WriteTx) => T): Promise<T> {
    return this.store.write(change).catch((error) => {
      this.allocator.forgetHints();
      forgetParsedSubnets();
      throw error;
    });
  }

  #context(tx: WriteTx, uuid: string): HookContext {
    return { tx, allocator: this.allocator, uuid };
  }

  // ---- create ----

  /** `scope`: the caller's, when requests are authorized (none: the system's own writes). */
  async create(typeName: string, input: Body, scope?: Scope): Promise<StoredObject> {
    const type = this.typeOf(typeName);
    await this.#createImplied(type, input);
    return this.transact((tx) => this.createInTx(tx, typeName, input, scope?.at(tx)));
  }

  /** What the create implies and is missing (a tag's type), each created in its own write first. */
  async #createImplied(type: ResourceType, input: Body): Promise<void> {
    for (const implied of hooks[type.type]?.implies?.(input) ?? []) {
      if (this.store.uuidOf(implied.type, implied.fqName)) continue;
      await this.create(implied.type, implied.input).catch((error) => {
        // Another request created it meanwhile: what matters is that it exists.
        if (!this.store.uuidOf(implied.type, implied.fqName)) throw error;
      });
    }
  }

  /** Creates an object inside a transaction already open. */
  createInTx(tx: WriteTx, typeName: string, given: Body, scope?: Scope): StoredObject {
    const type = this.typeOf(typeName);
    const uuid = (given.uuid as string | undefined)?.toLowerCase() ?? randomUUID();
    if (tx.get(uuid)) throw errors.UUID_TAKEN({ field: 'uuid', uuid });
    const typeHooks = hooks[type.type];
    const input = typeHooks?.prepare ? typeHooks.prepare(this.#context(tx, uuid), given) : given;
    const { fqName, parent } = this.#placeOf(tx, type, input, uuid);
    let owner = scope?.ownerForCreate(
      type.type,
      parent,
      (input.perms2 as Body | undefined)?.owner as string | undefined,
    );
    const existing = tx.uuidOf(type.type, fqName);
    if (existing) throw errors.FQ_NAME_TAKEN({ field: 'fq_name', type: type.type, fq_name: fqName, uuid: existing });
    const now = new Date().toISOString();
    const body: Body = {};
    for (const [field, value] of Object.entries(input)) {
      if (!SERVER_FIELDS.includes(field) && !type.serverAssigned?.includes(field)) body[field] = value;
    }
    Object.assign(body, this.#resolveRefs(tx, type, input));
    scope?.mustLink(type.refFields.keys(), body);
    if (scope && owner === SYSTEM_OWNER && !parent && TENANT_ROOTS.has(type.type)) {
      owner = scope.ownerFromRefs(type.refFields.keys(), body) ?? owner;
    }
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
        ...sharedAccess(input),
        ...(input.perms2 as Body | undefined),
        ...(owner ? { owner } : {}),
      },
    });
    typeHooks?.create?.(this.#context(tx, uuid), body);
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
    const parentType = input.parent_type as string | undefined;
    const topLevel =
      type.parentTypes.length === 0 ||
      parentType === 'config-root' ||
      (type.mayBeTopLevel &&
        input.parent_uuid === undefined &&
        parentType === undefined &&
        (givenFq === undefined || givenFq.length === 1));
    if (topLevel) {
      if (input.parent_uuid !== undefined) throw invalid('parent_uuid', `a top-level ${type.type} has no parent`);
      if (givenFq && givenFq.length !== 1)
        throw invalid('fq_name', `a top-level ${type.type} has an fq_name of one element`);
      return { fqName: givenFq ?? [name ?? uuid] };
    }
    let parent: StoredObject | undefined;
    if (input.parent_uuid !== undefined) {
      parent = tx.get(input.parent_uuid as string);
      if (!parent) throw errors.PARENT_NOT_FOUND({ field: 'parent_uuid', parent: input.parent_uuid as string });
      if (parentType !== undefined && parentType !== parent.type) {
        throw invalid('parent_type', `is ${parentType} but parent_uuid names a ${parent.type}`);
      }
      if (!type.parentTypes.includes(parent.type)) {
        throw invalid(
          'parent_uuid',
          `is a ${parent.type}; the parent of a ${type.type} is a ${type.parentTypes.join(' or ')}`,
        );
      }
      if (givenFq && JSON.stringify(givenFq.slice(0, -1)) !== JSON.stringify(parent.fqName)) {
        throw invalid('fq_name', `does not start with its parent's fq_name ${parent.fqName.join(':')}`);
      }
      return { fqName: givenFq ?? [...parent.fqName, name ?? uuid], parent };
    }
    const parentTypes = parentType !== undefined ? [parentType] : type.parentTypes;
    if (givenFq) {
      if (givenFq.length < 2)
        throw invalid('fq_name', `a ${type.type} has a parent: fq_name needs its parent's names first`);
      const parentFq = givenFq.slice(0, -1);
      for (const candidate of parentTypes) {
        const parentUuid = tx.uuidOf(candidate, parentFq);
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

  read(typeName: string, uuid: string, scope?: Scope): StoredObject {
    const type = this.typeOf(typeName);
    const object = this.store.get(uuid.toLowerCase());
    if (!object || object.type !== type.type) throw errors.NOT_FOUND({ type: type.type, uuid });
    scope?.mustRead(object);
    return object;
  }

  /** The object as REST's GET returns it: with hrefs, back-references and children. */
  render(
    object: StoredObject,
    base: string,
    { related = true, scope }: { related?: boolean; scope?: Scope } = {},
  ): Body {
    const visible = scope?.readsUuid;
    return renderObject(
      object,
      base,
      related ? relatedOf(this.store, [object.uuid], base, {}, { ...(visible ? { visible } : {}) }) : undefined,
    );
  }

  /** GET /<type>/<uuid> with the VNC API's read options: only some fields, without back-references, children or hrefs. */
  renderRead(object: StoredObject, base: string, options: ReadOptions, scope?: Scope): Body {
    const render: RenderOptions = { hrefs: !options.excludeHrefs, ...(scope ? { visible: scope.readsUuid } : {}) };
    const full = renderObject(
      object,
      base,
      relatedOf(
        this.store,
        [object.uuid],
        base,
        { withBackRefs: !options.excludeBackRefs, withChildren: !options.excludeChildren },
        render,
      ),
      render,
    );
    if (!options.fields) return full;
    const picked: Body = {};
    for (const field of ['uuid', 'fq_name', 'name', 'href', 'parent_type', 'parent_uuid', ...options.fields]) {
      if (full[field] !== undefined) picked[field] = full[field];
    }
    return picked;
  }

  // ---- update ----

  /** Changes the fields given; `cleared` names properties sent as null, which Tungsten Fabric removes. */
  update(
    typeName: string,
    uuid: string,
    patch: Body,
    cleared: readonly string[] = [],
    scope?: Scope,
  ): Promise<StoredObject> {
    this.typeOf(typeName);
    return this.transact((tx) => this.updateInTx(tx, typeName, uuid.toLowerCase(), patch, cleared, scope?.at(tx)));
  }

  updateInTx(
    tx: WriteTx,
    typeName: string,
    uuid: string,
    given: Body,
    cleared: readonly string[] = [],
    scope?: Scope,
  ): StoredObject {
    const type = this.typeOf(typeName);
    const previous = tx.get(uuid);
    if (!previous || previous.type !== type.type) throw errors.NOT_FOUND({ type: type.type, uuid });
    scope?.mustWrite(previous);
    const newOwner = (given.perms2 as Body | undefined)?.owner;
    if (scope && !scope.unrestricted && newOwner !== undefined && newOwner !== (previous.body.perms2 as Body)?.owner) {
      throw errors.FORBIDDEN({
        user: scope.identity.user,
        action: 'give an object to another owner (cloud-admin only)',
      });
    }
    for (const field of ['uuid', 'fq_name', 'name', 'parent_type', 'parent_uuid'] as const) {
      const value = given[field];
      if (value === undefined) continue;
      const same =
        field === 'uuid'
          ? String(value).toLowerCase() === uuid
          : JSON.stringify(value) === JSON.stringify(previous.body[field]);
      if (!same) throw invalid(field, 'cannot be changed');
    }
    const patch: Body = { ...given };
    const removed: string[] = [];
    for (const field of cleared) {
      if (SERVER_FIELDS.includes(field) || type.serverAssigned?.includes(field)) continue;
      if (field === 'id_perms' || field === 'perms2') continue;
      // A reference list sent as null is an empty one; a property sent as null goes away.
      if (type.refFields.has(field)) patch[field] = [];
      else removed.push(field);
    }
    const body: Body = { ...previous.body };
    for (const field of removed) delete body[field];
    for (const [field, value] of Object.entries(patch)) {
      if (!SERVER_FIELDS.includes(field) && !type.serverAssigned?.includes(field)) body[field] = value;
    }
    Object.assign(body, this.#resolveRefs(tx, type, patch));
    scope?.mustLink(type.refFields.keys(), body, previous.body);
    const previousPerms = previous.body.id_perms as Body;
    body.id_perms = {
      ...previousPerms,
      ...(patch.id_perms as Body | undefined),
      created: previousPerms.created,
      last_modified: new Date().toISOString(),
    };
    const shared = sharedAccess(patch);
    if (patch.perms2 || shared.global_access !== undefined) {
      body.perms2 = { ...(previous.body.perms2 as Body), ...shared, ...(patch.perms2 as Body | undefined) };
    }
    hooks[type.type]?.update?.(this.#context(tx, uuid), body, previous.body, patch);
    this.#forgetRelaxedOfRemovedRefs(tx, type, uuid, previous.body, body);
    const object = { type: type.type, uuid, fqName: previous.fqName, parentUuid: previous.parentUuid, body };
    const revision = tx.update(object);
    return { ...object, revision };
  }

  /** A reference that goes away takes its relaxation with it: added again later, it holds its target again. */
  #forgetRelaxedOfRemovedRefs(tx: WriteTx, type: ResourceType, uuid: string, before: Body, after: Body): void {
    for (const field of type.refFields.keys()) {
      const previous = before[field] as { uuid: string }[] | undefined;
      if (!previous || previous.length === 0 || before[field] === after[field]) continue;
      const kept = new Set(((after[field] as { uuid: string }[] | undefined) ?? []).map((ref) => ref.uuid));
      for (const ref of previous) {
        if (!kept.has(ref.uuid)) tx.release(relaxedScope(ref.uuid), uuid);
      }
    }
  }

  refUpdate(update: RefUpdate, scope?: Scope): Promise<StoredObject> {
    const type = this.typeOf(update.type);
    const refType = this.typeOf(update.refType);
    const field = `${fieldOf(refType.type)}_refs`;
    const ref = type.refFields.get(field);
    if (!ref) throw invalid('ref-type', `a ${type.type} has no references to ${refType.type}`);
    return this.transact((tx) => {
      const object = tx.get(update.uuid.toLowerCase());
      if (!object || object.type !== type.type) throw errors.NOT_FOUND({ type: type.type, uuid: update.uuid });
      const txScope = scope?.at(tx);
      txScope?.mustWrite(object);
      let targetUuid = update.refUuid?.toLowerCase();
      if (targetUuid === undefined) {
        if (!update.refFqName) throw invalid('ref-uuid', 'ref-uuid or ref-fq-name is required');
        targetUuid = tx.uuidOf(refType.type, update.refFqName);
        if (!targetUuid) {
          throw errors.REF_NOT_FOUND({ field: 'ref-fq-name', type: refType.type, target: update.refFqName.join(':') });
        }
      }
      const current = (object.body[field] as { uuid: string; attr?: unknown }[] | undefined) ?? [];
      const index = current.findIndex((item) => item.uuid === targetUuid);
      if (update.operation === 'DELETE' && index < 0) return object;
      const attr = update.attr !== undefined && update.attr !== null ? { attr: update.attr } : {};
      // ADD of a reference already there updates its attr in place, as Tungsten Fabric does.
      const items =
        update.operation === 'DELETE'
          ? current.filter((_, at) => at !== index)
          : index >= 0
            ? current.map((item, at) => (at === index ? { uuid: item.uuid, ...attr } : item))
            : [...current, { uuid: targetUuid, ...attr }];
      const patch = this.validate(type, { [field]: items });
      const updated = this.updateInTx(tx, type.type, object.uuid, patch, [], txScope);
      if (update.operation === 'ADD' && update.relaxForDelete) {
        tx.release(relaxedScope(targetUuid), object.uuid);
        tx.reserve(relaxedScope(targetUuid), object.uuid, object.uuid);
      }
      return updated;
    });
  }

  // ---- delete ----

  /**
   * Deletes an object that nothing holds. Referrers that relaxed their reference for delete lose
   * it first, as in Tungsten Fabric, each in a write of its own (a write changes one object, since
   * on etcd each change is one revision); every step leaves a whole data set, and when the object
   * is found in use before the first step, nothing changes.
   */
  async delete(typeName: string, uuid: string, scope?: Scope): Promise<number> {
    const type = this.typeOf(typeName);
    const target = this.store.get(uuid.toLowerCase());
    if (scope && target && target.type === type.type) scope.mustWrite(target);
    const relaxedReferrers = this.#checkDeletable(this.store, type, uuid.toLowerCase(), { relaxedHold: false });
    const field = `${fieldOf(type.type)}_refs`;
    for (const referrerUuid of relaxedReferrers) {
      await this.transact((tx) => {
        const referrer = tx.get(referrerUuid);
        const items = (referrer?.body[field] as { uuid: string }[] | undefined) ?? [];
        if (!referrer || !items.some((item) => item.uuid === uuid.toLowerCase())) return;
        const kept = items.filter((item) => item.uuid !== uuid.toLowerCase());
        this.updateInTx(tx, referrer.type, referrer.uuid, { [field]: kept });
      });
    }
    return this.transact((tx) => {
      // A reference relaxed since the steps above still holds the object: no dangling reference.
      this.#checkDeletable(tx, type, uuid.toLowerCase(), { relaxedHold: true });
      const object = tx.get(uuid.toLowerCase())!;
      for (const scope of tx.releaseOwnedBy(object.uuid)) this.allocator.released(scope);
      return tx.delete(object);
    });
  }

  /**
   * Refuses the delete of an object with children or references that hold it (relaxed ones too,
   * when `relaxedHold`); returns the referrers whose relaxed references it would take along.
   */
  #checkDeletable(view: ReadView, type: ResourceType, uuid: string, { relaxedHold }: { relaxedHold: boolean }) {
    const object = view.get(uuid);
    if (!object || object.type !== type.type) throw errors.NOT_FOUND({ type: type.type, uuid });
    const children = view.children([object.uuid], 5);
    const relaxed = new Set(relaxedHold ? [] : view.reservations(relaxedScope(object.uuid)).map((held) => held.value));
    // Without relaxed references a few referrers are enough to refuse; with some, all of them count.
    const backRefs = view.backRefs([object.uuid], relaxed.size === 0 ? 5 : -1);
    const blocking = backRefs.filter((ref) => !relaxed.has(ref.from.uuid));
    if (children.length > 0 || blocking.length > 0) {
      throw errors.IN_USE({
        type: type.type,
        uuid: object.uuid,
        children: children.map((child) => `${child.type} ${child.fqName.join(':')}`),
        back_refs: blocking.slice(0, 5).map((ref) => `${ref.from.type} ${ref.from.fqName.join(':')}`),
      });
    }
    return backRefs.map((ref) => ref.from.uuid);
  }

  // ---- list and lookups ----

  list(params: ListParams, base: string, scope?: Scope): ListResult {
    const visible = scope && !scope.readsEverything ? scope : undefined;
    return listObjects(
      this.store,
      this.typeOf(params.type),
      {
        ...params,
        ...(visible
          ? { visible: (object: StoredObject) => visible.canRead(object), visibleUuid: visible.readsUuid }
          : {}),
      },
      base,
    );
  }

  fqNameToId(typeName: string, fqName: string[], scope?: Scope): string {
    const type = this.typeOf(typeName);
    const uuid = this.store.uuidOf(type.type, fqName);
    if (!uuid || (scope && !scope.readsUuid(uuid))) throw errors.NOT_FOUND({ type: type.type, fq_name: fqName });
    return uuid;
  }

  idToFqName(uuid: string, scope?: Scope): { type: string; fq_name: string[] } {
    const object = this.store.get(uuid.toLowerCase());
    if (!object || (scope && !scope.canRead(object))) throw errors.NOT_FOUND({ type: 'object', uuid });
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

/**
 * is_shared, as TF's API server keeps it: a shared object is readable and referable by every
 * tenant (global_access read + link), never writable by them; unsharing takes that back.
 */
function sharedAccess(input: Body): { global_access?: number } {
  if (typeof input.is_shared !== 'boolean') return {};
  return { global_access: input.is_shared ? 5 : 0 };
}
