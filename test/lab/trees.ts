// Other built Weft trees the lab can run daemons from (an older release, for the upgrade
// rollout). A daemon refuses a WEFT_* option it does not declare, and an older daemon does not
// declare what was added since: the lab asks each tree's daemon what it declares
// (`main.js --options-json`) and passes only that, naming what it dropped.
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../support/stack.js';
import { serviceMain } from './services.js';

const declared = new Map<string, Set<string>>();

/** The WEFT_* options a tree's daemon declares. */
export function declaredOptions(service: string, tree: string): Set<string> {
  const main = serviceMain(service, tree);
  let options = declared.get(main);
  if (!options) {
    const answer = spawnSync(process.execPath, [main, '--options-json'], { encoding: 'utf8' });
    if (answer.status !== 0) throw new Error(`${main} --options-json failed: ${answer.stderr || answer.stdout}`);
    options = new Set((JSON.parse(answer.stdout) as { env: string }[]).map((item) => item.env));
    declared.set(main, options);
  }
  return options;
}

/**
 * The options of a daemon run from `tree`: all of them for this checkout; for another tree, those
 * its daemon declares, and the names of the ones it does not (left out).
 */
export function optionsFor(
  service: string,
  tree: string | undefined,
  options: Record<string, string>,
): { options: Record<string, string>; dropped: string[] } {
  if (!tree || tree === repoRoot) return { options, dropped: [] };
  const known = declaredOptions(service, tree);
  const kept = Object.entries(options).filter(([name]) => !name.startsWith('WEFT_') || known.has(name));
  const dropped = Object.keys(options).filter((name) => name.startsWith('WEFT_') && !known.has(name));
  return { options: Object.fromEntries(kept), dropped };
}
