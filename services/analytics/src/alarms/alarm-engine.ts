// Keeps the set of active alarms: re-evaluates the rules when a UVE changes or on a tick, and
// announces each alarm once when raised and once when cleared, for /analytics/alarm-stream.
import { EventEmitter } from 'node:events';
import type { Gauge } from '@weft/kit';
import type { UveState } from '../uve/uve-state.js';
import { type Alarm, type DiskUse, evaluateRules } from './rules.js';

export interface ActiveAlarm extends Alarm {
  raised_at_ms: number;
}

export type AlarmEvent =
  | { kind: 'raise'; alarm: ActiveAlarm }
  | { kind: 'clear'; alarm: ActiveAlarm; cleared_at_ms: number };

export class AlarmEngine extends EventEmitter<{ alarm: [AlarmEvent] }> {
  readonly #active = new Map<string, ActiveAlarm>();

  constructor(
    private readonly uves: UveState,
    private readonly disk: () => DiskUse,
    private readonly gauge?: Gauge<'rule'>,
  ) {
    super();
  }

  active(): ActiveAlarm[] {
    return [...this.#active.values()].sort((a, b) => a.raised_at_ms - b.raised_at_ms || a.id.localeCompare(b.id));
  }

  evaluate(now = Date.now()): void {
    const holding = new Map(evaluateRules(this.uves.views(now), this.disk(), now).map((a) => [a.id, a]));
    for (const [id, alarm] of this.#active) {
      if (holding.has(id)) continue;
      this.#active.delete(id);
      this.emit('alarm', { kind: 'clear', alarm, cleared_at_ms: now });
    }
    for (const [id, alarm] of holding) {
      const existing = this.#active.get(id);
      if (existing) {
        // Keep the description current (ages, sizes), not the raise time.
        existing.description = alarm.description;
        continue;
      }
      const active = { ...alarm, raised_at_ms: now };
      this.#active.set(id, active);
      this.emit('alarm', { kind: 'raise', alarm: active });
    }
    if (this.gauge) {
      this.gauge.reset();
      for (const alarm of this.#active.values()) this.gauge.inc({ rule: alarm.rule });
    }
  }
}
