// create -f and apply -f: the objects of files sent to config-api in file order, with progress on
// a terminal. An object that refers to one created later in the same files (or whose parent is)
// is tried again after the others, so the order inside the files does not matter. apply is
// idempotent: an object that is already as the file says is left alone ("unchanged").
import type { ConfigApi } from '../api/config-api.js';
import { CliError, errors } from '../errors.js';
import { changedFields, type Manifest, readManifests, writableFields } from '../manifests.js';
import { Progress } from '../output/terminal.js';
import type { Session } from '../session.js';
import { reportError } from './report.js';

type Outcome = 'created' | 'configured' | 'unchanged';

/** Errors that another object of the same files may cure, once it exists. */
const WAITS_FOR_ANOTHER = new Set(['REF_NOT_FOUND', 'PARENT_NOT_FOUND']);

function label(manifest: Manifest, fqName?: unknown): string {
  const name = Array.isArray(fqName) ? fqName.join(':') : ((manifest.object.uuid as string | undefined) ?? '(new)');
  return `${manifest.type.name}/${name}`;
}

async function createOne(api: ConfigApi, manifest: Manifest): Promise<[Outcome, string]> {
  const created = await api.create(manifest.type, writableFields(manifest.object));
  return ['created', label(manifest, created.fq_name)];
}

async function applyOne(api: ConfigApi, manifest: Manifest): Promise<[Outcome, string]> {
  const { object, type } = manifest;
  const fqName = object.fq_name;
  let uuid: string | undefined;
  if (Array.isArray(fqName) && fqName.every((part) => typeof part === 'string')) {
    uuid = await api.uuidOf(type, fqName as string[]);
  } else if (typeof object.uuid === 'string') {
    uuid = (await api.nameOf(object.uuid)) ? object.uuid : undefined;
  } else {
    throw errors.file(
      manifest.origin,
      "apply needs the object's fq_name (or uuid) to find it",
      'add fq_name: [domain, project, name]',
    );
  }
  if (!uuid) {
    const created = await api.create(type, writableFields(object));
    return ['created', label(manifest, created.fq_name)];
  }
  const current = await api.read(type, uuid);
  const changed = changedFields(current, object);
  delete changed.fq_name;
  delete changed.parent_type;
  if (Object.keys(changed).length === 0) return ['unchanged', label(manifest, current.fq_name)];
  await api.update(type, uuid, changed);
  return ['configured', label(manifest, current.fq_name)];
}

/** Sends every object; prints one line each; returns the exit code of the first failure, or 0. */
export async function writeAll(session: Session, files: string[], mode: 'create' | 'apply'): Promise<number> {
  const api = session.configApi;
  const manifests = readManifests(files, await api.types());
  const progress = new Progress(session.terminal.progress && manifests.length > 1);
  let pending = manifests;
  let done = 0;
  let failure: CliError | undefined;
  const failures: [Manifest, CliError][] = [];
  while (pending.length > 0) {
    const deferred: [Manifest, CliError][] = [];
    for (const manifest of pending) {
      progress.update(
        `${mode === 'apply' ? 'applying' : 'creating'} ${done + 1}/${manifests.length}: ${label(manifest, manifest.object.fq_name)}`,
      );
      try {
        const [outcome, name] = await (mode === 'apply' ? applyOne(api, manifest) : createOne(api, manifest));
        progress.done();
        session.print(`${name} ${outcome}`);
        done++;
      } catch (error) {
        if (!(error instanceof CliError)) throw error;
        if (WAITS_FOR_ANOTHER.has(error.code)) deferred.push([manifest, error]);
        else failures.push([manifest, error]);
      }
    }
    // Another pass only while the last one made progress: a reference to nothing stays an error.
    if (deferred.length === pending.length || deferred.length === 0) {
      failures.push(...deferred);
      break;
    }
    pending = deferred.map(([manifest]) => manifest);
  }
  progress.done();
  for (const [manifest, error] of failures) {
    reportError(session.terminal.colour, error, `${label(manifest, manifest.object.fq_name)} (${manifest.origin})`);
    failure ??= error;
  }
  return failure?.exitCode ?? 0;
}
