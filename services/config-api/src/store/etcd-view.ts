// The etcd store's in-memory view: every key under the prefix (./etcd-keys.ts), as of the last
// revision the watch delivered, with the indexes that reads need (objects by type in uuid order,
// children, back-references, reservations by scope and by owner, the change log in revision
// order). Reads are synchronous, as the store interface asks. `set` is the one mutation: the
// watch applies committed keys with it, and a write applies its own keys tentatively and undoes
// them (set back to what they were) before anything else runs.
import * as keys from './etcd-keys.js';
import type { BackRef, ChangeRecord, ChildLink, ListQuery, ReadView, StoredObject } from './store.js';

export interface Entry {
  value: unknown;
  /** Revision of the last write of the key (etcd's mod_revision); PENDING inside a write. */
  mod: number;
  /** Revision that created the key (etcd's create_revision). */
  create: number;
}

/** An object as its o/ key holds it. */
export interface ObjectValue {
  type: string;
  fqName: string[];
  parentUuid?: string;
  body: Record<string, unknown>;
}

/** A change-log entry as its l/ key holds it (the revision is the key's create revision). */
export type LogValue = Omit<ChangeRecord, 'revision'> & {
  /** Which attempt of its write committed (a write whose answer was lost is tried again). */
  attempt?: number;
};

/** The revision a write's own keys carry until etcd gives them one. */
export const PENDING = -1;

/** The value under `key`, made and stored first when there is none. */
function slot<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** First index of a sorted list whose value is not below `value`. */
function lowerBound(list: string[], value: string): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

function insertSorted(list: string[], value: string): void {
  const at = lowerBound(list, value);
  if (list[at] !== value) list.splice(at, 0, value);
}

function removeSorted(list: string[], value: string): void {
  const at = lowerBound(list, value);
  if (list[at] === value) list.splice(at, 1);
}

/**
 * The change log in revision order. Trimming removes the oldest entries, so they leave from the
 * front without moving the rest; a snapshot adds them in key order, sorted once at the end.
 */
export class RevisionLog {
  #entries: ChangeRecord[] = [];
  #start = 0;
  #sorted = true;

  get length(): number {
    return this.#entries.length - this.#start;
  }

  #first(revision: number): number {
    this.#sort();
    let low = this.#start;
    let high = this.#entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#entries[middle]!.revision < revision) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #sort(): void {
    if (this.#sorted) return;
    this.#entries = this.#entries.slice(this.#start).sort((a, b) => a.revision - b.revision);
    this.#start = 0;
    this.#sorted = true;
  }

  add(change: ChangeRecord): void {
    const last = this.#entries[this.#entries.length - 1];
    if (last && last.revision > change.revision) this.#sorted = false;
    this.#entries.push(change);
  }

  remove(revision: number): void {
    this.#sort();
    if (this.#entries[this.#start]?.revision === revision) {
      this.#start += 1;
      if (this.#start > 1024 && this.#start * 2 > this.#entries.length) {
        this.#entries = this.#entries.slice(this.#start);
        this.#start = 0;
      }
      return;
    }
    const at = this.#first(revision);
    if (this.#entries[at]?.revision === revision) this.#entries.splice(at, 1);
  }

  since(revision: number, limit: number): ChangeRecord[] {
    const at = this.#first(revision);
    return this.#entries.slice(at, at + limit);
  }

  oldest(count: number): ChangeRecord[] {
    this.#sort();
    return this.#entries.slice(this.#start, this.#start + count);
  }
}

/** SQLite's json_extract equality, which filters follow on both stores: booleans compare as 1 and 0. */
function filterMatches(actual: unknown, wanted: string | number | boolean): boolean {
  const normal = (value: unknown) => (typeof value === 'boolean' ? Number(value) : value);
  return normal(actual) === normal(wanted);
}

function byTypeThenUuid(a: { type: string; uuid: string }, b: { type: string; uuid: string }): number {
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  return a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
}

export class EtcdView implements ReadView {
  readonly entries = new Map<string, Entry>();
  /** Highest revision applied from etcd (the snapshot's, then each watch response's). */
  applied = 0;
  /** Revision of the last change (the head key's mod revision), or the snapshot's when there is none. */
  head = 0;
  readonly log = new RevisionLog();
  readonly #logByWrite = new Map<string, { change: ChangeRecord; attempt: number }>();
  readonly #writeOfChange = new WeakMap<ChangeRecord, string>();
  readonly #objects = new Map<string, StoredObject>();
  readonly #byType = new Map<string, string[]>();
  readonly #children = new Map<string, Map<string, string>>();
  readonly #refs = new Map<string, Map<string, unknown>>();
  readonly #backRefs = new Map<string, Map<string, unknown>>();
  readonly #reservations = new Map<string, Map<string, string>>();
  readonly #owned = new Map<string, Map<string, { scope: string; value: string }>>();

