// For this package's tests: a real config-api on free loopback ports with its SQLite file in a
// temp dir, and a small JSON client for its REST API.
import { tempDir } from '@weft/kit/testing';
import { type RunningConfigApi, type StartConfigApiOptions, startConfigApi } from '../index.js';

export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
}

export interface TestServer extends RunningConfigApi {
  stateDir: string;
  request(method: string, path: string, body?: unknown): Promise<Reply>;
  /** A client that sends `token` as X-Auth-Token. */
  as(token: string): ReturnType<typeof clientFor>;
  /** POST /<type>s with {"<type>": object}; fails the test unless it answers 200. */
  create(type: string, object: Record<string, unknown>): Promise<Record<string, unknown> & { uuid: string }>;
  /** Stops the server and removes its state. */
  dispose(): Promise<void>;
}

export async function request(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, body: parsed };
}

export function clientFor(base: string, token?: string) {
  const headers: Record<string, string> = token ? { 'x-auth-token': token } : {};
  return {
    request: (method: string, path: string, body?: unknown) => request(base, method, path, body, headers),
    async create(type: string, object: Record<string, unknown>) {
      const reply = await request(base, 'POST', `/${type}s`, { [type]: object }, headers);
      if (reply.status !== 200) throw new Error(`create ${type}: ${reply.status} ${JSON.stringify(reply.body)}`);
      return reply.body[type];
    },
  };
}

export async function startTestServer(options: Partial<StartConfigApiOptions> = {}): Promise<TestServer> {
  const state = options.stateDir ? { path: options.stateDir, remove: () => {} } : tempDir('weft-config-api-');
  const api = await startConfigApi({ logLevel: 'silent', ...options, stateDir: state.path });
  return {
    ...api,
    stateDir: state.path,
    ...clientFor(api.restUrl),
    as: (token: string) => clientFor(api.restUrl, token),
    async dispose() {
      await api.close();
      state.remove();
    },
  };
}

export const DEFAULT_PROJECT = ['default-domain', 'default-project'];
export const DEFAULT_IPAM = [...DEFAULT_PROJECT, 'default-network-ipam'];

/** A virtual-network body in the default project with the given subnets ("10.0.0.0/24"). */
export function networkBody(name: string, ...prefixes: string[]): Record<string, unknown> {
  return {
    fq_name: [...DEFAULT_PROJECT, name],
    network_ipam_refs: [
      {
        to: DEFAULT_IPAM,
        attr: {
          ipam_subnets: prefixes.map((prefix) => {
            const [ip, length] = prefix.split('/');
            return { subnet: { ip_prefix: ip, ip_prefix_len: Number(length) } };
          }),
        },
      },
    ],
  };
}
