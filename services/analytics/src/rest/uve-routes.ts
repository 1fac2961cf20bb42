// Tungsten Fabric's UVE paths: /analytics/uves (the types), /analytics/uves/<type>s (the
// entities of a type), /analytics/uves/<type>/<name> (one merged entity, cfilt to pick fields),
// /analytics/uve-types, /analytics/uve-stream (server-sent events).
import type { FastifyInstance } from 'fastify';
import { errors } from '../errors.js';
import type { UveState, UveView } from '../uve/uve-state.js';
import type { SseStream } from './sse.js';

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

const href = (base: string, ...parts: string[]) => `${base}/${parts.map(encodeURIComponent).join('/')}`;

export function registerUveRoutes(
  app: FastifyInstance,
  uves: UveState,
  openStream: (request: never, reply: never) => SseStream,
): void {
  app.get('/analytics/uves', async () =>
    [...uves.types()].sort().map(([type]) => ({ name: `${type}s`, href: href('/analytics/uves', `${type}s`) })),
  );

  app.get('/analytics/uve-types', async () =>
    Object.fromEntries([...uves.types()].sort().map(([type, count]) => [type, { count }])),
  );

  app.get<{ Params: { plural: string }; Querystring: { cfilt?: string; flat?: string } }>(
    '/analytics/uves/:plural',
    async (request) => {
      const type = request.params.plural.replace(/s$/, '');
      const names = uves.names(type);
      const now = Date.now();
      if (request.query.flat !== undefined || request.query.cfilt !== undefined) {
        return names.map((name) => applyCfilt(uves.view(type, name, now)!, request.query.cfilt));
      }
      return names.map((name) => ({
        name,
        href: href('/analytics/uves', type, name),
        stale: uves.view(type, name, now)?.stale ?? true,
      }));
    },
  );

  app.get<{ Params: { type: string; name: string }; Querystring: { cfilt?: string } }>(
    '/analytics/uves/:type/:name',
    async (request) => {
      const { type, name } = request.params;
      const view = uves.view(type, name);
      if (!view) throw errors.NO_SUCH_UVE({ type, name });
      return applyCfilt(view, request.query.cfilt);
    },
  );

  // ?tablefilt=<type> (Tungsten Fabric's name) or ?type=<type> keeps one type. The current
  // state comes first, then every change; an entity that is gone comes with value null.
  app.get<{ Querystring: { tablefilt?: string; type?: string; cfilt?: string } }>(
    '/analytics/uve-stream',
    async (request, reply) => {
      const only = request.query.tablefilt ?? request.query.type;
      const stream = openStream(request as never, reply as never);
      const send = (type: string, name: string) => {
        if (only && type !== only) return;
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
