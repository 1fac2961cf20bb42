// Tungsten Fabric's habits in what it writes, made plain before a body is validated. Its
// client serializes every attribute of a property object, set or not, so unset ones arrive as
// null ("uuid": null, "id_perms": {"creator": null, …}); an object read and written back carries
// what a read adds (href, parent_href, back-references, children, id_perms.uuid). TF's server
// takes null for "absent" and ignores those; so does this. A top-level property sent as null in
// an update removes it (TF deletes the property); that is the one null that means something.
import type { ResourceType } from '@weft/model';

type Body = Record<string, unknown>;

export interface WriteInput {
  /** The body without nulls and without what reads add. */
  body: Body;
  /** Top-level fields sent as null: an update removes them. */
  cleared: string[];
}

/**
 * Deeper than any property of the model: below it a body is left as it is, for its schema to
 * refuse, and a hostile nesting cannot exhaust the stack here.
 */
const MAX_DEPTH = 32;

/** Nulls inside objects, at any depth a property has, are absent values. */
export function withoutNulls(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => withoutNulls(item, depth + 1));
  const out: Body = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== null) out[key] = withoutNulls(item, depth + 1);
  }
  return out;
}

export function fromTfWrite(type: ResourceType, input: Body): WriteInput {
  const body: Body = {};
  const cleared: string[] = [];
  for (const [field, value] of Object.entries(input)) {
    if (type.derivedFields.has(field)) continue;
    if (value === null) {
      cleared.push(field);
      continue;
    }
    body[field] = withoutNulls(value);
  }
  const idPerms = body.id_perms;
  if (typeof idPerms === 'object' && idPerms !== null && !Array.isArray(idPerms) && 'uuid' in idPerms) {
    // TF renders the object's uuid here as two 64-bit halves, past what JSON numbers keep exactly.
    const { uuid: _, ...rest } = idPerms as Body;
    body.id_perms = rest;
  }
  return { body, cleared };
}
