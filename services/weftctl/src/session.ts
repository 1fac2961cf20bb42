// What every command runs with: the resolved context, a client per service, the output format
// and the terminal. Built once per invocation from the global flags.
import { ConfigApi } from './api/config-api.js';
import { common, contextsPath, endpointOf, type Resolved, readContexts, resolveContext } from './contexts.js';
import type { Endpoint } from './http.js';
import type { SettingKey } from './options.js';
import { type Terminal, terminal } from './output/terminal.js';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'wide', 'json', 'yaml', 'name'];

export interface GlobalFlags extends Partial<Record<SettingKey, string | boolean>> {
  context?: string;
  config?: string;
  output?: OutputFormat;
}

export class Session {
  readonly resolved: Resolved;
  readonly terminal: Terminal;
  readonly output: OutputFormat;
  readonly contextsPath: string;
  #configApi: ConfigApi | undefined;

  constructor(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env) {
    this.contextsPath = contextsPath(flags.config, env);
    this.resolved = resolveContext(readContexts(this.contextsPath), flags, env);
    this.terminal = terminal(env);
    this.output = flags.output ?? 'table';
  }

  get project(): string {
    return String(this.resolved.settings.project ?? 'default-domain:default-project');
  }

  get configApi(): ConfigApi {
    this.#configApi ??= new ConfigApi(endpointOf(this.resolved, 'config-api'));
    return this.#configApi;
  }

  get control(): Endpoint {
    return endpointOf(this.resolved, 'control');
  }

  get analytics(): Endpoint {
    return endpointOf(this.resolved, 'analytics');
  }

  /** An agent's introspection, with the context's token and TLS. */
  agent(host: string, url: string): Endpoint {
    return { service: `the agent of ${host}`, url, ...common(this.resolved) };
  }

  /** Token and TLS of the context, for clients other than REST (gRPC). */
  get configApiCommon(): ReturnType<typeof common> {
    return common(this.resolved);
  }

  get grpcAddress(): string {
    return String(this.resolved.settings['config-api-grpc'] ?? '');
  }

  print(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}
