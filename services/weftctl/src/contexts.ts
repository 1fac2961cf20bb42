// Contexts, as kubectl's kubeconfig has them: named sets of endpoints, token and TLS in one YAML
// file, one of them current. What a command uses is, per setting, the first of: its flag, its
// WEFT_CTL_* variable, the context, and the built-in `local` context (what `npm start` runs on
// this machine), so that weftctl works with no file at all.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { errors } from './errors.js';
import type { Endpoint, Tls } from './http.js';
import { CONFIG_FILE, CONTEXT, SETTINGS, type SettingKey } from './options.js';

export type ContextSettings = Partial<Record<SettingKey, string | boolean>>;

export interface ContextsFile {
  'current-context'?: string;
  contexts: Record<string, ContextSettings>;
}

export const LOCAL_CONTEXT = 'local';

export function localContext(): ContextSettings {
  return Object.fromEntries(SETTINGS.filter((s) => s.local !== undefined).map((s) => [s.key, s.local as string]));
}

export function contextsPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const path = flag ?? env[CONFIG_FILE.env] ?? CONFIG_FILE.default;
  return resolve(path.replace(/^~(?=$|\/)/, homedir()));
}

export function readContexts(path: string): ContextsFile {
  if (!existsSync(path)) return { contexts: {} };
  let parsed: unknown;
  try {
    parsed = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw errors.file(path, `not YAML: ${(error as Error).message}`, 'fix it, or remove it to start again');
  }
  const file = (parsed ?? {}) as Partial<ContextsFile>;
  if (typeof file !== 'object' || Array.isArray(file) || (file.contexts && typeof file.contexts !== 'object')) {
    throw errors.file(path, 'expected `current-context: NAME` and `contexts: {NAME: {...}}`');
  }
  const known = new Set<string>(SETTINGS.map((s) => s.key));
  for (const [name, context] of Object.entries(file.contexts ?? {})) {
    for (const key of Object.keys(context ?? {})) {
      if (!known.has(key)) {
        throw errors.file(path, `context "${name}": unknown setting "${key}"`, `settings: ${[...known].join(', ')}`);
      }
    }
  }
  return {
    ...(file['current-context'] ? { 'current-context': file['current-context'] } : {}),
    contexts: file.contexts ?? {},
  };
}

export function writeContexts(path: string, file: ContextsFile): void {
  mkdirSync(dirname(path), { recursive: true });
  // A token may be in it: readable by its owner only, replaced whole so that no reader sees half.
  writeFileSync(`${path}.tmp`, stringify(file), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export interface Resolved {
  name: string;
  settings: ContextSettings;
  /** Where each setting came from: flag, env, context, local. */
  sources: Partial<Record<SettingKey, string>>;
}

/** The settings a command runs with. */
export function resolveContext(
  file: ContextsFile,
  flags: Partial<Record<SettingKey | 'context', string | boolean | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): Resolved {
  const name = (flags.context as string | undefined) ?? env[CONTEXT.env] ?? file['current-context'] ?? LOCAL_CONTEXT;
  const fromFile = file.contexts[name];
  if (!fromFile && name !== LOCAL_CONTEXT) {
    throw errors.notFound(
      `context "${name}"`,
      `contexts: ${[LOCAL_CONTEXT, ...Object.keys(file.contexts)].join(', ')}; \`weftctl config set-context ${name} …\` makes it`,
    );
  }
  const base = name === LOCAL_CONTEXT ? { ...localContext(), ...fromFile } : { ...fromFile };
  const settings: ContextSettings = {};
  const sources: Resolved['sources'] = {};
  for (const setting of SETTINGS) {
    const flag = flags[setting.key];
    const fromEnv = env[setting.env];
    const value =
      flag !== undefined && flag !== ''
        ? ['flag', flag]
        : fromEnv !== undefined && fromEnv !== ''
          ? ['env', setting.boolean ? /^(1|true|yes)$/i.test(fromEnv) : fromEnv]
          : base[setting.key] !== undefined
            ? [fromFile?.[setting.key] !== undefined ? 'context' : 'local', base[setting.key]]
            : undefined;
    if (value) {
      settings[setting.key] = value[1] as string | boolean;
      sources[setting.key] = value[0] as string;
    }
  }
  return { name, settings, sources };
}

/** One service's endpoint from the resolved settings. */
export function endpointOf(resolved: Resolved, key: 'config-api' | 'control' | 'analytics'): Endpoint {
  const url = resolved.settings[key];
  if (typeof url !== 'string' || !url) {
    throw errors.usage(
      `context "${resolved.name}" gives no ${key} URL`,
      `\`weftctl config set-context ${resolved.name} --${key} URL\``,
    );
  }
  return { service: key, url, ...common(resolved) };
}

/** Token and TLS, which every service of a context shares (the agents' introspection too). */
export function common(resolved: Resolved): { token?: string; tls?: Tls } {
  const s = resolved.settings;
  const tls: Tls = {};
  if (typeof s['tls-ca'] === 'string') tls.ca = s['tls-ca'];
  if (typeof s['tls-cert'] === 'string') tls.cert = s['tls-cert'];
  if (typeof s['tls-key'] === 'string') tls.key = s['tls-key'];
  if (s['insecure-skip-tls-verify'] === true) tls.insecure = true;
  let token = typeof s.token === 'string' && s.token ? s.token : undefined;
  const tokenFile = s['token-file'];
  if (token === undefined && typeof tokenFile === 'string' && tokenFile && existsSync(tokenFile)) {
    token = readFileSync(tokenFile, 'utf8').trim() || undefined;
  }
  return { ...(token ? { token } : {}), tls };
}
