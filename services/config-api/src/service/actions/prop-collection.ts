// GET /prop-collection-get and POST /prop-collection-update: the elements of a ListProperty or
// MapProperty (annotations, interface bindings, address group prefixes…) read and changed one
// at a time, as Tungsten Fabric's client does for prop_list_* and prop_map_* calls. A list's
// positions are indexes; a map's are the values of its key field.

import { type CollectionField, describeSchemaError, type ResourceType } from '@weft/model';
import { errors, invalid } from '../../errors.js';
import type { StoredObject } from '../../store/store.js';
import type { ConfigService } from '../config-service.js';

type Body = Record<string, unknown>;

export interface CollectionUpdate {
  field: string;
  operation: string;
  value?: unknown;
  position?: string | number;
}

function collectionOf(type: ResourceType, field: string, at: string): CollectionField {
  const collection = type.collectionFields.get(field);
  if (!collection) throw invalid(at, `${field} is neither a list nor a map property of ${type.type}`);
  return collection;
}

function elementsOf(object: StoredObject, field: string, collection: CollectionField): unknown[] {
  return ((object.body[field] as Body | undefined)?.[collection.wrapper] as unknown[] | undefined) ?? [];
}

function indexOf(position: string | number | undefined, length: number, at: string, adding = false): number {
  const index = typeof position === 'number' ? position : Number(position);
  if (position === undefined || position === '' || !Number.isInteger(index) || index < 0) {
    throw invalid(at, 'a list position is an index from 0');
  }
  if (index > length || (!adding && index === length)) throw invalid(at, `the list has ${length} elements`);
  return index;
}

/** { field: [[element, position], …] } for each field, only the one at `position` when given. */
export function propCollectionGet(
  service: ConfigService,
  uuid: string,
  fields: string[],
  position?: string,
): Record<string, [unknown, string | number][]> {
  const object = service.store.get(uuid.toLowerCase());
  if (!object) throw errors.NOT_FOUND({ type: 'object', uuid });
  const type = service.typeOf(object.type);
  const result: Record<string, [unknown, string | number][]> = {};
  for (const field of fields) {
    const collection = collectionOf(type, field, 'fields');
    const elements = elementsOf(object, field, collection).map((element, index): [unknown, string | number] => [
      element,
      collection.kind === 'map' ? String((element as Body)[collection.key!]) : index,
    ]);
    result[field] = position === undefined ? elements : elements.filter(([, at]) => String(at) === String(position));
  }
  return result;
}

export function propCollectionUpdate(service: ConfigService, uuid: string, updates: CollectionUpdate[]): Promise<Body> {
  return service.transact((tx) => {
    const object = tx.get(uuid.toLowerCase());
    if (!object) throw errors.NOT_FOUND({ type: 'object', uuid });
    const type = service.typeOf(object.type);
    const changed = new Map<string, unknown[]>();
    updates.forEach((update, index) => {
      const at = `updates[${index}]`;
      const collection = collectionOf(type, update.field, `${at}.field`);
      const elements = changed.get(update.field) ?? [...elementsOf(object, update.field, collection)];
      const operation = update.operation.toLowerCase();
      const needsValue = operation === 'add' || operation === 'modify' || operation === 'set';
      if (needsValue) {
        if (update.value === undefined) throw invalid(`${at}.value`, `is required for ${operation}`);
        if (!collection.validateElement(update.value)) {
          const { field, reason } = describeSchemaError(collection.validateElement.errors![0]!, `${at}.value`);
          throw invalid(field, reason);
        }
      }
      if (collection.kind === 'list') {
        if (operation === 'add') {
          const position =
            update.position === undefined
              ? elements.length
              : indexOf(update.position, elements.length, `${at}.position`, true);
          elements.splice(position, 0, update.value);
        } else if (operation === 'modify') {
          elements[indexOf(update.position, elements.length, `${at}.position`)] = update.value;
        } else if (operation === 'delete') {
          elements.splice(indexOf(update.position, elements.length, `${at}.position`), 1);
        } else {
          throw invalid(`${at}.operation`, `a list property takes add, modify or delete, not ${update.operation}`);
        }
      } else {
        const key = collection.key!;
        if (operation === 'set') {
          const value = update.value as Body;
          const existing = elements.findIndex((element) => (element as Body)[key] === value[key]);
          if (existing >= 0) elements[existing] = value;
          else elements.push(value);
        } else if (operation === 'delete') {
          if (update.position === undefined) throw invalid(`${at}.position`, 'names the key to delete');
          const kept = elements.filter((element) => (element as Body)[key] !== String(update.position));
          elements.length = 0;
          elements.push(...kept);
        } else {
          throw invalid(`${at}.operation`, `a map property takes set or delete, not ${update.operation}`);
        }
      }
      changed.set(update.field, elements);
    });
    if (changed.size > 0) {
      const patch: Body = {};
      for (const [field, elements] of changed) {
        patch[field] = {
          ...(object.body[field] as Body | undefined),
          [type.collectionFields.get(field)!.wrapper]: elements,
        };
      }
      service.updateInTx(tx, type.type, object.uuid, service.validate(type, patch));
    }
    return {};
  });
}
