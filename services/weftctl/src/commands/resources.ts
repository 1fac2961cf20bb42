// The resource verbs on config-api: get, describe, delete, and api-resources (the types and
// their short names). create and apply are in write.ts, edit in edit.ts, watch in watch.ts.
import type { ResourceType, VncObject } from '../api/config-api.js';
import { request } from '../http.js';
import { readManifests } from '../manifests.js';
import { formatObjects, toYaml } from '../output/objects.js';
import { age, renderTable } from '../output/table.js';
import { resolveName, resolveType, shortNames } from '../resources.js';
import type { Session } from '../session.js';

export async function typeOf(session: Session, typed: string): Promise<ResourceType> {
  return resolveType(await session.configApi.types(), typed);
}

export async function readNamed(session: Session, type: ResourceType, name: string): Promise<VncObject> {
  const named = await resolveName(session.configApi, type, name, session.project);
  return session.configApi.read(type, named.uuid);
}

export async function get(session: Session, typed: string, names: string[]): Promise<void> {
  const type = await typeOf(session, typed);
  const objects =
    names.length > 0
      ? await Promise.all(names.map((name) => readNamed(session, type, name)))
      : (await session.configApi.list(type)).sort((a, b) => a.fq_name.join(':').localeCompare(b.fq_name.join(':')));
  if (objects.length === 0 && (session.output === 'table' || session.output === 'wide')) {
    process.stderr.write(`No ${type.name} found.\n`);
    return;
  }
  process.stdout.write(
    formatObjects(type, objects, session.output, { single: names.length === 1, colour: session.terminal.colour }),
  );
}

export async function apiResources(session: Session): Promise<void> {
  const types = await session.configApi.types();
  const short = shortNames(types);
  const rows = types.map((type) => ({ type, short: short.get(type.name) ?? '' }));
  if (session.output === 'name') {
    session.print(rows.map((row) => row.type.name).join('\n'));
    return;
  }
  if (session.output === 'json' || session.output === 'yaml') {
    const value = rows.map((row) => ({ name: row.type.name, short: row.short, collection: row.type.collection }));
    session.print(session.output === 'json' ? JSON.stringify(value, null, 2) : toYaml(value));
    return;
  }
  process.stdout.write(
    renderTable(
      [
        { heading: 'NAME', value: (row: (typeof rows)[number]) => row.type.name },
        { heading: 'SHORT', value: (row) => row.short },
        { heading: 'COLLECTION', value: (row) => row.type.collection },
      ],
      rows,
    ),
  );
}

function referenceLines(object: VncObject, suffix: '_refs' | '_back_refs'): string[] {
  const lines: string[] = [];
  for (const [field, value] of Object.entries(object)) {
    if (!field.endsWith(suffix) || (suffix === '_refs' && field.endsWith('_back_refs')) || !Array.isArray(value))
      continue;
    const kind = field.slice(0, -suffix.length).replace(/_/g, '-');
    for (const ref of value as { to?: string[]; uuid?: string; attr?: unknown }[]) {
      const attr = ref.attr && Object.keys(ref.attr).length > 0 ? `  ${JSON.stringify(ref.attr)}` : '';
      lines.push(`  ${kind} ${(ref.to ?? []).join(':') || ref.uuid}${attr}`);
    }
  }
  return lines;
}

function childLines(object: VncObject): string[] {
  const lines: string[] = [];
  for (const [field, value] of Object.entries(object)) {
    if (field.endsWith('_refs') || !Array.isArray(value)) continue;
    if (!value.every((item) => typeof item === 'object' && item && 'href' in item && 'to' in item)) continue;
    for (const child of value as { to: string[] }[]) lines.push(`  ${field.replace(/s$/, '')} ${child.to.join(':')}`);
  }
  return lines;
}

