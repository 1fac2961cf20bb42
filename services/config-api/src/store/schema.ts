// The version of the config store's schema: the SQLite file's tables and the etcd key layout
// (etcd-keys.ts). Each store stamps it (SQLite: PRAGMA user_version; etcd: the key "v"), brings
// an older store forward on start, one step at a time, and refuses one that a newer release
// wrote, naming both versions, without changing it.
//
// Version 1 is the layout of release 0.1.0, which did not stamp it: a store without a stamp
// that already holds data is at version 1. A step to version n+1 must leave the store readable
// by a config-api of version n (add, never rename or drop, in the step that introduces it), since
// during a rollout the replicas of the two releases share one etcd data set.

/** The newest schema this config-api reads and writes. */
export const STORE_SCHEMA_VERSION = 1;

/** A store a newer config-api wrote: this one does not know its layout and must not touch it. */
export class StoreSchemaTooNewError extends Error {
  readonly found: number;
  readonly known: number;
  constructor(where: string, found: number, known = STORE_SCHEMA_VERSION) {
    super(
      `${where} has store schema version ${found}, newer than this config-api knows (${known}): a newer release ` +
        'wrote it. Run that release (or newer), or import the export taken before the upgrade into an empty store; ' +
        'nothing was changed.',
    );
    this.name = 'StoreSchemaTooNewError';
    this.found = found;
    this.known = known;
  }
}

/**
 * The steps that bring a store at version `found` to `known`, in order: steps[n] takes it from
 * n to n+1. Throws StoreSchemaTooNewError when found is newer, and names a missing step.
 */
export function stepsFrom<Step>(
  where: string,
  found: number,
  steps: Record<number, Step>,
  known = STORE_SCHEMA_VERSION,
): { to: number; step: Step }[] {
  if (!Number.isInteger(found) || found < 1) throw new Error(`${where}: store schema version ${found} is not valid`);
  if (found > known) throw new StoreSchemaTooNewError(where, found, known);
  const plan: { to: number; step: Step }[] = [];
  for (let version = found; version < known; version++) {
    const step = steps[version];
    if (!step) throw new Error(`${where}: no migration from store schema version ${version} to ${version + 1}`);
    plan.push({ to: version + 1, step });
  }
  return plan;
}
