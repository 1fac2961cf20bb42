// Tags and tag types as Tungsten Fabric names and numbers them. A tag is named "type=value"
// (global, or under a project); its tag type is found by name, or created (in a write of its
// own, just before) with the first tag of that type. Tag types have 16-bit ids (the first few predefined), and a tag id is its type's id
// followed by a 16-bit value id: 0xTTTTVVVV. Firewall rules match tags by type: their
// match_tag_types are the ids of the types named in match_tags.
import { errors, invalid } from '../errors.js';
import type { StoredObject, WriteTx } from '../store/store.js';
import type { HookContext, TypeHooks } from './hooks.js';

type Body = Record<string, unknown>;

/** Tungsten Fabric's predefined tag types and their ids (sandesh TagTypeNameToId). */
const PREDEFINED_TAG_TYPES: Record<string, number> = {
  label: 0,
  application: 1,
  tier: 2,
  deployment: 3,
  site: 4,
  neutron_fwaas: 5,
};

/** Ids below this are left for predefined types; users' types get the next free one. */
const FIRST_USER_TAG_TYPE_ID = 0x100;
const MAX_TAG_TYPE_ID = 0x7fff;
const MAX_TAG_VALUE_ID = 0xffff;

const hex4 = (value: number) => value.toString(16).padStart(4, '0');

/** Fields that name a tag or a tag type: given once, at create. */
function refuseChanges(previous: Body, patch: Body, fields: string[]): void {
  for (const field of fields) {
    if (field in patch && JSON.stringify(patch[field]) !== JSON.stringify(previous[field])) {
      throw invalid(field, 'cannot be changed once set; delete the object and create it again');
    }
  }
}

function tagTypeIdOf(tagType: StoredObject): number {
  return Number.parseInt(tagType.body.tag_type_id as string, 16);
}

/** The tag type of that name (the service created it before the first tag of its kind). */
function locateTagType(context: HookContext, name: string): StoredObject {
  const uuid = context.tx.uuidOf('tag-type', [name]);
  if (!uuid) throw errors.REF_NOT_FOUND({ field: 'tag_type_name', type: 'tag-type', target: name });
  return context.tx.get(uuid)!;
}

const tagType: TypeHooks = {
  prepare(_context, input) {
    const name = (input.fq_name as string[] | undefined)?.at(-1) ?? (input.name as string | undefined);
    return name === undefined ? input : { ...input, display_name: name };
  },
  create({ tx, allocator, uuid }, body) {
    const name = body.name as string;
    const predefined = PREDEFINED_TAG_TYPES[name];
    let id: number;
    if (predefined !== undefined) {
      id = predefined;
      tx.reserve('tag-type-id', String(id), uuid);
    } else {
      id = allocator.allocateNumber(tx, 'tag-type-id', uuid, FIRST_USER_TAG_TYPE_ID, MAX_TAG_TYPE_ID);
    }
    body.tag_type_id = `0x${hex4(id)}`;
  },
  update(_context, body, previous, patch) {
    refuseChanges(previous, patch, ['display_name']);
    body.display_name = previous.display_name;
  },
};

const tag: TypeHooks = {
  implies(input) {
    const typeName = input.tag_type_name;
    if (typeof typeName !== 'string') return [];
    const name = typeName.toLowerCase();
    return [{ type: 'tag-type', fqName: [name], input: { fq_name: [name], id_perms: { user_visible: false } } }];
  },
  prepare(_context, input) {
    const typeName = input.tag_type_name as string | undefined;
    const value = input.tag_value as string | undefined;
    if (typeName === undefined) throw invalid('tag_type_name', 'is required: a tag has a type and a value');
    if (value === undefined) throw invalid('tag_value', 'is required: a tag has a type and a value');
    if (input.tag_type_refs !== undefined) throw invalid('tag_type_refs', 'is set by the server from tag_type_name');
    const lower = typeName.toLowerCase();
    const name = `${lower}=${value}`;
    const fqName = input.fq_name as string[] | undefined;
    return {
      ...input,
      tag_type_name: lower,
      name,
      display_name: name,
      ...(fqName ? { fq_name: [...fqName.slice(0, -1), name] } : {}),
    };
  },
  create(context, body) {
    const typeName = body.tag_type_name as string;
    const type = locateTagType(context, typeName);
    body.tag_type_refs = [{ to: type.fqName, uuid: type.uuid }];
    const value = context.allocator.allocateNumber(
      context.tx,
      `tag-value-id:${typeName}`,
      context.uuid,
      1,
      MAX_TAG_VALUE_ID,
    );
    body.tag_id = `0x${hex4(tagTypeIdOf(type))}${hex4(value)}`;
  },
  update(_context, body, previous, patch) {
    refuseChanges(previous, patch, ['tag_type_name', 'tag_value', 'display_name', 'tag_type_refs']);
    for (const field of ['tag_type_name', 'tag_value', 'display_name', 'tag_type_refs', 'tag_id']) {
      body[field] = previous[field];
    }
  },
};

/** match_tag_types: the ids of the tag types match_tags names. */
function matchTagTypes(tx: WriteTx, body: Body): void {
  const names = (body.match_tags as { tag_list?: string[] } | undefined)?.tag_list;
  if (names === undefined) {
    delete body.match_tag_types;
    return;
  }
  body.match_tag_types = {
    tag_type: names.map((name, index) => {
      const lower = name.toLowerCase();
      const predefined = PREDEFINED_TAG_TYPES[lower];
      if (predefined !== undefined) return predefined;
      const uuid = tx.uuidOf('tag-type', [lower]);
      if (!uuid) throw errors.REF_NOT_FOUND({ field: `match_tags.tag_list[${index}]`, type: 'tag-type', target: name });
      return tagTypeIdOf(tx.get(uuid)!);
    }),
  };
}

const firewallRule: TypeHooks = {
  create({ tx }, body) {
    matchTagTypes(tx, body);
  },
  update({ tx }, body) {
    matchTagTypes(tx, body);
  },
};

export const tagHooks: Record<string, TypeHooks> = {
  'tag-type': tagType,
  tag,
  'firewall-rule': firewallRule,
};
