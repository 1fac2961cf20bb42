// config-api's REST API (the Tungsten Fabric VNC API) as weftctl uses it. Like TF's own client
// it starts at the root page: the resource types and the actions' paths come from its links, so
// weftctl knows every type config-api serves, and no list of types is written here.
import { errors } from '../errors.js';
import { type Endpoint, request } from '../http.js';

export interface VncObject {
  uuid: string;
  fq_name: string[];
  parent_type?: string;
  href?: string;
  id_perms?: { created?: string; last_modified?: string; [key: string]: unknown };
  [field: string]: unknown;
}

export interface ResourceType {
  /** The VNC name: virtual-network. */
  name: string;
  /** Path of its collection (/virtual-networks) and of one object (/virtual-network). */
  collection: string;
  resource: string;
}

interface RootPage {
  links: { link: { rel: string; href: string; name: string } }[];
}

function pathOf(href: string): string {
  return new URL(href).pathname;
}

export class ConfigApi {
  #root: Promise<{ types: Map<string, ResourceType>; actions: Map<string, string> }> | undefined;

  constructor(readonly endpoint: Endpoint) {}

  #load() {
    this.#root ??= request<RootPage>(this.endpoint, 'GET', '/').then((root) => {
      if (!Array.isArray(root.links))
        throw errors.badAnswer('config-api', this.endpoint.url, 'the root page has no links');
      const types = new Map<string, ResourceType>();
      const actions = new Map<string, string>();
      for (const { link } of root.links) {
        if (link.rel === 'collection') {
          const entry = types.get(link.name) ?? { name: link.name, collection: '', resource: '' };
          entry.collection = pathOf(link.href);
          types.set(link.name, entry);
        } else if (link.rel === 'resource-base') {
          const entry = types.get(link.name) ?? { name: link.name, collection: '', resource: '' };
          entry.resource = pathOf(link.href);
          types.set(link.name, entry);
        } else actions.set(link.name, pathOf(link.href));
      }
      for (const entry of types.values()) {
        entry.collection ||= `/${entry.name}s`;
        entry.resource ||= `/${entry.name}`;
      }
      return { types, actions };
    });
    return this.#root;
  }

  /** Every resource type config-api serves, in the order of its root page. */
  async types(): Promise<ResourceType[]> {
    return [...(await this.#load()).types.values()];
  }

  async #action(name: string, fallback: string): Promise<string> {
    return (await this.#load()).actions.get(name) ?? fallback;
  }

  async list(type: ResourceType, query: Record<string, string | boolean | undefined> = {}): Promise<VncObject[]> {
    const answer = await request<Record<string, unknown>>(this.endpoint, 'GET', type.collection, {
      query: { detail: true, ...query },
    });
    const items = answer[`${type.name}s`];
    if (!Array.isArray(items)) throw errors.badAnswer('config-api', this.endpoint.url, `no "${type.name}s" list`);
    return items.map((item) => ((item as Record<string, VncObject>)[type.name] ?? item) as VncObject);
  }

  async read(type: ResourceType, uuid: string): Promise<VncObject> {
    const answer = await request<Record<string, VncObject>>(this.endpoint, 'GET', `${type.resource}/${uuid}`);
    return answer[type.name] as VncObject;
  }

  async create(type: ResourceType, object: Record<string, unknown>): Promise<VncObject> {
    const answer = await request<Record<string, VncObject>>(this.endpoint, 'POST', type.collection, {
      body: { [type.name]: object },
    });
    return answer[type.name] as VncObject;
  }

  async update(type: ResourceType, uuid: string, fields: Record<string, unknown>): Promise<void> {
    await request(this.endpoint, 'PUT', `${type.resource}/${uuid}`, { body: { [type.name]: fields } });
  }

  async remove(type: ResourceType, uuid: string): Promise<void> {
    await request(this.endpoint, 'DELETE', `${type.resource}/${uuid}`);
  }

  /** The uuid of an fq_name, or undefined when no such object exists. */
  async uuidOf(type: ResourceType, fqName: string[]): Promise<string | undefined> {
    try {
      const answer = await request<{ uuid: string }>(
        this.endpoint,
        'POST',
        await this.#action('name-to-id', '/fqname-to-id'),
        {
          body: { type: type.name, fq_name: fqName },
        },
      );
      return answer.uuid;
    } catch (error) {
      if ((error as { code?: string }).code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  /** The type and fq_name of a uuid, or undefined. */
  async nameOf(uuid: string): Promise<{ type: string; fq_name: string[] } | undefined> {
    try {
      return await request(this.endpoint, 'POST', await this.#action('id-to-name', '/id-to-fqname'), {
        body: { uuid },
      });
    } catch (error) {
      if ((error as { code?: string }).code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }
}
