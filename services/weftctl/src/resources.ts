// What a user types for a resource type and an object, resolved against what config-api serves.
// Types: the VNC name (virtual-network), its plural, with underscores, or its short name (the
// initials, `vn`, derived from the types config-api lists, and only where they are unique).
// Objects: a uuid, a full fq_name (a:b:c), or a short name, first in the current project.
import type { ConfigApi, ResourceType, VncObject } from './api/config-api.js';
import { errors } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text);
}

/** virtual-machine-interface → vmi; only short names that one type alone has. */
export function shortNames(types: readonly ResourceType[]): Map<string, string> {
  const initials = (name: string) =>
    name
      .split('-')
      .map((part) => part[0]?.toLowerCase() ?? '')
      .join('');
  const count = new Map<string, number>();
  for (const type of types) count.set(initials(type.name), (count.get(initials(type.name)) ?? 0) + 1);
  const names = new Set(types.map((type) => type.name));
  const short = new Map<string, string>();
  for (const type of types) {
    const abbreviation = initials(type.name);
    if (abbreviation.length > 1 && count.get(abbreviation) === 1 && !names.has(abbreviation))
      short.set(type.name, abbreviation);
  }
  return short;
}

export function resolveType(types: readonly ResourceType[], typed: string): ResourceType {
  const wanted = typed.toLowerCase().replace(/_/g, '-');
  const short = shortNames(types);
  for (const type of types) {
    const plural = type.collection.replace(/^\//, '');
    if (
      type.name.toLowerCase() === wanted ||
      plural.toLowerCase() === wanted ||
      // English plurals too: network-policies for TF's network-policys.
      `${type.name.toLowerCase().replace(/y$/, 'ie')}s` === wanted ||
      short.get(type.name) === wanted
    )
      return type;
  }
  throw errors.noSuchType(
    typed,
    types.map((type) => type.name),
  );
}

export interface Named {
  uuid: string;
  fq_name: string[];
}

/** The object a name means: uuid, fq_name, or a short name (in the project first, else unique). */
export async function resolveName(api: ConfigApi, type: ResourceType, name: string, project: string): Promise<Named> {
  if (isUuid(name)) {
    const found = await api.nameOf(name);
    if (!found || found.type !== type.name) throw errors.notFound(`${type.name} ${name}`);
    return { uuid: name, fq_name: found.fq_name };
  }
  const candidates = name.includes(':') ? [name.split(':')] : [[...project.split(':'), name]];
  for (const fqName of candidates) {
    const uuid = await api.uuidOf(type, fqName);
    if (uuid) return { uuid, fq_name: fqName };
  }
  if (name.includes(':')) throw errors.notFound(`${type.name} ${name}`, `\`weftctl get ${type.name}\` lists them`);
  // Not in the project: any object of the type whose last name is this (parentless types such
  // as virtual-machine, or the virtual-routers of global-system-config).
  const matches = (await api.list(type, { detail: false })).filter(
    (item: VncObject) => item.fq_name[item.fq_name.length - 1] === name,
  );
  if (matches.length === 1) return { uuid: matches[0]!.uuid, fq_name: matches[0]!.fq_name };
  if (matches.length > 1)
    throw errors.ambiguous(
      name,
      matches.map((item) => item.fq_name.join(':')),
    );
  throw errors.notFound(`${type.name} ${name}`, `\`weftctl get ${type.name}\` lists them`);
}
