// What one caller may see and change, as Tungsten Fabric's RBAC and perms2 decide it: every
// object has an owner (a project; "cloud-admin" for the system's own), owner_access,
// global_access and a share list, each access a mask of read (4), write (2) and link (1).
// A caller reads what a project of his owns, and what is shared with everyone or with one of
// his projects; he changes only what a project where he is a member owns (or what is shared with
// it for writing); he refers to what he may read and is shared for linking. An object he may
// not read does not exist for him (404); one he may read but not change is 403.
import { type AuthMode, type Identity, isCloudAdmin, readsAll } from '@weft/kit';
import { errors } from '../errors.js';
import type { ReadView, StoredObject } from '../store/store.js';

const READ = 4;
const WRITE = 2;
const LINK = 1;

/** Owner of the system's objects (domains, global config, virtual routers…), as in TF. */
export const SYSTEM_OWNER = 'cloud-admin';

/** Types without a parent that tenants make for themselves; other top-level objects are the system's. */
export const TENANT_ROOTS = new Set(['virtual-machine', 'instance-ip']);

/** TF writes project uuids without dashes in perms2; either form names the same project. */
export const ownerKey = (uuid: string) => uuid.replace(/-/g, '').toLowerCase();

interface Perms2 {
  owner?: string;
  owner_access?: number;
  global_access?: number;
  share?: { tenant?: string; tenant_access?: number }[];
}

/** The project that owns an object: perms2.owner, else its nearest project ancestor, else the system. */
export function ownerOf(view: ReadView, object: StoredObject): string {
  const owner = (object.body.perms2 as Perms2 | undefined)?.owner;
  if (owner && owner !== SYSTEM_OWNER) return ownerKey(owner);
  return projectOf(view, object) ?? SYSTEM_OWNER;
}

/** The nearest project at or above an object, by its parents. */
export function projectOf(view: ReadView, object: StoredObject | undefined): string | undefined {
  for (let at = object, depth = 0; at && depth < 16; depth++) {
    if (at.type === 'project') return ownerKey(at.uuid);
    at = at.parentUuid ? view.get(at.parentUuid) : undefined;
  }
  return undefined;
}

/** What one caller may do, decided per object. */
export class Scope {
  /** May do anything (cloud-admin, or no-auth). */
  readonly unrestricted: boolean;
  /** May read anything (also a global reader). */
  readonly readsEverything: boolean;
  /** Projects (owner keys) where the caller is a member, and where he is at least a reader. */
  readonly memberOf = new Set<string>();
  readonly readerOf = new Set<string>();

  constructor(
    readonly view: ReadView,
    readonly identity: Identity,
    mode: AuthMode,
    resolved?: Scope,
  ) {
    this.unrestricted = isCloudAdmin(identity);
    this.readsEverything = readsAll(identity);
    if (resolved) {
      for (const key of resolved.memberOf) this.memberOf.add(key);
      for (const key of resolved.readerOf) this.readerOf.add(key);
      return;
    }
    // cloud-admin mode: only the global roles count; rbac: the projects too.
    if (mode !== 'rbac') return;
    for (const [fqName, role] of identity.projects) {
      const uuid = view.uuidOf('project', fqName.split(':'));
      if (!uuid) continue;
      this.readerOf.add(ownerKey(uuid));
      if (role === 'member') this.memberOf.add(ownerKey(uuid));
    }
  }

  /** The same caller, deciding on what a transaction reads. */
  at(view: ReadView): Scope {
    return new Scope(view, this.identity, 'rbac', this);
  }

