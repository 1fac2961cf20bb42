// /analytics/alarms (what is wrong now) and /analytics/alarm-stream (raise and clear events); a
// tenant gets the alarms about his entities only.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AlarmEngine, AlarmEvent } from '../alarms/alarm-engine.js';
import type { Alarm } from '../alarms/rules.js';
import type { SseStream } from './sse.js';
import { TenantScope } from './tenancy.js';

/** Whether the caller of `request` may see an alarm. */
function alarmsSeenBy(request: FastifyRequest): (alarm: Alarm) => boolean {
  const tenant = TenantScope.of(request.identity);
  return (alarm) => !tenant || tenant.seesAlarm(alarm);
}

export function registerAlarmRoutes(
  app: FastifyInstance,
  alarms: AlarmEngine,
  openStream: (request: never, reply: never) => SseStream,
): void {
  app.get<{ Querystring: { type?: string } }>('/analytics/alarms', async (request) => {
    const only = request.query.type;
    const seen = alarmsSeenBy(request);
    return { alarms: alarms.active().filter((alarm) => (!only || alarm.type === only) && seen(alarm)) };
  });

  // The active alarms come first as "raise" events, then every raise and clear.
  app.get('/analytics/alarm-stream', async (request, reply) => {
    const seen = alarmsSeenBy(request);
    const stream = openStream(request as never, reply as never);
    for (const alarm of alarms.active()) if (seen(alarm)) stream.send('raise', alarm);
    const listener = (event: AlarmEvent) => {
      if (!seen(event.alarm)) return;
      stream.send(
        event.kind,
        event.kind === 'clear' ? { ...event.alarm, cleared_at_ms: event.cleared_at_ms } : event.alarm,
      );
    };
    alarms.on('alarm', listener);
    stream.onClose(() => alarms.off('alarm', listener));
  });
}
