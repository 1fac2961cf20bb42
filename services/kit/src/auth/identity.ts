// Who a request comes from, once its token is verified: a user, global roles and a role per
// project. Project keys are fq_name strings ("default-domain:blue"); config-api resolves them.

/** Roles over every project: cloud-admin may do anything, reader may read everything. */
export type GlobalRole = 'cloud-admin' | 'reader';
/** Roles in one project: member reads and writes its objects, reader only reads them. */
export type ProjectRole = 'member' | 'reader';

export const GLOBAL_ROLES: readonly GlobalRole[] = ['cloud-admin', 'reader'];
export const PROJECT_ROLES: readonly ProjectRole[] = ['member', 'reader'];

export interface Identity {
  user: string;
  roles: ReadonlySet<GlobalRole>;
  projects: ReadonlyMap<string, ProjectRole>;
  /** How it was proven: a token of the tokens file, a JWT, or nothing (no-auth). */
  via: 'tokens-file' | 'jwt' | 'no-auth';
  /** A stable key for the token (a hash, never the token), for rate limits and audit. */
  key: string;
}

export const isCloudAdmin = (identity: Identity) => identity.roles.has('cloud-admin');
/** Reads everything: a cloud-admin or a global reader. */
export const readsAll = (identity: Identity) => identity.roles.has('cloud-admin') || identity.roles.has('reader');

/** The identity every request has in no-auth mode. */
export const NO_AUTH_IDENTITY: Identity = {
  user: 'anonymous',
  roles: new Set<GlobalRole>(['cloud-admin']),
  projects: new Map(),
  via: 'no-auth',
  key: 'no-auth',
};

/**
 * Reads the roles and projects of a token's description (a tokens file entry or a JWT's
 * claims); `where` names the place for errors.
 */
export function rolesOf(
  claims: { roles?: unknown; projects?: unknown },
  where: string,
): { roles: Set<GlobalRole>; projects: Map<string, ProjectRole> } {
  const roles = new Set<GlobalRole>();
  if (claims.roles !== undefined) {
    if (!Array.isArray(claims.roles)) throw new Error(`${where}.roles: is a list of ${GLOBAL_ROLES.join(', ')}`);
    for (const [index, role] of claims.roles.entries()) {
      if (!GLOBAL_ROLES.includes(role))
        throw new Error(`${where}.roles[${index}]: is one of ${GLOBAL_ROLES.join(', ')}`);
      roles.add(role);
    }
  }
  const projects = new Map<string, ProjectRole>();
  if (claims.projects !== undefined) {
    if (typeof claims.projects !== 'object' || claims.projects === null || Array.isArray(claims.projects)) {
      throw new Error(`${where}.projects: is an object of project fq_name ("domain:project") to role`);
    }
    for (const [project, role] of Object.entries(claims.projects)) {
      if (!/^[^:]+:[^:]+$/.test(project))
        throw new Error(`${where}.projects: ${JSON.stringify(project)} is not domain:project`);
      if (!PROJECT_ROLES.includes(role as ProjectRole)) {
        throw new Error(`${where}.projects.${project}: is one of ${PROJECT_ROLES.join(', ')}`);
      }
      projects.set(project, role as ProjectRole);
    }
  }
  return { roles, projects };
}
