// The config objects control compiles from, typed by the resource model (@weft/model) and held
// in memory by type and uuid. control keeps no state on disk: this store is rebuilt from
// config-api (List, then Watch) after every start. Every real change is told to the listener
// (the compilation graph) with the object before and after, so that only what depends on it is
// compiled again.
import type { ConfigObjectOf } from '@weft/model';

/**
 * The types control compiles from; nothing else is listed or kept. The watch takes every type,
 * because revisions are gap-free only over all of them.
 */
export const COMPILED_TYPES = [
  'virtual-network',
  'network-policy',
  'security-group',
  'logical-router',
  'virtual-machine',
  'virtual-machine-interface',
  'instance-ip',
  'floating-ip',
  'loadbalancer',
  'loadbalancer-listener',
  'loadbalancer-pool',
  'loadbalancer-member',
] as const;
export type CompiledType = (typeof COMPILED_TYPES)[number];
const COMPILED_SET: ReadonlySet<string> = new Set(COMPILED_TYPES);

export function isCompiledType(type: string): type is CompiledType {
  return COMPILED_SET.has(type);
}

export interface StoredObject<T extends CompiledType = CompiledType> {
  type: T;
  uuid: string;
  fqName: string[];
  /** The object as config-api validated it, in the VNC API's JSON form. */
  body: ConfigObjectOf<T>;
  /**
   * Revision of the change that last wrote the object: the same revision is the same content
   * (as a resourceVersion is in Kubernetes), so a repeat or a relist of it changes nothing.
   */
  revision: number;
}

/** A stored object of any compiled type, discriminated by `type`. */
export type AnyStoredObject = { [T in CompiledType]: StoredObject<T> }[CompiledType];

/** One real change: the object before (undefined when created) and after (undefined when removed). */
export type StoreChange = {
  [T in CompiledType]: { type: T; uuid: string; before?: StoredObject<T>; after?: StoredObject<T> };
}[CompiledType];

export class ConfigStore {
  readonly #byType = new Map<CompiledType, Map<string, AnyStoredObject>>(
    COMPILED_TYPES.map((type) => [type, new Map()]),
  );
  readonly #listeners: ((change: StoreChange) => void)[] = [];

  /** Tells `listener` every change from now on, in the order they are applied. */
  listen(listener: (change: StoreChange) => void): void {
    this.#listeners.push(listener);
  }

  #tell(change: StoreChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  get<T extends CompiledType>(type: T, uuid: string): StoredObject<T> | undefined {
    return this.#byType.get(type)!.get(uuid) as StoredObject<T> | undefined;
  }

  all<T extends CompiledType>(type: T): Iterable<StoredObject<T>> {
    return this.#byType.get(type)!.values() as Iterable<StoredObject<T>>;
  }

  count(type?: CompiledType): number {
    if (type) return this.#byType.get(type)!.size;
    let total = 0;
    for (const table of this.#byType.values()) total += table.size;
    return total;
  }

  /** Stores the object unless what is stored is as new or newer; true when something changed. */
  upsert(object: AnyStoredObject): boolean {
    const table = this.#byType.get(object.type)!;
    const current = table.get(object.uuid);
    if (current && current.revision >= object.revision) return false;
    table.set(object.uuid, object);
    this.#tell({ type: object.type, uuid: object.uuid, before: current, after: object } as StoreChange);
    return true;
  }

  /** Removes the object unless what is stored was written after `revision`; true when removed. */
  remove(type: CompiledType, uuid: string, revision = Number.MAX_SAFE_INTEGER): boolean {
    const table = this.#byType.get(type)!;
    const current = table.get(uuid);
    if (!current || current.revision > revision) return false;
    table.delete(uuid);
    this.#tell({ type, uuid, before: current } as StoreChange);
    return true;
  }

  /**
   * Makes the store equal to a fresh listing of every compiled type: replaces what differs and
   * removes what the listing lacks. Objects that did not change are left alone, so compilation
   * sees no change for them and nothing still true is ever withdrawn by a relist.
   */
  replaceAll(objects: readonly AnyStoredObject[]): number {
    let changed = 0;
    // An empty store (control's start) has nothing to remove: no set of 150,000 uuids for it.
    if (this.count() > 0) {
      const listed = new Set(objects.map((object) => object.uuid));
      for (const [type, table] of this.#byType) {
        for (const uuid of [...table.keys()]) if (!listed.has(uuid) && this.remove(type, uuid)) changed += 1;
      }
    }
    for (const object of objects) {
      const table = this.#byType.get(object.type)!;
      const current = table.get(object.uuid);
      if (current?.revision === object.revision) continue;
      // A listing is the truth at its revision: it may replace an object with a newer revision
      // number only when that object came from a replay the listing supersedes.
      table.set(object.uuid, object);
      this.#tell({ type: object.type, uuid: object.uuid, before: current, after: object } as StoreChange);
      changed += 1;
    }
    return changed;
  }
}

/** Parses an object_json as config-api sends it, for a type control compiles. */
export function storedObject(object: {
  type: CompiledType;
  uuid: string;
  fq_name: string[];
  object_json: string;
  revision: number;
}): AnyStoredObject {
  const body = JSON.parse(object.object_json) as ConfigObjectOf<CompiledType>;
  // One string and one array for both, the body's, when it carries them: a copy of each for
  // every object was a tenth of the store.
  return {
    type: object.type,
    uuid: body.uuid === object.uuid ? body.uuid : object.uuid,
    fqName: Array.isArray(body.fq_name) ? body.fq_name : object.fq_name,
    body,
    revision: object.revision,
  } as AnyStoredObject;
}
