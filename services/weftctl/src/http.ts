// HTTP(S) to Weft's REST APIs with a context's token and TLS: JSON requests, and server-sent
// event streams (analytics' live streams). node:http rather than fetch, because a context's CA,
// client certificate and "insecure" switch are per request options there.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { errors } from './errors.js';

export interface Tls {
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
}

/** One service as a context names it. */
export interface Endpoint {
  /** What it is, for messages: "config-api", "control", "the agent of h1". */
  service: string;
  url: string;
  token?: string;
  tls?: Tls;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function readPem(path: string | undefined): Buffer | undefined {
  return path ? readFileSync(path) : undefined;
}

/**
 * The token both ways that Weft's authentication takes it (OpenStack's X-Auth-Token, which
 * Tungsten Fabric's clients send, and the bearer header of everything else).
 */
function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}`, 'x-auth-token': token } : {};
}

function target(endpoint: Endpoint, path: string, query: RequestOptions['query']): URL {
  const url = new URL(path.replace(/^\//, ''), endpoint.url.endsWith('/') ? endpoint.url : `${endpoint.url}/`);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url;
}

function open(
  endpoint: Endpoint,
  method: string,
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
): http.ClientRequest {
  const tls = endpoint.tls ?? {};
  const options: https.RequestOptions = {
    method,
    // One command makes a few requests and exits: no connection kept open to delay the exit.
    agent: false,
    headers: { accept: 'application/json', ...authHeaders(endpoint.token), ...headers },
    timeout: timeoutMs,
  };
  if (url.protocol === 'https:') {
    Object.assign(options, {
      ca: readPem(tls.ca),
      cert: readPem(tls.cert),
      key: readPem(tls.key),
      rejectUnauthorized: !tls.insecure,
    });
    return https.request(url, options);
  }
  return http.request(url, options);
}

/** Sends one request; answers the parsed JSON, or throws the server's error (code, field, reason). */
export function request<T>(endpoint: Endpoint, method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const url = target(endpoint, path, options.query);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise<T>((resolve, reject) => {
    const req = open(
      endpoint,
      method,
      url,
      body === undefined ? {} : { 'content-type': 'application/json' },
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer within ${(options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s`)),
    );
    req.on('error', (error) => reject(errors.unreachable(endpoint.service, endpoint.url, error.message, error)));
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => reject(errors.unreachable(endpoint.service, endpoint.url, error.message, error)));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : {};
        } catch {
          parsed = undefined;
        }
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          if (parsed === undefined) {
            reject(errors.badAnswer(endpoint.service, url.href, `not JSON: ${text.slice(0, 200)}`));
          } else resolve(parsed as T);
          return;
        }
        const error = (parsed as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
        reject(
          errors.api(endpoint.service, status, error ?? { message: `HTTP ${status} for ${method} ${url.pathname}` }),
        );
      });
    });
    req.end(body);
  });
}

export interface EventStream {
  /** Resolves when the stream ends (closed by the server, or by close()). */
  done: Promise<void>;
  close(): void;
}

/**
 * Follows a server-sent event stream: each event's name and parsed data go to onEvent. Comment
 * lines (keep-alives) are skipped.
 */
export function eventStream(
  endpoint: Endpoint,
  path: string,
  query: RequestOptions['query'],
  onEvent: (event: string, data: unknown) => void,
): EventStream {
  const url = target(endpoint, path, query);
  let req: http.ClientRequest | undefined;
  const done = new Promise<void>((resolve, reject) => {
    req = open(endpoint, 'GET', url, { accept: 'text/event-stream' }, 0);
    req.on('error', (error) => {
      if (req?.destroyed && (error as NodeJS.ErrnoException).code === 'ECONNRESET') resolve();
      else reject(errors.unreachable(endpoint.service, endpoint.url, error.message, error));
    });
    req.on('response', (response) => {
      if ((response.statusCode ?? 0) >= 300) {
        reject(errors.api(endpoint.service, response.statusCode ?? 0, { message: `HTTP ${response.statusCode}` }));
        response.resume();
        return;
      }
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length === 0) continue;
          try {
            onEvent(event, JSON.parse(data.join('\n')));
          } catch {
            onEvent(event, data.join('\n'));
          }
        }
      });
      response.on('end', () => resolve());
      response.on('close', () => resolve());
    });
    req.end();
  });
  return { done, close: () => req?.destroy() };
}