  /** Sets a key (or removes it, given undefined) and keeps every index in step. */
  set(key: string, entry: Entry | undefined): void {
    const before = this.entries.get(key);
    if (before) this.#unindex(key, before);
    if (entry) {
      this.entries.set(key, entry);
      this.#index(key, entry);
    } else {
      this.entries.delete(key);
    }
  }

  #index(key: string, entry: Entry): void {
    if (key.startsWith(keys.OBJECT)) {
      const uuid = key.slice(keys.OBJECT.length);
      const value = entry.value as ObjectValue;
      this.#objects.set(uuid, {
        uuid,
        type: value.type,
        fqName: value.fqName,
        parentUuid: value.parentUuid,
        body: value.body,
        revision: entry.mod,
      });
      const list = slot(this.#byType, value.type, (): string[] => []);
      insertSorted(list, uuid);
    } else if (key.startsWith(keys.CHILD)) {
      const [parent, uuid] = keys.splitPair(key, keys.CHILD);
      const children = slot(this.#children, parent, () => new Map());
      children.set(uuid, entry.value as string);
    } else if (key.startsWith(keys.REF)) {
      const [from, to] = keys.splitPair(key, keys.REF);
      const refs = slot(this.#refs, from, () => new Map());
      refs.set(to, (entry.value as { attr?: unknown }).attr);
    } else if (key.startsWith(keys.BACK_REF)) {
      const [to, from] = keys.splitPair(key, keys.BACK_REF);
      const refs = slot(this.#backRefs, to, () => new Map());
      refs.set(from, (entry.value as { attr?: unknown }).attr);
    } else if (key.startsWith(keys.RESERVATION)) {
      const { scope, value } = keys.reservationOf(key);
      const owner = entry.value as string;
      const values = slot(this.#reservations, scope, () => new Map());
      values.set(value, owner);
      const owned = slot(this.#owned, owner, () => new Map());
      owned.set(key, { scope, value });
    } else if (key.startsWith(keys.LOG)) {
      const { attempt = 0, ...value } = entry.value as LogValue;
      const change: ChangeRecord = { revision: entry.create, ...value };
      this.log.add(change);
      const writeId = key.slice(keys.LOG.length);
      this.#logByWrite.set(writeId, { change, attempt });
      this.#writeOfChange.set(change, writeId);
    }
  }

  #unindex(key: string, entry: Entry): void {
    if (key.startsWith(keys.OBJECT)) {
      const uuid = key.slice(keys.OBJECT.length);
      this.#objects.delete(uuid);
      const type = (entry.value as ObjectValue).type;
      const list = this.#byType.get(type);
      if (list) removeSorted(list, uuid);
    } else if (key.startsWith(keys.CHILD)) {
      const [parent, uuid] = keys.splitPair(key, keys.CHILD);
      const children = this.#children.get(parent);
      children?.delete(uuid);
      if (children?.size === 0) this.#children.delete(parent);
    } else if (key.startsWith(keys.REF)) {
      const [from, to] = keys.splitPair(key, keys.REF);
      const refs = this.#refs.get(from);
      refs?.delete(to);
      if (refs?.size === 0) this.#refs.delete(from);
    } else if (key.startsWith(keys.BACK_REF)) {
      const [to, from] = keys.splitPair(key, keys.BACK_REF);
      const refs = this.#backRefs.get(to);
      refs?.delete(from);
      if (refs?.size === 0) this.#backRefs.delete(to);
    } else if (key.startsWith(keys.RESERVATION)) {
      const { scope, value } = keys.reservationOf(key);
      const values = this.#reservations.get(scope);
      values?.delete(value);
      if (values?.size === 0) this.#reservations.delete(scope);
      const owner = entry.value as string;
      const owned = this.#owned.get(owner);
      owned?.delete(key);
      if (owned?.size === 0) this.#owned.delete(owner);
    } else if (key.startsWith(keys.LOG)) {
      this.log.remove(entry.create);
      this.#logByWrite.delete(key.slice(keys.LOG.length));
    }
  }

  /** The change a write made, found by its write id (when that write committed). */
  changeOfWrite(writeId: string): ChangeRecord | undefined {
    return this.#logByWrite.get(writeId)?.change;
  }

  /** Which attempt of a write committed, if one did. */
  attemptOfWrite(writeId: string): number | undefined {
    return this.#logByWrite.get(writeId)?.attempt;
  }

  /** The id of the write that made a change (the name of its log key). */
  writeIdOf(change: ChangeRecord): string | undefined {
    return this.#writeOfChange.get(change);
  }

  trimmedThrough(): number {
    return (this.entries.get(keys.TRIMMED)?.value as number | undefined) ?? 0;
  }

  changesSince(fromRevision: number, limit: number): ChangeRecord[] {
    return this.log.since(fromRevision, limit);
  }

  /** Reference targets of an object with their attrs (its r/ keys). */
  refsFrom(uuid: string): Map<string, unknown> {
    return this.#refs.get(uuid) ?? new Map();
  }

  /** Reservation keys an owner holds. */
  ownedBy(owner: string): Map<string, { scope: string; value: string }> {
    return this.#owned.get(owner) ?? new Map();
  }

  // ---- ReadView ----

  revision(): number {
    return this.head;
  }

  get(uuid: string): StoredObject | undefined {
    return this.#objects.get(uuid);
  }

  getMany(uuids: string[]): StoredObject[] {
    return [...new Set(uuids)]
      .sort()
      .map((uuid) => this.#objects.get(uuid))
      .filter((object): object is StoredObject => object !== undefined);
  }

  uuidOf(type: string, fqName: string[]): string | undefined {
    return this.entries.get(keys.nameKey(type, fqName))?.value as string | undefined;
  }

  #matching(query: ListQuery): StoredObject[] {
    const parents = query.parentUuids && new Set(query.parentUuids);
    const uuids = query.uuids && new Set(query.uuids);
    let referring: Set<string> | undefined;
    if (query.backRefUuids) {
      referring = new Set();
      for (const to of query.backRefUuids) for (const from of this.#backRefs.get(to)?.keys() ?? []) referring.add(from);
    }
    const found: StoredObject[] = [];
    for (const uuid of this.#byType.get(query.type) ?? []) {
      if (query.after !== undefined && uuid <= query.after) continue;
      if (uuids && !uuids.has(uuid)) continue;
      if (referring && !referring.has(uuid)) continue;
      const object = this.#objects.get(uuid)!;
      if (parents && (object.parentUuid === undefined || !parents.has(object.parentUuid))) continue;
      if (query.filters?.some((filter) => !filterMatches(object.body[filter.field], filter.value))) continue;
      found.push(object);
      if (query.limit !== undefined && found.length >= query.limit) break;
    }
    return found;
  }

  list(query: ListQuery): StoredObject[] {
    return this.#matching(query);
  }

  count(query: ListQuery): number {
    return this.#matching({ ...query, after: undefined, limit: undefined }).length;
  }

  children(parentUuids: string[], limit = -1): ChildLink[] {
    const found: ChildLink[] = [];
    for (const parentUuid of new Set(parentUuids)) {
      for (const [uuid, type] of this.#children.get(parentUuid) ?? []) {
        const child = this.#objects.get(uuid);
        if (child) found.push({ uuid, type, fqName: child.fqName, parentUuid });
      }
    }
    found.sort(byTypeThenUuid);
    return limit >= 0 ? found.slice(0, limit) : found;
  }

  backRefs(toUuids: string[], limit = -1): BackRef[] {
    const found: BackRef[] = [];
    for (const toUuid of new Set(toUuids)) {
      for (const [fromUuid, attr] of this.#backRefs.get(toUuid) ?? []) {
        const from = this.#objects.get(fromUuid);
        if (from) found.push({ toUuid, attr, from: { uuid: from.uuid, type: from.type, fqName: from.fqName } });
      }
    }
    found.sort((a, b) => byTypeThenUuid(a.from, b.from));
    return limit >= 0 ? found.slice(0, limit) : found;
  }

  reservationOwner(scope: string, value: string): string | undefined {
    return this.#reservations.get(scope)?.get(value);
  }

  reservations(scope: string): { value: string; owner: string }[] {
    return [...(this.#reservations.get(scope) ?? [])].map(([value, owner]) => ({ value, owner }));
  }

  allReservations(): { scope: string; value: string; owner: string }[] {
    const all: { scope: string; value: string; owner: string }[] = [];
    for (const [scope, values] of this.#reservations) {
      for (const [value, owner] of values) all.push({ scope, value, owner });
    }
    return all.sort((a, b) => (a.scope === b.scope ? (a.value < b.value ? -1 : 1) : a.scope < b.scope ? -1 : 1));
  }

  countsByType(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [type, list] of this.#byType) if (list.length > 0) counts.set(type, list.length);
    return counts;
  }
}
