// weftctl edit TYPE NAME: the object as YAML in $VISUAL or $EDITOR (vi when neither is set);
// when the editor exits, the fields that changed are written back with one PUT (a field taken
// out is removed, a reference list taken out emptied). Nothing changed, nothing sent. When the
// server refuses, the edited file is kept and named, so the edit is not lost.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { errors } from '../errors.js';
import { isReadOnly } from '../manifests.js';
import { toYaml } from '../output/objects.js';
import type { Session } from '../session.js';
import { readNamed, typeOf } from './resources.js';

const HEADER = `# Edit the object and save; quitting without a change, or emptying the file, cancels.
# What the server sets (uuid, href, id_perms, perms2, back-references, children) is not written back.
`;

export async function edit(session: Session, typed: string, name: string, env = process.env): Promise<void> {
  const type = await typeOf(session, typed);
  const before = await readNamed(session, type, name);
  const dir = mkdtempSync(join(tmpdir(), 'weftctl-edit-'));
  const file = join(dir, `${type.name}-${before.fq_name[before.fq_name.length - 1]}.yaml`);
  writeFileSync(file, HEADER + toYaml({ [type.name]: before }));
  const editor = env.VISUAL || env.EDITOR || 'vi';
  // The editor may carry arguments ("code --wait"): the shell splits them as it would.
  const ran = spawnSync(`${editor} "${file}"`, { shell: true, stdio: 'inherit' });
  if (ran.error) throw errors.editor(editor, `could not be started: ${ran.error.message}`);
  if (ran.status !== 0) throw errors.editor(editor, `exited with code ${ran.status}; the object is unchanged`);
  const text = readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (error) {
    throw errors.file(
      file,
      `not YAML any more: ${(error as Error).message}`,
      'the edit is kept in that file; fix it and `weftctl apply -f` it',
    );
  }
  if (parsed === null || parsed === undefined) {
    rmSync(dir, { recursive: true, force: true });
    session.print('Edit cancelled, no changes made.');
    return;
  }
  const after = (parsed as Record<string, unknown>)[type.name] as Record<string, unknown> | undefined;
  if (!after || typeof after !== 'object') throw errors.file(file, `expected the object under "${type.name}"`);
  const changed: Record<string, unknown> = {};
  for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (isReadOnly(field, before) || isReadOnly(field, after) || field === 'fq_name' || field === 'parent_type')
      continue;
    if (isDeepStrictEqual(before[field], after[field])) continue;
    changed[field] = field in after ? after[field] : field.endsWith('_refs') ? [] : null;
  }
  if (Object.keys(changed).length === 0) {
    rmSync(dir, { recursive: true, force: true });
    session.print('Edit cancelled, no changes made.');
    return;
  }
  try {
    await session.configApi.update(type, before.uuid, changed);
  } catch (error) {
    process.stderr.write(`the edit is kept in ${file}\n`);
    throw error;
  }
  rmSync(dir, { recursive: true, force: true });
  session.print(`${type.name}/${before.fq_name.join(':')} edited`);
}
