// Rendering the Helm charts as `helm template` would, with the repository's own renderer
// (charts/tools/render: Go's text/template and sprig, the engine helm is built on), and
// checking each rendered object against the Kubernetes API schemas of its kind and version.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './stack.js';

export const chartsDir = join(repoRoot, 'charts');
export const umbrellaChart = join(chartsDir, 'weft');

/** A rendered Kubernetes object and the template it came from. */
export interface Manifest {
  source: string;
  // biome-ignore lint/suspicious/noExplicitAny: rendered objects are arbitrary JSON, read by path
  object: any;
}

export interface Rendered {
  manifests: Manifest[];
  notes: string;
}

const goEnv = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOFLAGS: '' };

/** Why the renderer cannot be built here, or undefined when it can. */
export function rendererMissing(): string | undefined {
  if (spawnSync('go', ['version']).status !== 0) return 'go is not installed (Debian: golang-go)';
  for (const dir of ['github.com/Masterminds/sprig', 'sigs.k8s.io/yaml', 'github.com/xeipuuv/gojsonschema']) {
    const probe = spawnSync('test', ['-d', join('/usr/share/gocode/src', dir)]);
    if (probe.status !== 0) return `Go package ${dir} is not installed (see charts/tools/render/main.go)`;
  }
  return undefined;
}

/** Builds the renderer into dir and returns its path. */
export function buildRenderer(dir: string): string {
  const binary = join(dir, 'weft-chart-render');
  const result = spawnSync('go', ['build', '-o', binary, './charts/tools/render'], {
    cwd: repoRoot,
    env: goEnv,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`building the chart renderer failed:\n${result.stderr}`);
  return binary;
}

export interface RenderOutcome {
  ok: boolean;
  rendered?: Rendered;
  stderr: string;
}

/** Renders a chart with values files and --set overrides; never throws on a rejected render. */
export function renderChart(
  renderer: string,
  chart: string,
  options: { files?: string[]; set?: string[]; name?: string; namespace?: string } = {},
): RenderOutcome {
  const args = ['--output', 'json', '--name', options.name ?? 'weft', '--namespace', options.namespace ?? 'weft'];
  for (const file of options.files ?? []) args.push('-f', file);
  for (const set of options.set ?? []) args.push('--set', set);
  const result = spawnSync(renderer, [...args, chart], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) return { ok: false, stderr: result.stderr };
  return { ok: true, rendered: JSON.parse(result.stdout) as Rendered, stderr: result.stderr };
}

/** Renders and fails with the renderer's own message when it rejects. */
export function renderOrThrow(renderer: string, chart: string, options: Parameters<typeof renderChart>[2] = {}) {
  const outcome = renderChart(renderer, chart, options);
  if (!outcome.ok || !outcome.rendered) throw new Error(`render of ${chart} failed:\n${outcome.stderr}`);
  return outcome.rendered;
}

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

/**
 * Checks an object against the Kubernetes OpenAPI schema of its apiVersion and kind (the
 * `kubernetes-models` package). Returns the problems, empty when it is valid; a kind the package
 * does not know is itself a problem, so nothing passes unchecked.
 */
export async function kubernetesSchemaProblems(object: Manifest['object']): Promise<string[]> {
  const { apiVersion, kind } = object as { apiVersion: string; kind: string };
  let Model: ModelClass;
  try {
    const module = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, ModelClass>;
    Model = module[kind]!;
  } catch {
    return [`no Kubernetes schema for ${apiVersion} ${kind}`];
  }
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
}

/** A chart's appVersion, read from its Chart.yaml. */
export function appVersion(chart: string): string {
  const match = /^appVersion:\s*"?([^"\n]+)"?\s*$/m.exec(readFileSync(join(chart, 'Chart.yaml'), 'utf8'));
  if (!match) throw new Error(`${chart}/Chart.yaml has no appVersion`);
  return match[1]!;
}

/** Workloads: the objects that run pods, with their pod template. */
export function workloads(manifests: Manifest[]): Manifest[] {
  return manifests.filter((m) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(m.object.kind));
}

export function find(manifests: Manifest[], kind: string, name: string): Manifest['object'] {
  const found = manifests.find((m) => m.object.kind === kind && m.object.metadata.name === name);
  if (!found) {
    const have = manifests.map((m) => `${m.object.kind}/${m.object.metadata.name}`).join(', ');
    throw new Error(`no ${kind} ${name} among: ${have}`);
  }
  return found.object;
}

/** The value of an environment variable of a container, or undefined. */
export function envOf(container: { env?: { name: string; value?: string }[] }, name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

/** Does a label selector select these labels? */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
