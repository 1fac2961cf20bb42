// One attempt of a write on the etcd store: the write's body runs synchronously against the view,
// and this records what it read and what it wrote, so that the attempt commits as one etcd
// transaction that succeeds only if nothing it read has changed since (compare-and-swap on
// every key's mod revision, and on "nothing new in this range" for range reads). Its own writes
// are applied to the view tentatively, so the body reads them back; `undo` takes them out again
// before anything else runs.
import * as keys from './etcd-keys.js';
import { type Entry, type EtcdView, type LogValue, type ObjectValue, PENDING } from './etcd-view.js';
import { type ListQuery, OneChangePerWrite, type Operation, type StoredObject, type WriteTx } from './store.js';

/** A key's value in the transaction, or its deletion. */
export type Op = { key: string; value: unknown } | { key: string; delete: true };

/** What the attempt read and wrote, ready to become an etcd transaction. */
export interface Attempt {
  /** Key → the mod revision it had when first read or written (0: it did not exist). */
  pointReads: Map<string, number>;
  /** Prefixes read as a whole: nothing under them may be created or changed after `revision`. */
  rangeReads: Set<string>;
  ops: Op[];
  /** The change to log, when the write made one. */
  change: LogValue | undefined;
}

function refsOf(body: Record<string, unknown>): Map<string, unknown> {
  const refs = new Map<string, unknown>();
  for (const [field, value] of Object.entries(body)) {
    if (!field.endsWith('_refs') || !Array.isArray(value)) continue;
    for (const item of value as { uuid: string; attr?: unknown }[]) refs.set(item.uuid, item.attr);
  }
  return refs;
}

export class EtcdTx {
  readonly pointReads = new Map<string, number>();
  readonly rangeReads = new Set<string>();
  /** Key → what it held before this attempt touched it (undefined: absent). */
  readonly #before = new Map<string, Entry | undefined>();
  #change: LogValue | undefined;
  readonly tx: WriteTx;

  constructor(
    private readonly view: EtcdView,
    attempt = 0,
  ) {
    const self = this;
    this.tx = {
      attempt,
      revision: () => view.revision(),
      get(uuid) {
        self.#read(keys.objectKey(uuid));
        return view.get(uuid);
      },
      getMany(uuids) {
        for (const uuid of uuids) self.#read(keys.objectKey(uuid));
        return view.getMany(uuids);
      },
      uuidOf(type, fqName) {
        self.#read(keys.nameKey(type, fqName));
        return view.uuidOf(type, fqName);
      },
      list(query: ListQuery) {
        self.rangeReads.add(keys.OBJECT);
        return view.list(query);
      },
      count(query: ListQuery) {
        self.rangeReads.add(keys.OBJECT);
        return view.count(query);
      },
      children(parentUuids, limit) {
        for (const parent of parentUuids) self.rangeReads.add(keys.childPrefix(parent));
        return view.children(parentUuids, limit);
      },
      backRefs(toUuids, limit) {
        for (const to of toUuids) self.rangeReads.add(keys.backRefPrefix(to));
        return view.backRefs(toUuids, limit);
      },
      reservationOwner(scope, value) {
        self.#read(keys.reservationKey(scope, value));
        return view.reservationOwner(scope, value);
      },
      reservations(scope) {
        self.rangeReads.add(keys.scopePrefix(scope));
        return view.reservations(scope);
      },
      create: (object) => self.#logChange('CREATE', object, () => self.#writeObject(object, true)),
      update: (object) => self.#logChange('UPDATE', object, () => self.#writeObject(object, false)),
      delete: (object) => self.#logChange('DELETE', object, () => self.#deleteObject(object)),
      reserve(scope, value, owner) {
        const key = keys.reservationKey(scope, value);
        self.#read(key);
        if (view.entries.has(key)) return false;
        self.#put(key, owner);
        return true;
      },
      release(scope, value) {
        const key = keys.reservationKey(scope, value);
        self.#read(key);
        if (view.entries.has(key)) self.#remove(key);
      },
      releaseOwnedBy(owner) {
        const scopes = new Set<string>();
        for (const [key, { scope }] of [...view.ownedBy(owner)]) {
          self.#read(key);
          self.#remove(key);
          scopes.add(scope);
        }
        return [...scopes];
      },
    };
  }

  #read(key: string): void {
    if (!this.pointReads.has(key)) this.pointReads.set(key, this.view.entries.get(key)?.mod ?? 0);
  }

  #touch(key: string): void {
    this.#read(key);
    if (!this.#before.has(key)) this.#before.set(key, this.view.entries.get(key));
  }

  #put(key: string, value: unknown): void {
    this.#touch(key);
    const create = this.view.entries.get(key)?.create ?? PENDING;
    this.view.set(key, { value, mod: PENDING, create });
  }

  #remove(key: string): void {
    this.#touch(key);
    this.view.set(key, undefined);
  }

  #logChange(operation: Operation, object: Omit<StoredObject, 'revision'>, write: () => void): number {
    if (this.#change) throw new OneChangePerWrite();
    write();
    this.#change = {
      operation,
      type: object.type,
      uuid: object.uuid,
      fqName: object.fqName,
      objectJson: JSON.stringify(object.body),
      committedAtMs: Date.now(),
    };
    return PENDING;
  }

  #writeObject(object: Omit<StoredObject, 'revision'>, created: boolean): void {
    const value: ObjectValue = {
      type: object.type,
      fqName: object.fqName,
      ...(object.parentUuid ? { parentUuid: object.parentUuid } : {}),
      body: object.body,
    };
    this.#put(keys.objectKey(object.uuid), value);
    if (created) {
      this.#put(keys.nameKey(object.type, object.fqName), object.uuid);
      if (object.parentUuid) this.#put(keys.childKey(object.parentUuid, object.uuid), object.type);
    }
    const wanted = refsOf(object.body);
    for (const to of this.view.refsFrom(object.uuid).keys()) {
      if (wanted.has(to)) continue;
      this.#remove(keys.refKey(object.uuid, to));
      this.#remove(keys.backRefKey(to, object.uuid));
    }
    for (const [to, attr] of wanted) {
      const value = attr === undefined ? {} : { attr };
      this.#put(keys.refKey(object.uuid, to), value);
      this.#put(keys.backRefKey(to, object.uuid), value);
    }
  }

  #deleteObject(object: StoredObject): void {
    this.#remove(keys.objectKey(object.uuid));
    this.#remove(keys.nameKey(object.type, object.fqName));
    if (object.parentUuid) this.#remove(keys.childKey(object.parentUuid, object.uuid));
    for (const to of [...this.view.refsFrom(object.uuid).keys()]) {
      this.#remove(keys.refKey(object.uuid, to));
      this.#remove(keys.backRefKey(to, object.uuid));
    }
  }

  /** Takes the attempt's writes out of the view again, newest first, and says what it did. */
  undo(): Attempt {
    const ops: Op[] = [];
    for (const [key, before] of this.#before) {
      const after = this.view.entries.get(key);
      if (after) ops.push({ key, value: after.value });
      else if (before) ops.push({ key, delete: true });
    }
    for (const [key, before] of [...this.#before].reverse()) this.view.set(key, before);
    return { pointReads: this.pointReads, rangeReads: this.rangeReads, ops, change: this.#change };
  }
}