/** Control's view of a virtual network: its routing instance, when control has compiled it. */
async function routingInstanceLines(session: Session, object: VncObject): Promise<string[]> {
  try {
    const answer = await request<{
      routing_instances: { name: string; vrf_id: number; vni: number; routes: number; hosts: string[] }[];
    }>(session.control, 'GET', '/routing-instances', { timeoutMs: 3000 });
    const prefix = `${object.fq_name.join(':')}:`;
    return answer.routing_instances
      .filter((instance) => instance.name.startsWith(prefix) && !instance.name.slice(prefix.length).includes(':'))
      .map(
        (instance) =>
          `  ${instance.name}  vrf ${instance.vrf_id}  vni ${instance.vni}  ${instance.routes} routes  hosts ${instance.hosts.join(',') || '-'}`,
      );
  } catch (error) {
    return [`  (control cannot be asked: ${(error as Error).message})`];
  }
}

const IDENTITY = new Set([
  'uuid',
  'fq_name',
  'name',
  'parent_type',
  'parent_uuid',
  'href',
  'parent_href',
  'id_perms',
  'perms2',
  'display_name',
]);

export async function describe(session: Session, typed: string, name: string): Promise<void> {
  const type = await typeOf(session, typed);
  const object = await readNamed(session, type, name);
  const fields = Object.fromEntries(
    Object.entries(object).filter(
      ([field]) =>
        !IDENTITY.has(field) && !field.endsWith('_refs') && !childLines({ [field]: object[field] } as VncObject).length,
    ),
  );
  const created = object.id_perms?.created;
  const parent = object.parent_type ? `${object.parent_type} ${object.fq_name.slice(0, -1).join(':')}` : '-';
  const out = [
    `Name:         ${object.fq_name.join(':')}`,
    `Type:         ${type.name}`,
    `UUID:         ${object.uuid}`,
    `Parent:       ${parent}`,
    `Display name: ${String(object.display_name ?? '-')}`,
    `Created:      ${created ? `${created} (${age(created)} ago)` : '-'}`,
    `Modified:     ${object.id_perms?.last_modified ?? '-'}`,
  ];
  if (Object.keys(fields).length > 0)
    out.push(
      'Fields:',
      ...toYaml(fields)
        .trimEnd()
        .split('\n')
        .map((line) => `  ${line}`),
    );
  const sections: [string, string[]][] = [
    ['Refers to:', referenceLines(object, '_refs')],
    ['Referred to by:', referenceLines(object, '_back_refs')],
    ['Children:', childLines(object)],
  ];
  if (type.name === 'virtual-network')
    sections.push(['Routing instance (control):', await routingInstanceLines(session, object)]);
  for (const [heading, lines] of sections) out.push(heading, ...(lines.length > 0 ? lines : ['  -']));
  session.print(out.join('\n'));
}

export async function remove(
  session: Session,
  typed: string | undefined,
  names: string[],
  files: string[],
  ignoreNotFound: boolean,
): Promise<void> {
  const targets: { type: ResourceType; name: string }[] = [];
  if (files.length > 0) {
    // Reverse file order: what was created last (and refers to what came before) goes first.
    for (const manifest of readManifests(files, await session.configApi.types()).reverse()) {
      const fqName = manifest.object.fq_name;
      const name = Array.isArray(fqName) ? fqName.join(':') : String(manifest.object.uuid ?? '');
      targets.push({ type: manifest.type, name });
    }
  } else if (typed) {
    const type = await typeOf(session, typed);
    for (const name of names) targets.push({ type, name });
  }
  // What is still referred to by a later target (or has its children among them) waits for them.
  let pending = targets;
  while (pending.length > 0) {
    const waiting: typeof targets = [];
    let lastError: unknown;
    for (const target of pending) {
      try {
        const named = await resolveName(session.configApi, target.type, target.name, session.project);
        await session.configApi.remove(target.type, named.uuid);
        session.print(`${target.type.name}/${named.fq_name.join(':')} deleted`);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (ignoreNotFound && code === 'NOT_FOUND') continue;
        if (code !== 'IN_USE' || pending.length === 1) throw error;
        waiting.push(target);
        lastError = error;
      }
    }
    if (waiting.length === pending.length) throw lastError;
    pending = waiting;
  }
}
