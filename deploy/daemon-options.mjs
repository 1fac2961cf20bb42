// The options each daemon declares, asked of the daemon itself (`--options-json`, printed by the
// kit from the daemon's one declaration), so that whatever starts daemons — the local stack, the
// image runner — gives each one only its own options: a daemon refuses a WEFT_* variable it
// does not declare, and the caller's environment is shared by all of them.
//
// Plain JavaScript without dependencies, like the scripts that use it.
import { spawnSync } from 'node:child_process';

/** The declared options of the daemon that `command args… --options-json` runs: [{env, default, listen?…}]. */
export function declaredOptions(command, args) {
  const result = spawnSync(command, [...args, '--options-json'], {
    encoding: 'utf8',
    env: withoutWeft(process.env),
    timeout: 60_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `${[command, ...args].join(' ')} --options-json failed: ${(result.stderr || result.error?.message || '').trim()}`,
    );
  }
  return JSON.parse(result.stdout);
}

/** The environment without any WEFT_* variable. */
export function withoutWeft(environment) {
  return Object.fromEntries(Object.entries(environment).filter(([name]) => !name.startsWith('WEFT_')));
}

/** The WEFT_* variables of `environment` that `declared` names (minus `except`). */
export function declaredFrom(environment, declared, except = []) {
  const names = new Set(declared.map((item) => item.env));
  return Object.fromEntries(Object.entries(environment).filter(([name]) => names.has(name) && !except.includes(name)));
}
