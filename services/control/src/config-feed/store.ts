// The config objects control compiles from, held in memory by type and uuid. control keeps no
// state on disk: this store is rebuilt from config-api (List, then Watch) after every start.
import type { VncObject } from '../compile/vnc.js';

export interface StoredObject {
  type: string;
  uuid: string;
  fqName: string[];
  /** The object in the VNC API's JSON form, parsed once. */
  body: VncObject;
  /** Revision of the change that last wrote the object. */
  revision: number;
  /** The JSON text as received, to tell a real change from a repeat. */
  json: string;
}

export class ConfigStore {
  readonly #byType = new Map<string, Map<string, StoredObject>>();
  readonly #typeOfUuid = new Map<string, string>();

  #table(type: string): Map<string, StoredObject> {
    let table = this.#byType.get(type);
    if (!table) {
      table = new Map();
      this.#byType.set(type, table);
    }
    return table;
  }

  get(type: string, uuid: string): StoredObject | undefined {
    return this.#byType.get(type)?.get(uuid);
  }

  typeOf(uuid: string): string | undefined {
    return this.#typeOfUuid.get(uuid);
  }

  all(type: string): Iterable<StoredObject> {
    return this.#byType.get(type)?.values() ?? [];
  }

  count(type?: string): number {
    if (type) return this.#byType.get(type)?.size ?? 0;
    let total = 0;
    for (const table of this.#byType.values()) total += table.size;
    return total;
  }

  /** Stores the object unless what is stored is newer or the same; true when something changed. */
  upsert(object: StoredObject): boolean {
    const table = this.#table(object.type);
    const current = table.get(object.uuid);
    if (current && (current.revision > object.revision || current.json === object.json)) return false;
    table.set(object.uuid, object);
    this.#typeOfUuid.set(object.uuid, object.type);
    return true;
  }

  /** Removes the object unless what is stored was written after `revision`; true when removed. */
  remove(type: string, uuid: string, revision = Number.MAX_SAFE_INTEGER): boolean {
    const table = this.#byType.get(type);
    const current = table?.get(uuid);
    if (!current || current.revision > revision) return false;
    table!.delete(uuid);
    this.#typeOfUuid.delete(uuid);
    return true;
  }

  /**
   * Makes the store equal to a fresh listing of `types`: upserts what differs and removes what
   * the listing lacks. Objects that did not change are left alone, so compilation sees no change
   * for them and nothing still true is ever withdrawn by a relist.
   */
  replaceAll(types: readonly string[], objects: readonly StoredObject[]): number {
    let changed = 0;
    const listed = new Set(objects.map((object) => object.uuid));
    for (const type of types) {
      for (const uuid of [...(this.#byType.get(type)?.keys() ?? [])]) {
        if (!listed.has(uuid) && this.remove(type, uuid)) changed += 1;
      }
    }
    for (const object of objects) {
      const table = this.#table(object.type);
      const current = table.get(object.uuid);
      if (current?.json === object.json) continue;
      // A listing is the truth at its revision: it may replace an object with an older revision
      // number only when that object came from a replay the listing supersedes.
      table.set(object.uuid, object);
      this.#typeOfUuid.set(object.uuid, object.type);
      changed += 1;
    }
    return changed;
  }
}

/** Parses an object_json as config-api sends it; a bad one is reported, never half-applied. */
export function storedObject(object: {
  type: string;
  uuid: string;
  fq_name: string[];
  object_json: string;
  revision: number;
}): StoredObject {
  const body = JSON.parse(object.object_json) as VncObject;
  return {
    type: object.type,
    uuid: object.uuid,
    fqName: object.fq_name,
    body,
    revision: object.revision,
    json: object.object_json,
  };
}
