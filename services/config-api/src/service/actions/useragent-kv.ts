// POST /useragent-kv: the small key-value store Tungsten Fabric keeps for its clients (the
// neutron plugin keeps port bindings there). STORE, RETRIEVE (every entry when the key is null)
// and DELETE. Entries are reservations in one scope of the store, the key as the value held and
// the stored JSON as its holder, so they live in the same transactions and backends as
// everything else; a prefix keeps a stored value from ever looking like the uuid of an object.
import { errors, invalid } from '../../errors.js';
import type { ConfigService } from '../config-service.js';

type Body = Record<string, unknown>;

const SCOPE = 'useragent-kv';
const HOLDER = 'useragent-kv:';

const decode = (holder: string): unknown => JSON.parse(holder.slice(HOLDER.length));

export async function userAgentKv(service: ConfigService, request: Body): Promise<Body> {
  const { operation } = request;
  if (typeof operation !== 'string') throw invalid('operation', 'is required: STORE, RETRIEVE or DELETE');
  if (!('key' in request)) throw invalid('key', 'is required');
  const key = request.key;
  if (key !== null && typeof key !== 'string')
    throw invalid('key', 'must be a string, or null to retrieve every entry');
  switch (operation.toUpperCase()) {
    case 'STORE': {
      if (key === null) throw invalid('key', 'is required to store a value');
      const holder = `${HOLDER}${JSON.stringify(request.value ?? '')}`;
      await service.transact((tx) => {
        tx.release(SCOPE, key);
        tx.reserve(SCOPE, key, holder);
      });
      return {};
    }
    case 'RETRIEVE': {
      if (key === null) {
        return {
          value: service.store.reservations(SCOPE).map((entry) => ({ key: entry.value, value: decode(entry.owner) })),
        };
      }
      const holder = service.store.reservationOwner(SCOPE, key);
      if (holder === undefined) throw errors.KEY_NOT_FOUND({ key });
      return { value: decode(holder) };
    }
    case 'DELETE': {
      if (key === null) throw invalid('key', 'is required to delete a value');
      await service.transact((tx) => tx.release(SCOPE, key));
      return {};
    }
    default:
      throw invalid('operation', `${JSON.stringify(operation)} is none of STORE, RETRIEVE, DELETE`);
  }
}
