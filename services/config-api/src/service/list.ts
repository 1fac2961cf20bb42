// GET /<type>s and POST /list-bulk-collection: the objects of one type narrowed by parent,
// back-reference, uuid, fq_name and field filters, as entries, whole objects or a count, in pages
// in uuid order. Narrowing the store can do is done there; the rest (several values for one
// filter field, TF's `shared`) is done here on the store's answer before paging.

import type { ResourceType } from '@weft/model';
import { errors, invalid } from '../errors.js';
import type { ConfigStore, ListQuery, StoredObject } from '../store/store.js';
import { relatedOf, renderObject } from './render.js';

type Body = Record<string, unknown>;

export interface ListParams {
  type: string;
  parentUuids?: string[];
  parentFqName?: string[];
  parentType?: string;
  backRefUuids?: string[];
  uuids?: string[];
  fqNames?: string[][];
  fields?: string[];
  detail?: boolean;
  count?: boolean;
  /** field==value; several values of one field match any of them. */
  filters?: { field: string; value: string }[];
  /** Also the objects shared with others (perms2 global_access or share), whatever their parent. */
  shared?: boolean;
  excludeHrefs?: boolean;
  pageMarker?: string;
  pageLimit?: number;
  /** Only what the caller may read (lists, counts, back-references and children alike). */
  visible?: (object: StoredObject) => boolean;
  visibleUuid?: (uuid: string) => boolean;
}

export interface ListResult {
  objects: StoredObject[];
  rendered: Body[];
  count?: number;
  /** uuid to continue after, when there is a next page. */
  nextMarker?: string;
  revision: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A filter value as the VNC API writes it: JSON when it parses as a number or boolean, text otherwise. */
function filterValue(raw: string): string | number | boolean {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) return raw.slice(1, -1);
  return raw;
}

/** TF's page markers are a uuid, "fq:name:uuid", or "None" for the first page. */
function markerOf(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '' || raw.toLowerCase() === 'none') return undefined;
  const uuid = raw.slice(raw.lastIndexOf(':') + 1).toLowerCase();
  if (!UUID.test(uuid)) throw invalid('page_marker', `${JSON.stringify(raw)} is not the marker of a page`);
  return uuid;
}

const isShared = (object: StoredObject) => {
  const perms = object.body.perms2 as { global_access?: number; share?: unknown[] } | undefined;
  return (perms?.global_access ?? 0) !== 0 || (perms?.share?.length ?? 0) > 0;
};

export function listObjects(store: ConfigStore, type: ResourceType, params: ListParams, base: string): ListResult {
  const revision = store.revision();
  const query: ListQuery = { type: type.type };
  if (params.parentUuids) query.parentUuids = params.parentUuids.map((uuid) => uuid.toLowerCase());
  if (params.parentFqName) {
    const parentTypes = params.parentType ? [params.parentType] : type.parentTypes;
    const found = parentTypes.map((parentType) => store.uuidOf(parentType, params.parentFqName!)).filter(Boolean);
    if (found.length === 0) {
      throw errors.NOT_FOUND({ type: parentTypes.join(' or ') || 'parent', fq_name: params.parentFqName });
    }
    query.parentUuids = [...(query.parentUuids ?? []), ...(found as string[])];
  }
  if (params.backRefUuids) query.backRefUuids = params.backRefUuids.map((uuid) => uuid.toLowerCase());
  if (params.uuids) query.uuids = params.uuids.map((uuid) => uuid.toLowerCase());
  if (params.fqNames) {
    const named = params.fqNames.map((fqName) => store.uuidOf(type.type, fqName)).filter(Boolean) as string[];
    query.uuids = query.uuids ? query.uuids.filter((uuid) => named.includes(uuid)) : named;
  }
  const byField = new Map<string, (string | number | boolean)[]>();
  for (const { field, value } of params.filters ?? []) {
    if (!type.bodyFields.has(field)) throw invalid('filters', `${field} is not a field of ${type.type}`);
    byField.set(field, [...(byField.get(field) ?? []), filterValue(value)]);
  }
  const anyOf = [...byField].filter(([, values]) => values.length > 1);
  query.filters = [...byField]
    .filter(([, values]) => values.length === 1)
    .map(([field, [value]]) => ({ field, value: value! }));
  const widened = params.shared === true && query.parentUuids !== undefined;
  const after = markerOf(params.pageMarker);

  let objects: StoredObject[];
  let count: number | undefined;
  let nextMarker: string | undefined;
  if (anyOf.length === 0 && !widened && !params.visible) {
    if (params.count) return { objects: [], rendered: [], count: store.count(query), revision };
    objects = store.list({
      ...query,
      ...(after ? { after } : {}),
      ...(params.pageLimit !== undefined ? { limit: params.pageLimit + 1 } : {}),
    });
  } else {
    let all = store.list(query);
    if (widened) {
      const seen = new Set(all.map((object) => object.uuid));
      const shared = store.list({ ...query, parentUuids: undefined }).filter((o) => isShared(o) && !seen.has(o.uuid));
      all = [...all, ...shared].sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
    }
    all = all.filter(
      (object) =>
        anyOf.every(([field, values]) => values.some((value) => matches(object.body[field], value))) &&
        (params.visible?.(object) ?? true),
    );
    if (params.count) return { objects: [], rendered: [], count: all.length, revision };
    objects = after ? all.filter((object) => object.uuid > after) : all;
    if (params.pageLimit !== undefined) objects = objects.slice(0, params.pageLimit + 1);
  }
  if (params.pageLimit !== undefined && objects.length > params.pageLimit) {
    objects.length = params.pageLimit;
    nextMarker = objects[objects.length - 1]?.uuid;
  }
  const hrefs = !params.excludeHrefs;
  const wantsRelated =
    params.detail || params.fields?.some((field) => type.derivedFields.has(field) || !type.bodyFields.has(field));
  const related = wantsRelated
    ? relatedOf(
        store,
        objects.map((object) => object.uuid),
        base,
        {},
        { hrefs, ...(params.visibleUuid ? { visible: params.visibleUuid } : {}) },
      )
    : undefined;
  const rendered = objects.map((object) => {
    const full = renderObject(object, base, related, { hrefs });
    if (params.detail) return full;
    const entry: Body = hrefs
      ? { href: full.href, fq_name: object.fqName, uuid: object.uuid }
      : { fq_name: object.fqName, uuid: object.uuid };
    for (const field of params.fields ?? []) if (full[field] !== undefined) entry[field] = full[field];
    return entry;
  });
  return { objects, rendered, count, nextMarker, revision };
}

/** A stored value equals a filter value: a boolean filter matches the boolean, a number the number. */
function matches(stored: unknown, value: string | number | boolean): boolean {
  if (typeof stored === 'object' && stored !== null) return JSON.stringify(stored) === String(value);
  return stored === value;
}
