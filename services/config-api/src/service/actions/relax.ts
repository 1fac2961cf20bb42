// POST /ref-relax-for-delete: a reference that no longer keeps its target from being deleted.
// Deleting the target then removes the reference from its holder, as Tungsten Fabric does (the
// neutron plugin relaxes, for example, the references of a router to its ports). A relaxation is
// kept as a reservation in the scope of the target, held by the referring object: it goes away
// with the reference, with the referrer, or with the target.

import { fieldOf } from '@weft/model';
import { errors, invalid } from '../../errors.js';
import type { ConfigService } from '../config-service.js';

export const relaxedScope = (targetUuid: string) => `relaxed-ref:${targetUuid}`;

export function relaxForDelete(service: ConfigService, uuid: string, refUuid: string): Promise<{ uuid: string }> {
  const holder = uuid.toLowerCase();
  const target = refUuid.toLowerCase();
  return service.transact((tx) => {
    const object = tx.get(holder);
    if (!object) throw errors.NOT_FOUND({ type: 'object', uuid });
    const referred = tx.get(target);
    if (!referred) throw errors.NOT_FOUND({ type: 'object', uuid: refUuid });
    const refs = object.body[`${fieldOf(referred.type)}_refs`] as { uuid: string }[] | undefined;
    if (!refs?.some((ref) => ref.uuid === target)) {
      throw invalid('ref-uuid', `${object.type} ${uuid} has no reference to ${referred.type} ${refUuid}`);
    }
    tx.release(relaxedScope(target), holder);
    tx.reserve(relaxedScope(target), holder, holder);
    return { uuid: object.uuid };
  });
}
