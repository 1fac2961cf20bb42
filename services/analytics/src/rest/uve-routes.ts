// Tungsten Fabric's UVE paths: /analytics/uves (the types), /analytics/uves/<type>s (the
// entities of a type), /analytics/uves/<type>/<name> (one merged entity), /analytics/uve-types,
// /analytics/uve-stream (server-sent events). Filters as Tungsten Fabric's: cfilt picks fields,
// kfilt picks names (with * wildcards), sfilt picks one source's part. A tenant sees his
// entities only (./tenancy.ts): another's answers 404 and is absent from every list and stream.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AlarmEngine } from '../alarms/alarm-engine.js';
import { errors } from '../errors.js';
import type { UveState, UveView } from '../uve/uve-state.js';
import type { SseStream } from './sse.js';
import { TenantScope } from './tenancy.js';

/** cfilt=a,b keeps only those fields of the merged value (and of each part). */
function applyCfilt(view: UveView, cfilt: string | undefined): UveView {
  if (!cfilt) return view;
  const keep = new Set(
    cfilt
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean),
  );
  const pick = (fields: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(fields).filter(([k]) => keep.has(k)));
  return {
    ...view,
    value: pick(view.value),
    parts: Object.fromEntries(Object.entries(view.parts).map(([source, fields]) => [source, pick(fields)])),
  };
}

/** sfilt=<source> narrows the view to that source's part; undefined when it has none. */
function applySfilt(view: UveView, sfilt: string | undefined): UveView | undefined {
  if (!sfilt) return view;
  const fields = view.parts[sfilt];
  const source = view.sources.find((s) => s.source === sfilt);
  if (!fields || !source) return undefined;
  return { ...view, value: fields, parts: { [sfilt]: fields }, sources: [source], stale: source.stale };
}

/** kfilt=host-*,ctl-1: names matching any pattern, * standing for any text. */
function kfiltMatcher(kfilt: string | undefined): (name: string) => boolean {
  if (!kfilt) return () => true;
  const patterns = kfilt
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map(
      (p) =>
        new RegExp(
          `^${p
            .split('*')
            .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
        ),
    );
  return (name) => patterns.some((pattern) => pattern.test(name));
}

interface UveFilters {
  cfilt?: string;
  kfilt?: string;
  sfilt?: string;
  flat?: string;
}

const href = (base: string, ...parts: string[]) => `${base}/${parts.map(encodeURIComponent).join('/')}`;

/** Whether the caller of `request` may see an entity. */
function uvesSeenBy(request: FastifyRequest): (type: string, name: string) => boolean {
  const tenant = TenantScope.of(request.identity);
  return (type, name) => !tenant || tenant.seesUve(type, name);
}

export function registerUveRoutes(
  app: FastifyInstance,
  uves: UveState,
  alarms: AlarmEngine,
  openStream: (request: never, reply: never) => SseStream,
): void {
  // As Tungsten Fabric's UVEAlarms: an entity shows the alarms about it and about the sources
  // that report it; a tenant's shows those about it only, not those of the system's sources.
  const withAlarms = (view: UveView, seen: (type: string, name: string) => boolean) => {
    const sources = new Set(view.sources.map((s) => s.source));
    const about = alarms
      .active()
      .filter((a) => (a.type === view.type && a.name === view.name) || (a.source && sources.has(a.source)))
      .filter((a) => seen(a.type, a.name));
    return { ...view, alarms: about };
  };

  /** Each type with the number of its entities the caller sees; a tenant's leaves out types he sees none of. */
  const typesSeenBy = (request: FastifyRequest): [string, number][] => {
    const tenant = TenantScope.of(request.identity);
    const types = [...uves.types()].sort();
    if (!tenant) return types;
    return types
      .map(([type]): [string, number] => [type, uves.names(type).filter((name) => tenant.seesUve(type, name)).length])
      .filter(([, count]) => count > 0);
  };

  app.get('/analytics/uves', async (request) =>
    typesSeenBy(request).map(([type]) => ({ name: `${type}s`, href: href('/analytics/uves', `${type}s`) })),
  );

  app.get('/analytics/uve-types', async (request) =>
    Object.fromEntries(typesSeenBy(request).map(([type, count]) => [type, { count }])),
  );

  app.get<{ Params: { plural: string }; Querystring: UveFilters }>('/analytics/uves/:plural', async (request) => {
    const { cfilt, kfilt, sfilt, flat } = request.query;
    const type = request.params.plural.replace(/s$/, '');
    const now = Date.now();
    const seen = uvesSeenBy(request);
    const views = uves
      .names(type)
      .filter((name) => seen(type, name))
      .filter(kfiltMatcher(kfilt))
      .map((name) => applySfilt(uves.view(type, name, now)!, sfilt))
      .filter((view): view is UveView => view !== undefined);
    if (flat !== undefined || cfilt !== undefined || sfilt !== undefined)
      return views.map((view) => applyCfilt(view, cfilt));
    return views.map((view) => ({
      name: view.name,
      href: href('/analytics/uves', type, view.name),
      stale: view.stale,
    }));
  });

  app.get<{ Params: { type: string; name: string }; Querystring: UveFilters }>(
    '/analytics/uves/:type/:name',
    async (request) => {
      const { type, name } = request.params;
      const seen = uvesSeenBy(request);
      // Another tenant's entity is answered as one that does not exist.
      const view = seen(type, name) ? uves.view(type, name) : undefined;
      const filtered = view && applySfilt(view, request.query.sfilt);
      if (!filtered)
        throw errors.NO_SUCH_UVE({ type, name: request.query.sfilt ? `${name} from ${request.query.sfilt}` : name });
      return withAlarms(applyCfilt(filtered, request.query.cfilt), seen);
    },
  );

  // ?tablefilt=<type> (Tungsten Fabric's name) or ?type=<type> keeps one type. The current
  // state comes first, then every change; an entity that is gone comes with value null.
  app.get<{ Querystring: { tablefilt?: string; type?: string; cfilt?: string } }>(
    '/analytics/uve-stream',
    async (request, reply) => {
      const only = request.query.tablefilt ?? request.query.type;
      const seen = uvesSeenBy(request);
      const stream = openStream(request as never, reply as never);
      const send = (type: string, name: string) => {
        if ((only && type !== only) || !seen(type, name)) return;
        const view = uves.view(type, name);
        stream.send('update', view ? applyCfilt(view, request.query.cfilt) : { type, name, value: null });
      };
      for (const view of uves.views()) send(view.type, view.name);
      const listener = ({ type, name }: { type: string; name: string }) => send(type, name);
      uves.on('change', listener);
      stream.onClose(() => uves.off('change', listener));
    },
  );
}
