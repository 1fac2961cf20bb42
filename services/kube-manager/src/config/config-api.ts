// config-api's REST API (the VNC API's shapes), as far as the manager uses it: create, read,
// update, delete, name-to-id and list with details. Errors keep config-api's code, so that a
// caller can tell "already exists" and "not found" from a failure worth retrying.
import { readFileSync } from 'node:fs';
import { configApiTokenOf } from '@weft/kit';
// undici's own fetch: Node 20's global one takes no CA for one client.
import { Agent, type Dispatcher, fetch } from 'undici';

export interface Ref {
  to?: string[];
  uuid?: string;
  attr?: unknown;
}

export interface VncObject {
  uuid: string;
  fq_name: string[];
  [field: string]: unknown;
}

export class ConfigApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class ConfigApi {
  readonly #url: string;
  /** Trusts the deployment's CA for config-api's HTTPS (WEFT_TLS_CA); the system's roots otherwise. */
  readonly #dispatcher: Dispatcher | undefined;

  /** The token config-api wants (WEFT_CONFIG_API_TOKEN_FILE or WEFT_CONFIG_API_TOKEN); none for no-auth. */
  readonly #credentials: { file?: string | undefined; token?: string | undefined };

  constructor(
    url: string,
    tls?: { caFile?: string },
    credentials: { file?: string | undefined; token?: string | undefined } = {},
  ) {
    this.#url = url.replace(/\/$/, '');
    this.#credentials = credentials;
    this.#dispatcher = tls?.caFile ? new Agent({ connect: { ca: readFileSync(tls.caFile) } }) : undefined;
  }

  #headers(json: boolean): Record<string, string> {
    const headers: Record<string, string> = json ? { 'content-type': 'application/json' } : {};
    const token = configApiTokenOf(this.#credentials);
    if (token) headers['x-auth-token'] = token;
    return headers;
  }

  async #request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.#url}${path}`, {
      ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
      method,
      headers: this.#headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      let code = 'HTTP_ERROR';
      let message = text;
      try {
        const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        code = error?.code ?? code;
        message = error?.message ?? message;
      } catch {}
      throw new ConfigApiError(response.status, code, `${method} ${path}: ${response.status} ${message}`);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  async create(type: string, object: Record<string, unknown>): Promise<VncObject> {
    const answer = await this.#request<Record<string, VncObject>>('POST', `/${type}s`, { [type]: object });
    return answer[type]!;
  }

  async read(type: string, uuid: string): Promise<VncObject | undefined> {
    try {
      return (await this.#request<Record<string, VncObject>>('GET', `/${type}/${uuid}`))[type];
    } catch (error) {
      if (error instanceof ConfigApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async readByName(type: string, fqName: string[]): Promise<VncObject | undefined> {
    const uuid = await this.idOf(type, fqName);
    return uuid === undefined ? undefined : this.read(type, uuid);
  }

  async update(type: string, uuid: string, fields: Record<string, unknown>): Promise<void> {
    await this.#request('PUT', `/${type}/${uuid}`, { [type]: fields });
  }

  /** Deletes; an object already gone is not an error. */
  async remove(type: string, uuid: string): Promise<void> {
    try {
      await this.#request('DELETE', `/${type}/${uuid}`);
    } catch (error) {
      if (!(error instanceof ConfigApiError && error.status === 404)) throw error;
    }
  }

  async idOf(type: string, fqName: string[]): Promise<string | undefined> {
    try {
      return (await this.#request<{ uuid: string }>('POST', '/fqname-to-id', { type, fq_name: fqName })).uuid;
    } catch (error) {
      if (error instanceof ConfigApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Every object of a type, whole. */
  async list(type: string): Promise<VncObject[]> {
    const answer = await this.#request<Record<string, { [key: string]: VncObject }[]>>('GET', `/${type}s?detail=true`);
    return (answer[`${type}s`] ?? []).map((entry) => entry[type]!);
  }
}
