// Namespaces → projects. In namespace mode each namespace is the project
// default-domain:<namespace>, made when the namespace appears (or a pod of it needs it) and removed
// with it; in cluster mode every namespace shares one project, which is never removed.
import { keyValueOf } from '@weft/model';
import { type ConfigApi, ConfigApiError } from '../config/config-api.js';
import { OWNER_ANNOTATION } from './pods.js';

export const DOMAIN = 'default-domain';

export class ProjectReconciler {
  /** Projects known to exist, so that every pod does not ask again. */
  #known = new Set<string>();

  constructor(
    private readonly config: ConfigApi,
    private readonly mode: 'namespace' | 'cluster',
    private readonly clusterProject: string,
    private readonly namespaceExists: (name: string) => boolean,
  ) {}

  projectOf(namespace: string): string[] {
    return [DOMAIN, this.mode === 'cluster' ? this.clusterProject : namespace];
  }

  async ensure(namespace: string): Promise<string[]> {
    const fqName = this.projectOf(namespace);
    const key = fqName.join(':');
    if (this.#known.has(key)) return fqName;
    if ((await this.config.idOf('project', fqName)) === undefined) {
      try {
        await this.config.create('project', {
          fq_name: fqName,
          parent_type: 'domain',
          annotations: { key_value_pair: [{ key: OWNER_ANNOTATION, value: 'namespace' }] },
        });
      } catch (error) {
        // Made meanwhile by another worker: what was wanted.
        if (!(error instanceof ConfigApiError && error.status === 409)) throw error;
      }
    }
    this.#known.add(key);
    return fqName;
  }

  async reconcile(namespace: string): Promise<void> {
    if (this.namespaceExists(namespace)) {
      await this.ensure(namespace);
      return;
    }
    if (this.mode === 'cluster') return;
    const fqName = this.projectOf(namespace);
    this.#known.delete(fqName.join(':'));
    const project = await this.config.readByName('project', fqName);
    if (!project || keyValueOf(project.annotations as never, OWNER_ANNOTATION) === undefined) return;
    // The security groups the manager made in it (NetworkPolicy's allow-all groups outlive the
    // policies); 409 while an interface still uses one, or while the namespace's pods are still
    // being removed: the queue retries.
    for (const group of await this.config.list('security-group')) {
      const inProject = group.fq_name.slice(0, -1).join(':') === fqName.join(':');
      if (inProject && keyValueOf(group.annotations as never, OWNER_ANNOTATION) !== undefined) {
        await this.config.remove('security-group', group.uuid);
      }
    }
    await this.config.remove('project', project.uuid);
  }

  /** Forgets that a project exists (after a failure that may mean it does not). */
  forget(namespace: string): void {
    this.#known.delete(this.projectOf(namespace).join(':'));
  }
}
