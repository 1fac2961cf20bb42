// POST /chown, POST /chmod and GET /obj-perms: an object's ownership and sharing (perms2) as
// Tungsten Fabric's API server keeps them. A tenant changes the sharing of what he may change
// (chown is the cloud-admin's); obj-perms answers the caller's permissions on an object (with
// authentication off, as TF does: every permission, no token).

import { type ResourceType, UUID_PATTERN } from '@weft/model';
import type { Scope } from '../../auth/tenancy.js';
import { errors, invalid } from '../../errors.js';
import type { ConfigService } from '../config-service.js';

type Body = Record<string, unknown>;

/** TF accepts uuids with or without dashes wherever an owner or tenant is given. */
const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const ACCESS = (value: unknown) => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 7;

function objectUuid(request: Body): string {
  const uuid = request.uuid;
  if (typeof uuid !== 'string') throw invalid('uuid', 'is required: the object whose permissions change');
  if (!new RegExp(UUID_PATTERN).test(uuid)) throw invalid('uuid', `${JSON.stringify(uuid)} is not a uuid`);
  return uuid.toLowerCase();
}

function changePerms(
  service: ConfigService,
  uuid: string,
  change: (perms2: Body, type: ResourceType) => Body,
  scope?: Scope,
) {
  return service.transact((tx): Body => {
    const object = tx.get(uuid);
    if (!object) throw errors.NOT_FOUND({ type: 'object', uuid });
    scope?.at(tx).mustWrite(object);
    const type = service.typeOf(object.type);
    const patch = change({ ...(object.body.perms2 as Body) }, type);
    service.updateInTx(tx, object.type, uuid, service.validate(type, patch));
    return {};
  });
}

export function chown(service: ConfigService, request: Body): Promise<Body> {
  const uuid = objectUuid(request);
  const owner = request.owner;
  if (typeof owner !== 'string') throw invalid('owner', 'is required: the new owner (a project uuid)');
  if (!UUID.test(owner)) throw invalid('owner', `${JSON.stringify(owner)} is not a uuid`);
  return changePerms(service, uuid, (perms2) => ({ perms2: { ...perms2, owner } }));
}

export function chmod(service: ConfigService, request: Body, scope?: Scope): Promise<Body> {
  const uuid = objectUuid(request);
  const { owner, owner_access: ownerAccess, share, global_access: globalAccess } = request;
  if (scope && !scope.unrestricted && owner !== undefined && owner !== null) {
    throw errors.FORBIDDEN({ user: scope.identity.user, action: 'give an object to another owner (cloud-admin only)' });
  }
  if (owner !== undefined && owner !== null && (typeof owner !== 'string' || !UUID.test(owner))) {
    throw invalid('owner', `${JSON.stringify(owner)} is not a uuid`);
  }
  if (ownerAccess !== undefined && ownerAccess !== null && !ACCESS(ownerAccess)) {
    throw invalid('owner_access', 'is a permission from 0 to 7');
  }
  if (globalAccess !== undefined && globalAccess !== null && !ACCESS(globalAccess)) {
    throw invalid('global_access', 'is a permission from 0 to 7');
  }
  if (share !== undefined && share !== null) {
    if (!Array.isArray(share)) throw invalid('share', 'is a list of {tenant, tenant_access}');
    share.forEach((item: { tenant?: unknown; tenant_access?: unknown }, index) => {
      const [kind, id] = String(item?.tenant ?? '').includes(':')
        ? String(item.tenant).split(':', 2)
        : ['tenant', String(item?.tenant ?? '')];
      if ((kind !== 'tenant' && kind !== 'domain') || !UUID.test(id ?? '')) {
        throw invalid(`share[${index}].tenant`, 'is [tenant:|domain:]<uuid>');
      }
      if (!ACCESS(item.tenant_access)) throw invalid(`share[${index}].tenant_access`, 'is a permission from 0 to 7');
    });
  }
  return changePerms(
    service,
    uuid,
    (perms2, type) => {
      if (typeof owner === 'string') perms2.owner = owner.replace(/-/g, '');
      if (typeof ownerAccess === 'number') perms2.owner_access = ownerAccess;
      if (Array.isArray(share)) perms2.share = share;
      const patch: Body = { perms2 };
      if (typeof globalAccess === 'number') {
        perms2.global_access = globalAccess;
        // TF keeps is_shared in step with global access on the types that have it.
        if (type.bodyFields.has('is_shared')) patch.is_shared = globalAccess !== 0;
      }
      return patch;
    },
    scope,
  );
}

/** GET /obj-perms: with authentication off, every permission; else the caller's on the object. */
export function objPerms(service: ConfigService, query: { uuid?: string }, scope?: Scope): Body {
  if (!scope)
    return { token_info: null, is_cloud_admin_role: false, is_global_read_only_role: false, permissions: 'RWX' };
  const { identity } = scope;
  const answer: Body = {
    token_info: {
      token: { user: { name: identity.user }, roles: [...identity.roles].map((name) => ({ name })) },
      projects: Object.fromEntries(identity.projects),
    },
    is_cloud_admin_role: scope.unrestricted,
    is_global_read_only_role: scope.readsEverything && !scope.unrestricted,
  };
  if (query.uuid === undefined) return answer;
  const object = service.store.get(query.uuid.toLowerCase());
  if (!object || !scope.canRead(object)) throw errors.NOT_FOUND({ type: 'object', uuid: query.uuid });
  const permissions = `R${scope.canWrite(object) ? 'W' : ''}${scope.canLink(object) ? 'X' : ''}`;
  return { ...answer, permissions };
}
