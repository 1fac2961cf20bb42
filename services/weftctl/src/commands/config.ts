// weftctl config: the contexts file, as `kubectl config` handles kubeconfig. A context is a set
// of the settings in options.ts; `local` is built in (what `npm start` runs here) and may be
// overridden in the file like any other.
import { LOCAL_CONTEXT, localContext, readContexts, writeContexts } from '../contexts.js';
import { errors } from '../errors.js';
import { SETTINGS, type SettingKey } from '../options.js';
import { toYaml } from '../output/objects.js';
import { renderTable } from '../output/table.js';
import type { Session } from '../session.js';

function hideSecrets(settings: Record<string, unknown>): Record<string, unknown> {
  const secret = new Set<string>(SETTINGS.filter((s) => s.secret).map((s) => s.key));
  return Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [key, secret.has(key) && value ? '(hidden)' : value]),
  );
}

export function view(session: Session): void {
  const { name, settings, sources } = session.resolved;
  const effective = Object.fromEntries(
    Object.entries(hideSecrets(settings)).map(([key, value]) => [
      key,
      `${value}  (from ${sources[key as SettingKey]})`,
    ]),
  );
  session.print(toYaml({ file: session.contextsPath, context: name, settings: effective }));
}

export function getContexts(session: Session): void {
  const file = readContexts(session.contextsPath);
  const names = [...new Set([LOCAL_CONTEXT, ...Object.keys(file.contexts)])];
  const current = session.resolved.name;
  const rows = names.map((name) => ({
    name,
    current: name === current ? '*' : ' ',
    settings: { ...(name === LOCAL_CONTEXT ? localContext() : {}), ...file.contexts[name] },
  }));
  if (session.output === 'name') {
    session.print(names.join('\n'));
    return;
  }
  process.stdout.write(
    renderTable(
      [
        { heading: 'CURRENT', value: (row: (typeof rows)[number]) => row.current },
        { heading: 'NAME', value: (row) => row.name },
        { heading: 'CONFIG-API', value: (row) => String(row.settings['config-api'] ?? '') },
        { heading: 'PROJECT', value: (row) => String(row.settings.project ?? '') },
      ],
      rows,
    ),
  );
}

export function useContext(session: Session, name: string): void {
  const file = readContexts(session.contextsPath);
  if (name !== LOCAL_CONTEXT && !file.contexts[name]) {
    throw errors.notFound(`context "${name}"`, `\`weftctl config set-context ${name} --config-api URL …\` makes it`);
  }
  writeContexts(session.contextsPath, { ...file, 'current-context': name });
  session.print(`Switched to context "${name}".`);
}

export function setContext(session: Session, name: string, given: Partial<Record<SettingKey, string | boolean>>): void {
  const file = readContexts(session.contextsPath);
  const context = { ...file.contexts[name] };
  for (const setting of SETTINGS) {
    const value = given[setting.key];
    if (value === undefined) continue;
    if (value === '') delete context[setting.key];
    else context[setting.key] = value;
  }
  writeContexts(session.contextsPath, { ...file, contexts: { ...file.contexts, [name]: context } });
  session.print(`Context "${name}" ${file.contexts[name] ? 'modified' : 'created'}.`);
}

export function deleteContext(session: Session, name: string): void {
  const file = readContexts(session.contextsPath);
  if (!file.contexts[name]) throw errors.notFound(`context "${name}"`);
  const { [name]: _, ...rest } = file.contexts;
  const next = { ...file, contexts: rest };
  if (next['current-context'] === name) delete next['current-context'];
  writeContexts(session.contextsPath, next);
  session.print(`Deleted context "${name}".`);
}
