// How stored objects read back in the VNC API's form: href on the object and on each reference,
// back-references (<type>_back_refs) and children (<type>s) derived from the store, in bulk for
// a whole page so that a list costs two extra queries, not two per object.
import { fieldOf } from '@weft/model';
import type { ReadView, StoredObject } from '../store/store.js';

export const hrefOf = (base: string, type: string, uuid: string) => `${base}/${type}/${uuid}`;

export interface Related {
  backRefs: Map<string, Record<string, unknown[]>>;
  children: Map<string, Record<string, unknown[]>>;
}

export interface RenderOptions {
  /** false: no href anywhere (the VNC API's exclude_hrefs). */
  hrefs?: boolean;
  /** Only back-references and children that the caller may read (another tenant's are left out). */
  visible?: (uuid: string) => boolean;
}

/** Back-references and children of many objects at once, grouped by object and field. */
export function relatedOf(
  view: ReadView,
  uuids: string[],
  base: string,
  { withBackRefs = true, withChildren = true } = {},
  { hrefs = true, visible }: RenderOptions = {},
): Related {
  const backRefs = new Map<string, Record<string, unknown[]>>();
  for (const ref of withBackRefs ? view.backRefs(uuids) : []) {
    if (visible && !visible(ref.from.uuid)) continue;
    let fields = backRefs.get(ref.toUuid);
    if (!fields) {
      fields = {};
      backRefs.set(ref.toUuid, fields);
    }
    const field = `${fieldOf(ref.from.type)}_back_refs`;
    const link: Record<string, unknown> = { to: ref.from.fqName, uuid: ref.from.uuid };
    if (hrefs) link.href = hrefOf(base, ref.from.type, ref.from.uuid);
    if (ref.attr !== undefined) link.attr = ref.attr;
    fields[field] ??= [];
    fields[field].push(link);
  }
  const children = new Map<string, Record<string, unknown[]>>();
  for (const child of withChildren ? view.children(uuids) : []) {
    if (visible && !visible(child.uuid)) continue;
    let fields = children.get(child.parentUuid);
    if (!fields) {
      fields = {};
      children.set(child.parentUuid, fields);
    }
    const link: Record<string, unknown> = { to: child.fqName, uuid: child.uuid };
    if (hrefs) link.href = hrefOf(base, child.type, child.uuid);
    const field = `${fieldOf(child.type)}s`;
    fields[field] ??= [];
    fields[field].push(link);
  }
  return { backRefs, children };
}

/** The object as GET /<type>/<uuid> returns it (without the {"<type>": …} envelope). */
export function renderObject(
  object: StoredObject,
  base: string,
  related?: Related,
  { hrefs = true }: RenderOptions = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...object.body };
  if (hrefs) {
    out.href = hrefOf(base, object.type, object.uuid);
    for (const [field, value] of Object.entries(object.body)) {
      if (!field.endsWith('_refs') || !Array.isArray(value)) continue;
      const targetType = field.slice(0, -'_refs'.length).replace(/_/g, '-');
      out[field] = value.map((ref: { uuid: string }) => ({ ...ref, href: hrefOf(base, targetType, ref.uuid) }));
    }
    if (object.body.parent_type && object.parentUuid) {
      out.parent_href = hrefOf(base, object.body.parent_type as string, object.parentUuid);
    }
  }
  if (related) {
    Object.assign(out, related.backRefs.get(object.uuid), related.children.get(object.uuid));
  }
  return out;
}
