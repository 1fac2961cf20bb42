// Every Weft daemon with the one declaration of its options and the places that restate them:
// its README's table, its Containerfile (EXPOSE, HEALTHCHECK), its image and its chart's env.
// test/e2e/options.test.ts and charts.test.ts check each place against the declaration.
import { join } from 'node:path';
import { declaredOptions as analytics } from '@weft/analytics/options';
import { declaredOptions as configApi } from '@weft/config-api/options';
import { declaredOptions as control } from '@weft/control/options';
import type { ConfigSpec } from '@weft/kit';
import { declaredOptions as kubeManager } from '@weft/kube-manager/options';
import { declaredOptions as vrouterAgent } from '@weft/vrouter-agent/options';
import { repoRoot } from './stack.js';

export interface Daemon {
  name: string;
  options: ConfigSpec;
  readme: string;
  containerfile: string;
  main: string;
  /** The image's name, as the charts and deploy/images name it. */
  image: string;
}

const daemon = (name: string, options: ConfigSpec): Daemon => ({
  name,
  options,
  readme: join(repoRoot, 'services', name, 'README.md'),
  containerfile: join(repoRoot, 'services', name, 'Containerfile'),
  main: join(repoRoot, 'services', name, 'dist', 'main.js'),
  image: `weft-${name}`,
});

export const daemons: Daemon[] = [
  daemon('config-api', configApi),
  daemon('control', control),
  daemon('analytics', analytics),
  daemon('vrouter-agent', vrouterAgent),
  daemon('kube-manager', kubeManager),
];

/** The WEFT_* variables a daemon declares. */
export const declaredNames = (d: Daemon) => new Set(Object.values(d.options).map((item) => item.env));

/** Marks around each README's generated options table. */
export const TABLE_BEGIN =
  '<!-- options: made from the declaration by `node test/dist/support/options-readme.js`; test/e2e/options.test.ts checks it -->';
export const TABLE_END = '<!-- options: end -->';
