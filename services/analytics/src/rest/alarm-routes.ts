// /analytics/alarms (what is wrong now) and /analytics/alarm-stream (raise and clear events).
import type { FastifyInstance } from 'fastify';
import type { AlarmEngine, AlarmEvent } from '../alarms/alarm-engine.js';
import type { SseStream } from './sse.js';

export function registerAlarmRoutes(
  app: FastifyInstance,
  alarms: AlarmEngine,
  openStream: (request: never, reply: never) => SseStream,
): void {
  app.get<{ Querystring: { type?: string } }>('/analytics/alarms', async (request) => {
    const only = request.query.type;
    return { alarms: alarms.active().filter((alarm) => !only || alarm.type === only) };
  });

  // The active alarms come first as "raise" events, then every raise and clear.
  app.get('/analytics/alarm-stream', async (request, reply) => {
    const stream = openStream(request as never, reply as never);
    for (const alarm of alarms.active()) stream.send('raise', alarm);
    const listener = (event: AlarmEvent) =>
      stream.send(
        event.kind,
        event.kind === 'clear' ? { ...event.alarm, cleared_at_ms: event.cleared_at_ms } : event.alarm,
      );
    alarms.on('alarm', listener);
    stream.onClose(() => alarms.off('alarm', listener));
  });
}