  #access(object: StoredObject, bit: number, projects: Set<string>): boolean {
    const perms = (object.body.perms2 as Perms2 | undefined) ?? {};
    const owner = ownerOf(this.view, object);
    if (projects.has(owner) && ((perms.owner_access ?? 7) & bit) !== 0) return true;
    if (((perms.global_access ?? 0) & bit) !== 0) return true;
    for (const item of perms.share ?? []) {
      const tenant = String(item.tenant ?? '');
      const uuid = tenant.slice(tenant.indexOf(':') + 1);
      if (projects.has(ownerKey(uuid)) && ((item.tenant_access ?? 0) & bit) !== 0) return true;
    }
    return false;
  }

  canRead(object: StoredObject): boolean {
    if (this.readsEverything) return true;
    // The system's own objects (domains, global config, tag types…) are readable by every caller;
    // a tenant's kind of object that a cloud-admin made for nobody in particular is not.
    if (ownerOf(this.view, object) === SYSTEM_OWNER && !TENANT_ROOTS.has(object.type)) return true;
    return this.#access(object, READ, this.readerOf);
  }

  canWrite(object: StoredObject): boolean {
    if (this.unrestricted) return true;
    // A project itself is changed by cloud-admins only, as in TF.
    if (object.type === 'project') return false;
    return this.#access(object, WRITE, this.memberOf);
  }

  canLink(object: StoredObject): boolean {
    if (this.unrestricted) return true;
    if (ownerOf(this.view, object) === SYSTEM_OWNER) return true;
    return this.#access(object, LINK, this.readerOf);
  }

  /**
   * Refuses references to objects the caller may not link to (those `previous` already had
   * stay): 404 for what he may not read, 403 for what he reads but may not refer to.
   */
  mustLink(refFields: Iterable<string>, body: Record<string, unknown>, previous?: Record<string, unknown>): void {
    if (this.unrestricted) return;
    for (const field of refFields) {
      const items = body[field] as { uuid: string }[] | undefined;
      if (!items || items === previous?.[field]) continue;
      const had = new Set(((previous?.[field] as { uuid: string }[] | undefined) ?? []).map((item) => item.uuid));
      items.forEach((item, index) => {
        if (had.has(item.uuid)) return;
        const target = this.view.get(item.uuid);
        if (!target || this.canLink(target)) return;
        if (!this.canRead(target)) {
          throw errors.REF_NOT_FOUND({ field: `${field}[${index}]`, type: target.type, target: item.uuid });
        }
        throw errors.FORBIDDEN({
          user: this.identity.user,
          action: `refer to ${target.type} ${target.fqName.join(':')}`,
        });
      });
    }
  }

  /**
   * The owner of a parentless object a cloud-admin makes without naming one: the project of the
   * first object it refers to that a project owns (an instance-ip is its network's tenant's).
   */
  ownerFromRefs(refFields: Iterable<string>, body: Record<string, unknown>): string | undefined {
    for (const field of refFields) {
      for (const item of (body[field] as { uuid: string }[] | undefined) ?? []) {
        const target = this.view.get(item.uuid);
        const owner = target && ownerOf(this.view, target);
        if (owner && owner !== SYSTEM_OWNER) return owner;
      }
    }
    return undefined;
  }

  /** A uuid that this caller may read (false for one that does not exist). */
  readsUuid = (uuid: string): boolean => {
    const object = this.view.get(uuid);
    return object !== undefined && this.canRead(object);
  };

  /** Refuses a change of `object`: 404 when the caller may not even read it, 403 otherwise. */
  mustWrite(object: StoredObject): void {
    if (this.canWrite(object)) return;
    if (!this.canRead(object)) throw errors.NOT_FOUND({ type: object.type, uuid: object.uuid });
    throw errors.FORBIDDEN({ user: this.identity.user, action: `change ${object.type} ${object.uuid}` });
  }

  /** Refuses a read of an object the caller may not see, as if it did not exist. */
  mustRead(object: StoredObject): void {
    if (!this.canRead(object)) throw errors.NOT_FOUND({ type: object.type, uuid: object.uuid });
  }

  /**
   * The owner of a new object under `parent` (none: a parentless type such as virtual-machine),
   * or a refusal: the caller must be a member of the owning project; the system's objects are
   * the cloud-admin's to make.
   */
  ownerForCreate(type: string, parent: StoredObject | undefined, askedOwner: string | undefined): string {
    const fromParent = parent ? projectOf(this.view, parent) : undefined;
    if (this.unrestricted) return askedOwner ? ownerKey(askedOwner) : (fromParent ?? SYSTEM_OWNER);
    if (parent) {
      if (!fromParent) {
        if (!this.canRead(parent)) throw errors.PARENT_NOT_FOUND({ field: 'parent', parent: parent.uuid });
        throw errors.FORBIDDEN({
          user: this.identity.user,
          action: `create a ${type} under ${parent.type} ${parent.fqName.join(':')}`,
        });
      }
      if (!this.memberOf.has(fromParent)) {
        if (!this.canRead(parent)) throw errors.PARENT_NOT_FOUND({ field: 'parent', parent: parent.fqName.join(':') });
        throw errors.FORBIDDEN({ user: this.identity.user, action: `create a ${type} in ${parent.fqName.join(':')}` });
      }
      return fromParent;
    }
    // A parentless object of a tenant's kind belongs to the project it names, or to the caller's
    // one project; the other top-level objects (domains, global config, global policies) are the
    // system's.
    if (!TENANT_ROOTS.has(type)) {
      throw errors.FORBIDDEN({ user: this.identity.user, action: `create a top-level ${type} (cloud-admin only)` });
    }
    if (askedOwner) {
      if (!this.memberOf.has(ownerKey(askedOwner))) {
        throw errors.FORBIDDEN({ user: this.identity.user, action: `create a ${type} owned by ${askedOwner}` });
      }
      return ownerKey(askedOwner);
    }
    const [only, ...more] = this.memberOf;
    if (!only || more.length > 0) {
      throw errors.FORBIDDEN({
        user: this.identity.user,
        action: `create a ${type} without perms2.owner (it names one project of the caller's)`,
      });
    }
    return only;
  }
}
