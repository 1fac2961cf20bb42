// The stand-in's state: every object by type, namespace and name; one resourceVersion counter
// for all of them (as etcd's revision is for a real server); and a bounded log of the changes, so
// that a watch can start from a resourceVersion the log still holds and gets 410 Expired when it
// no longer does.
import { randomUUID } from 'node:crypto';
import { apiVersionOf, RESOURCE_TYPES, type ResourceType } from './resources.js';
import type { KubeObject } from './selectors.js';
import { KubeStatusError } from './status.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  resourceVersion: number;
  type: WatchEventType;
  resource: ResourceType;
  object: KubeObject;
}

type Listener = (event: ChangeEvent) => void;

// DNS-1123 subdomain (most names) and label (namespaces), as the API validates them.
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function keyOf(resource: ResourceType, namespace: string | undefined, name: string): string {
  return `${resource.group}/${resource.plural}|${namespace ?? ''}|${name}`;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

export class KubeStore {
  #objects = new Map<string, { resource: ResourceType; object: KubeObject }>();
  #log: ChangeEvent[] = [];
  #listeners = new Set<Listener>();
  #revision = 0;

  constructor(private readonly logKeep: number) {
    const namespaces = RESOURCE_TYPES.find((type) => type.plural === 'namespaces')!;
    for (const name of ['default', 'kube-system'])
      this.create(namespaces, undefined, { metadata: { name } as KubeObject['metadata'] });
  }

  get revision(): number {
    return this.#revision;
  }

  /** The oldest resourceVersion a watch may start from: the log holds every change after it. */
  get oldestWatchable(): number {
    return this.#log.length > 0 ? this.#log[0]!.resourceVersion - 1 : this.#revision;
  }

  /** Forgets the change log, as etcd's compaction does: every watch from an older resourceVersion is then 410. */
  compact(): void {
    this.#log = [];
  }

  list(resource: ResourceType, namespace: string | undefined): KubeObject[] {
    const items: KubeObject[] = [];
    for (const entry of this.#objects.values()) {
      if (entry.resource !== resource) continue;
      if (namespace !== undefined && entry.object.metadata.namespace !== namespace) continue;
      items.push(clone(entry.object));
    }
    return items.sort(
      (a, b) =>
        (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
  }

  get(resource: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const entry = this.#objects.get(keyOf(resource, namespace, name));
    if (!entry) throw notFound(resource, name);
    return clone(entry.object);
  }

  create(resource: ResourceType, namespace: string | undefined, body: Partial<KubeObject>): KubeObject {
    const metadata = { ...(body.metadata ?? {}) } as KubeObject['metadata'];
    if (!metadata.name && typeof metadata.generateName === 'string') {
      metadata.name = `${metadata.generateName}${randomUUID().slice(0, 5)}`;
    }
    this.#checkName(resource, metadata.name);
    this.#checkKind(resource, body);
    if (resource.namespaced) {
      if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
        throw new KubeStatusError(
          'BadRequest',
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      this.#requireNamespace(namespace!);
    }
    const key = keyOf(resource, namespace, metadata.name);
    if (this.#objects.has(key)) {
      throw new KubeStatusError('AlreadyExists', `${resource.plural} "${metadata.name}" already exists`, {
        name: metadata.name,
        group: resource.group,
        kind: resource.plural,
      });
    }
    const object: KubeObject = {
      ...clone(body),
      apiVersion: apiVersionOf(resource),
      kind: resource.kind,
      metadata: {
        ...clone(metadata),
        ...(resource.namespaced ? { namespace } : {}),
        uid: randomUUID(),
        resourceVersion: String(++this.#revision),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        generation: 1,
      },
    };
    delete object.metadata.generateName;
    if (resource.plural === 'namespaces') object.status = { phase: 'Active' };
    this.#objects.set(key, { resource, object });
    this.#record('ADDED', resource, object);
    return clone(object);
  }

  /** PUT: the whole object, guarded by metadata.resourceVersion when given; `status` alone for the subresource. */
  replace(
    resource: ResourceType,
    namespace: string | undefined,
    name: string,
    body: Partial<KubeObject>,
    subresource: 'status' | undefined,
  ): KubeObject {
    const current = this.get(resource, namespace, name);
    if (body.metadata?.name !== undefined && body.metadata.name !== name) {
      throw new KubeStatusError('BadRequest', 'the name of the object does not match the name on the URL');
    }
    this.#checkKind(resource, body);
    const asked = body.metadata?.resourceVersion;
    if (asked !== undefined && asked !== '' && asked !== current.metadata.resourceVersion) {
      throw new KubeStatusError(
        'Conflict',
        `Operation cannot be fulfilled on ${resource.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: resource.group, kind: resource.plural },
      );
    }
    let next: KubeObject;
    if (subresource === 'status') {
      next = { ...current, status: clone(body.status) };
    } else {
      next = {
        ...clone(body),
        apiVersion: current.apiVersion,
        kind: current.kind,
        metadata: {
          ...clone(body.metadata ?? ({} as KubeObject['metadata'])),
          name,
          ...(resource.namespaced ? { namespace } : {}),
          uid: current.metadata.uid,
          creationTimestamp: current.metadata.creationTimestamp,
          generation: current.metadata.generation,
          resourceVersion: current.metadata.resourceVersion,
        },
      } as KubeObject;
      // With a status subresource, the main resource's writes leave status as it was.
      if (resource.statusSubresource) {
        if (current.status === undefined) delete next.status;
        else next.status = current.status;
      }
    }
    return this.#commit(resource, current, next);
  }

  delete(resource: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const key = keyOf(resource, namespace, name);
    const entry = this.#objects.get(key);
    if (!entry) throw notFound(resource, name);
    if (resource.plural === 'namespaces') {
      for (const [childKey, child] of [...this.#objects]) {
        if (child.resource.namespaced && child.object.metadata.namespace === name) {
          this.#objects.delete(childKey);
          this.#record('DELETED', child.resource, {
            ...child.object,
            metadata: { ...child.object.metadata, resourceVersion: String(++this.#revision) },
          });
        }
      }
    }
    this.#objects.delete(key);
    const deleted = {
      ...entry.object,
      metadata: { ...entry.object.metadata, resourceVersion: String(++this.#revision) },
    };
    this.#record('DELETED', resource, deleted);
    return clone(deleted);
  }

  /** Events after `resourceVersion`, then every later one, until the returned function is called. */
  subscribe(listener: Listener, after: number): () => void {
    if (after < this.oldestWatchable) {
      throw new KubeStatusError('Expired', `too old resource version: ${after} (${this.oldestWatchable + 1})`);
    }
    for (const event of this.#log) if (event.resourceVersion > after) listener(event);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #commit(resource: ResourceType, current: KubeObject, next: KubeObject): KubeObject {
    // An update that changes nothing is not a change: no new resourceVersion, no event.
    if (JSON.stringify(current) === JSON.stringify(next)) return current;
    const specBefore = JSON.stringify({ ...current, metadata: undefined, status: undefined });
    const specAfter = JSON.stringify({ ...next, metadata: undefined, status: undefined });
    const generation = Number(current.metadata.generation ?? 1);
    next.metadata.generation = specBefore === specAfter ? generation : generation + 1;
    next.metadata.resourceVersion = String(++this.#revision);
    this.#objects.set(keyOf(resource, next.metadata.namespace, next.metadata.name), { resource, object: next });
    this.#record('MODIFIED', resource, next);
    return clone(next);
  }

  #record(type: WatchEventType, resource: ResourceType, object: KubeObject): void {
    const event: ChangeEvent = { resourceVersion: Number(object.metadata.resourceVersion), type, resource, object };
    this.#log.push(event);
    if (this.#log.length > this.logKeep) this.#log.splice(0, this.#log.length - this.logKeep);
    for (const listener of this.#listeners) listener(event);
  }

  #checkName(resource: ResourceType, name: string | undefined): void {
    const pattern = resource.plural === 'namespaces' ? LABEL : SUBDOMAIN;
    if (!name) {
      throw new KubeStatusError(
        'Invalid',
        `${resource.kind} is invalid: metadata.name: Required value: name or generateName is required`,
        {
          kind: resource.kind,
          group: resource.group,
          causes: [
            {
              reason: 'FieldValueRequired',
              message: 'Required value: name or generateName is required',
              field: 'metadata.name',
            },
          ],
        },
      );
    }
    if (!pattern.test(name) || name.length > 253) {
      const message = `Invalid value: "${name}": a lowercase RFC 1123 ${pattern === LABEL ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.'`;
      throw new KubeStatusError('Invalid', `${resource.kind} "${name}" is invalid: metadata.name: ${message}`, {
        name,
        kind: resource.kind,
        group: resource.group,
        causes: [{ reason: 'FieldValueInvalid', message, field: 'metadata.name' }],
      });
    }
  }

  #checkKind(resource: ResourceType, body: Partial<KubeObject>): void {
    if (body.kind !== undefined && body.kind !== resource.kind) {
      throw new KubeStatusError('BadRequest', `the kind ${body.kind} does not match the expected ${resource.kind}`);
    }
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(resource)) {
      throw new KubeStatusError(
        'BadRequest',
        `the API version ${body.apiVersion} does not match the expected ${apiVersionOf(resource)}`,
      );
    }
  }

  #requireNamespace(namespace: string): void {
    if (!this.#objects.has(`/namespaces||${namespace}`)) {
      throw new KubeStatusError('NotFound', `namespaces "${namespace}" not found`, {
        name: namespace,
        kind: 'namespaces',
      });
    }
  }
}

function notFound(resource: ResourceType, name: string): KubeStatusError {
  return new KubeStatusError(
    'NotFound',
    `${resource.plural}${resource.group ? `.${resource.group}` : ''} "${name}" not found`,
    { name, group: resource.group, kind: resource.plural },
  );
}
