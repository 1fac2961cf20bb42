// A whole data set in and out of a store, the same on SQLite and etcd: moving between them keeps
// every uuid, body and reservation, and the order of the objects' revisions (their numbers are
// the target store's own). One JSON document per line:
//
//   {"format":"weft-config-api-export","version":1}
//   {"object":{type, uuid, fqName, parentUuid?, body},"reservations":[[scope, value], …]}   oldest revision first
//
// Import writes one change per object, in that order, into an empty store. The change log is
// not moved: consumers list again when they meet the new store (control does at start).
import type { ConfigStore, StoredObject } from './store.js';

export const EXPORT_FORMAT = 'weft-config-api-export';

interface ObjectLine {
  object: Omit<StoredObject, 'revision'>;
  reservations: [string, string][];
}

/** The data set, line by line (each line one JSON document, without its newline). */
export function* exportDataSet(store: ConfigStore): Generator<string> {
  const objects: StoredObject[] = [];
  for (const type of store.countsByType().keys()) objects.push(...store.list({ type }));
  objects.sort((a, b) => a.revision - b.revision || (a.uuid < b.uuid ? -1 : 1));
  const byOwner = new Map<string, [string, string][]>();
  for (const { scope, value, owner } of store.allReservations()) {
    const held = byOwner.get(owner) ?? [];
    held.push([scope, value]);
    byOwner.set(owner, held);
  }
  const orphans = [...byOwner.keys()].filter((owner) => !store.get(owner));
  if (orphans.length > 0) {
    throw new Error(
      `the store holds reservations of ${orphans.length} owner(s) that are no object, e.g. ${orphans[0]}`,
    );
  }
  yield JSON.stringify({ format: EXPORT_FORMAT, version: 1 });
  for (const { type, uuid, fqName, parentUuid, body } of objects) {
    const line: ObjectLine = {
      object: { type, uuid, fqName, ...(parentUuid ? { parentUuid } : {}), body } as ObjectLine['object'],
      reservations: (byOwner.get(uuid) ?? []).sort(),
    };
    yield JSON.stringify(line);
  }
}

export class ImportError extends Error {
  override readonly name = 'ImportError';
}

/** Loads an exported data set into an empty store; returns how many objects it wrote. */
export async function importDataSet(
  store: ConfigStore,
  lines: AsyncIterable<string> | Iterable<string>,
): Promise<number> {
  const held = [...store.countsByType().values()].reduce((sum, count) => sum + count, 0);
  if (held > 0) throw new ImportError(`the target store already holds ${held} object(s): import into an empty store`);
  let number = 0;
  let objects = 0;
  for await (const text of lines) {
    number += 1;
    if (text.trim() === '') continue;
    let line: Partial<ObjectLine> & { format?: string; version?: number };
    try {
      line = JSON.parse(text);
    } catch (error) {
      throw new ImportError(`line ${number}: not JSON (${(error as Error).message})`);
    }
    if (number === 1) {
      if (line.format !== EXPORT_FORMAT || line.version !== 1) {
        throw new ImportError(`line 1: not a ${EXPORT_FORMAT} version 1 header`);
      }
      continue;
    }
    const object = line.object;
    if (
      !object ||
      typeof object.uuid !== 'string' ||
      typeof object.type !== 'string' ||
      !Array.isArray(object.fqName)
    ) {
      throw new ImportError(`line ${number}: expected {"object": {type, uuid, fqName, body}, "reservations": [...]}`);
    }
    await store.write((tx) => {
      if (tx.get(object.uuid)) throw new ImportError(`line ${number}: uuid ${object.uuid} appears twice`);
      tx.create({ ...object, parentUuid: object.parentUuid });
      for (const [scope, value] of line.reservations ?? []) {
        if (!tx.reserve(scope, value, object.uuid)) {
          throw new ImportError(`line ${number}: ${scope} ${value} is reserved twice`);
        }
      }
    });
    objects += 1;
  }
  if (number === 0) throw new ImportError('the input is empty');
  return objects;
}
