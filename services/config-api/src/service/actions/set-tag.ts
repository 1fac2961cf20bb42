// POST /set-tag: attaches tags to an object, or takes them off, by tag type, as Tungsten
// Fabric's set_tag and set_tags do. A tag type is set once per object (a new value replaces the
// old) except "label", of which an object may carry several. Tags are found, not created: a
// global tag is named [type=value], a scoped one lives in the object's project.

import { UUID_PATTERN } from '@weft/model';
import { errors, invalid } from '../../errors.js';
import type { StoredObject, WriteTx } from '../../store/store.js';
import type { ConfigService } from '../config-service.js';

type Body = Record<string, unknown>;
type TagRef = { to: string[]; uuid: string };

/** Tag types an object may carry several values of (TF's TAG_TYPE_NOT_UNIQUE_PER_OBJECT). */
const MULTI_VALUE_TAG_TYPES = new Set(['label']);
/** The only tag types an address group may carry (TF's TAG_TYPE_AUTHORIZED_ON_ADDRESS_GROUP). */
const ADDRESS_GROUP_TAG_TYPES = new Set(['label']);

interface TagRequest {
  is_global?: boolean;
  value?: unknown;
  add_values?: unknown[];
  delete_values?: unknown[];
}

const typeOfTag = (ref: TagRef) => ref.to.at(-1)!.split('=')[0]!;
const valueOfTag = (ref: TagRef) => ref.to.at(-1)!.slice(typeOfTag(ref).length + 1);

/** The fq_name of the tag `type=value` an object can carry: global, or in the object's project. */
function tagFqName(tx: WriteTx, object: StoredObject, name: string, global: boolean): string[] {
  if (global) return [name];
  if (object.type === 'project') return [...object.fqName, name];
  if (object.body.parent_type === 'project') return [...object.fqName.slice(0, -1), name];
  const owner = (object.body.perms2 as { owner?: string } | undefined)?.owner ?? '';
  const ownerUuid = owner.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
  const project = new RegExp(UUID_PATTERN).test(ownerUuid) ? tx.get(ownerUuid.toLowerCase()) : undefined;
  if (project?.type === 'project') return [...project.fqName, name];
  throw invalid(name, `cannot tell which project scopes tags of ${object.type} ${object.uuid}; use is_global`);
}

function locateTag(tx: WriteTx, object: StoredObject, type: string, value: string, global: boolean): TagRef {
  const fqName = tagFqName(tx, object, `${type}=${value}`, global);
  const uuid = tx.uuidOf('tag', fqName);
  if (!uuid) throw errors.NOT_FOUND({ type: 'tag', fq_name: fqName });
  return { to: fqName, uuid };
}

export function setTag(service: ConfigService, request: Body): Promise<Body> {
  const { obj_type: objType, obj_uuid: objUuid, ...byType } = request;
  if (typeof objType !== 'string') throw invalid('obj_type', 'is required: the type of the object to tag');
  if (typeof objUuid !== 'string') throw invalid('obj_uuid', 'is required: the uuid of the object to tag');
  const type = service.typeOf(objType.replace(/_/g, '-'));
  return service.transact((tx) => {
    const object = tx.get(objUuid.toLowerCase());
    if (!object || object.type !== type.type) throw errors.NOT_FOUND({ type: type.type, uuid: objUuid });
    let refs = [...((object.body.tag_refs as TagRef[] | undefined) ?? [])];
    const before = JSON.stringify(refs);
    for (const [rawType, attrs] of Object.entries(byType)) {
      const tagType = rawType.toLowerCase();
      if (attrs === null) {
        refs = refs.filter((ref) => typeOfTag(ref) !== tagType);
        continue;
      }
      if (typeof attrs !== 'object' || Array.isArray(attrs)) throw invalid(rawType, 'must be an object or null');
      const {
        is_global: global = false,
        value,
        add_values: add = [],
        delete_values: remove = [],
      } = attrs as TagRequest;
      if (type.type === 'address-group' && !ADDRESS_GROUP_TAG_TYPES.has(tagType)) {
        throw invalid(rawType, `an address-group can only carry ${[...ADDRESS_GROUP_TAG_TYPES].join(', ')} tags`);
      }
      const current = refs.filter((ref) => typeOfTag(ref) === tagType);
      if (!MULTI_VALUE_TAG_TYPES.has(tagType)) {
        if (add.length > 0 || remove.length > 0) {
          throw invalid(
            rawType,
            `a ${tagType} tag is set once per object: give value, not add_values or delete_values`,
          );
        }
        if (typeof value !== 'string') throw invalid(`${rawType}.value`, 'is required: the value of the tag');
        if (current.some((ref) => valueOfTag(ref) === value)) continue;
        refs = [...refs.filter((ref) => typeOfTag(ref) !== tagType), locateTag(tx, object, tagType, value, global)];
        continue;
      }
      const adding = new Set([...add, ...(value === undefined || value === null ? [] : [value])].map(String));
      for (const wanted of adding) {
        if (!current.some((ref) => valueOfTag(ref) === wanted))
          refs.push(locateTag(tx, object, tagType, wanted, global));
      }
      const removing = new Set(remove.map(String));
      refs = refs.filter((ref) => typeOfTag(ref) !== tagType || !removing.has(valueOfTag(ref)));
    }
    if (JSON.stringify(refs) !== before) {
      service.updateInTx(tx, type.type, object.uuid, { tag_refs: refs.map(({ uuid }) => ({ uuid })) });
    }
    return {};
  });
}
