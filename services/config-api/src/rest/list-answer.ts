// The VNC API's list answer, for GET /<type>s and POST /list-bulk-collection: entries, whole
// objects (detail) or a count, and the page marker when pages were asked for.
import type { Scope } from '../auth/tenancy.js';
import type { ConfigService } from '../service/config-service.js';
import { parseListParams } from './query.js';

type Body = Record<string, unknown>;

export function listAnswer(service: ConfigService, typeName: string, options: Body, base: string, scope?: Scope): Body {
  const params = parseListParams(typeName, options);
  const type = service.typeOf(typeName);
  const result = service.list(params, base, scope);
  const paged = params.pageLimit !== undefined || params.pageMarker !== undefined;
  if (result.count !== undefined) {
    return { [type.plural]: { count: result.count }, ...(paged ? { marker: result.nextMarker ?? null } : {}) };
  }
  return {
    [type.plural]: params.detail ? result.rendered.map((object) => ({ [type.type]: object })) : result.rendered,
    ...(paged ? { marker: result.nextMarker ?? null } : {}),
  };
}
