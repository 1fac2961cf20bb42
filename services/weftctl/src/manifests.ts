// Files of objects for create, apply and delete: YAML (several documents, `---` between them)
// or JSON, each document one object as the API takes and gives it — `{"<type>": {...}}` — or a
// list of such. What `weftctl get -o yaml|json` prints reads back unchanged.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { ResourceType } from './api/config-api.js';
import { errors } from './errors.js';
import { resolveType } from './resources.js';

export interface Manifest {
  type: ResourceType;
  object: Record<string, unknown>;
  /** Where it came from, for messages: file#document. */
  origin: string;
}

function readSource(path: string): string {
  try {
    return path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (error) {
    throw errors.file(path, (error as Error).message, 'give a file that exists, or - for standard input');
  }
}

export function readManifests(paths: readonly string[], types: readonly ResourceType[]): Manifest[] {
  const manifests: Manifest[] = [];
  for (const path of paths) {
    const name = path === '-' ? 'stdin' : path;
    const documents = parseAllDocuments(readSource(path));
    for (const [index, document] of documents.entries()) {
      if (document.errors.length > 0) throw errors.file(`${name}#${index + 1}`, document.errors[0]!.message);
      const value = document.toJS() as unknown;
      if (value === null || value === undefined) continue;
      const items = Array.isArray(value) ? value : [value];
      for (const [itemIndex, item] of items.entries()) {
        const origin = Array.isArray(value) ? `${name}#${index + 1}[${itemIndex}]` : `${name}#${index + 1}`;
        if (typeof item !== 'object' || item === null || Array.isArray(item) || Object.keys(item).length !== 1) {
          throw errors.file(origin, 'expected one object: {"<type>": {...}}');
        }
        const [typeName, object] = Object.entries(item as Record<string, unknown>)[0]!;
        if (typeof object !== 'object' || object === null || Array.isArray(object)) {
          throw errors.file(origin, `"${typeName}" must hold the object's fields`);
        }
        let type: ResourceType;
        try {
          type = resolveType(types, typeName);
        } catch (error) {
          throw errors.file(origin, (error as Error).message, (error as { details?: { hint?: string } }).details?.hint);
        }
        manifests.push({ type, object: object as Record<string, unknown>, origin });
      }
    }
  }
  if (manifests.length === 0) throw errors.usage(`no object in ${paths.join(', ')}`);
  return manifests;
}

/** What a read adds and a write ignores: never compared, never sent. */
const READ_ONLY = new Set(['uuid', 'href', 'parent_href', 'parent_uuid', 'id_perms', 'perms2', 'name']);

export function isReadOnly(field: string, object: Record<string, unknown>): boolean {
  if (READ_ONLY.has(field) || field.endsWith('_back_refs')) return true;
  // Children: lists of {to, uuid, href} that a read adds under the child type's plural.
  const value = object[field];
  return (
    !field.endsWith('_refs') &&
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => typeof item === 'object' && item !== null && 'href' in item && 'to' in item)
  );
}

/** The fields a file sets that a write takes. */
export function writableFields(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([field]) => !isReadOnly(field, object)));
}

function sameRef(want: Record<string, unknown>, have: Record<string, unknown>): boolean {
  if (want.uuid !== undefined && want.uuid !== have.uuid) return false;
  if (want.to !== undefined && !contains(have.to, want.to)) return false;
  return want.attr === undefined || contains(have.attr, want.attr);
}

/**
 * Whether what a file says is already true of the object: every field it gives has that value
 * (what the server filled in beside it, a subnet's gateway say, does not count as a change).
 */
export function contains(have: unknown, want: unknown, field = ''): boolean {
  if (want === null) return have === null || have === undefined;
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return false;
    if (field.endsWith('_refs')) {
      return want.every((ref) => have.some((existing) => sameRef(ref as Record<string, unknown>, existing)));
    }
    return want.every((item, index) => contains(have[index], item));
  }
  if (typeof want === 'object') {
    if (typeof have !== 'object' || have === null || Array.isArray(have)) return false;
    return Object.entries(want).every(([key, value]) => contains((have as Record<string, unknown>)[key], value, key));
  }
  return have === want;
}

/** The fields of `want` whose value the object does not have yet. */
export function changedFields(have: Record<string, unknown>, want: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(writableFields(want)).filter(([field, value]) => !contains(have[field], value, field)),
  );
}
