// The etcd store's key layout, in one place. Every key lives under the store's prefix (default
// /weft/config/); below it, the first segment says what the key holds:
//
//   o/<uuid>                    the object: {type, fqName, parentUuid, body}
//   n/<type>/<fq_name as JSON>  the fq_name index: the uuid (its existence makes the name unique)
//   c/<parent uuid>/<uuid>      a child of a parent: the child's type
//   r/<from uuid>/<to uuid>     a reference: {attr}
//   b/<to uuid>/<from uuid>     its back-reference: {attr}
//   a/<scope>/<value>           a reservation (address, MAC, VNI, id): its owner's uuid
//   l/<write id>                a change-log entry; its create revision is the change's revision:
//                               one JSON line {attempt, operation, type, uuid, fqName,
//                               committedAtMs}, a newline, then the object's JSON as it is
//                               (kept as text: Watch and NATS send it on without parsing it)
//   h                           the head: rewritten by every change, so its mod revision is the
//                               revision of the last change (what a read barrier waits for)
//   t                           the highest revision that trimming removed from the log
//   v                           the store schema version (schema.ts); absent in release 0.1.0's
//                               stores, which are version 1
//
// Scopes and values are URI-encoded so that a "/" in them cannot move a key to another range.
export const OBJECT = 'o/';
export const NAME = 'n/';
export const CHILD = 'c/';
export const REF = 'r/';
export const BACK_REF = 'b/';
export const RESERVATION = 'a/';
export const LOG = 'l/';
export const HEAD = 'h';
export const TRIMMED = 't';
export const SCHEMA_VERSION = 'v';

export const objectKey = (uuid: string) => `${OBJECT}${uuid}`;
export const nameKey = (type: string, fqName: string[]) => `${NAME}${type}/${JSON.stringify(fqName)}`;
export const childPrefix = (parentUuid: string) => `${CHILD}${parentUuid}/`;
export const childKey = (parentUuid: string, uuid: string) => `${childPrefix(parentUuid)}${uuid}`;
export const refPrefix = (fromUuid: string) => `${REF}${fromUuid}/`;
export const refKey = (fromUuid: string, toUuid: string) => `${refPrefix(fromUuid)}${toUuid}`;
export const backRefPrefix = (toUuid: string) => `${BACK_REF}${toUuid}/`;
export const backRefKey = (toUuid: string, fromUuid: string) => `${backRefPrefix(toUuid)}${fromUuid}`;
export const scopePrefix = (scope: string) => `${RESERVATION}${encodeURIComponent(scope)}/`;
export const reservationKey = (scope: string, value: string) => `${scopePrefix(scope)}${encodeURIComponent(value)}`;
export const logKey = (writeId: string) => `${LOG}${writeId}`;

/** The two parts after a kind's prefix: "c/<a>/<b>" → [a, b]. */
export function splitPair(key: string, kind: string): [string, string] {
  const rest = key.slice(kind.length);
  const slash = rest.indexOf('/');
  return [rest.slice(0, slash), rest.slice(slash + 1)];
}

/** A reservation key's scope and value. */
export function reservationOf(key: string): { scope: string; value: string } {
  const [scope, value] = splitPair(key, RESERVATION);
  return { scope: decodeURIComponent(scope), value: decodeURIComponent(value) };
}

/** The end of the key range that holds every key starting with `prefix` (etcd's range_end). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** A log entry's value: its fields as one JSON line, then the object's JSON text. */
export function encodeLogValue(entry: { objectJson: string } & Record<string, unknown>): string {
  const { objectJson, ...fields } = entry;
  return `${JSON.stringify(fields)}\n${objectJson}`;
}

export function decodeLogValue(text: string): Record<string, unknown> & { objectJson: string } {
  const newline = text.indexOf('\n');
  return { ...JSON.parse(text.slice(0, newline)), objectJson: text.slice(newline + 1) };
}
