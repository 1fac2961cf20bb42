// The built-in alarm rules. Each reads the merged UVEs (and the store's disk use) and says
// which alarms hold now; the alarm engine turns that into raise and clear events.
// The fields they read are the ones kit's uve.ts documents for publishers.
import type { UveView } from '../uve/uve-state.js';

export type Severity = 'critical' | 'major' | 'minor';

export interface Alarm {
  /** Stable id: rule, entity, and the source where one source is at fault. */
  id: string;
  rule: string;
  severity: Severity;
  /** The entity the alarm is about. */
  type: string;
  name: string;
  description: string;
  source?: string;
}

export interface DiskUse {
  sizeBytes: number;
  maxBytes: number;
  /** Share of maxBytes above which "disk near its limit" is raised. */
  alarmRatio: number;
  /** The entity analytics reports itself as. */
  type: string;
  name: string;
}

export const RULES = {
  processStoppedReporting: 'process-stopped-reporting',
  vrouterWithoutControl: 'vrouter-without-control-connection',
  configStoreUnreachable: 'config-store-unreachable',
  diskNearLimit: 'analytics-disk-near-limit',
} as const;

function alarm(fields: Omit<Alarm, 'id'>): Alarm {
  const id = [fields.rule, fields.type, fields.name, fields.source ?? ''].join('|');
  return { id, ...fields };
}

/** Fresh parts' fields only: a stale part's last word is not current truth. */
function freshParts(view: UveView, service?: string): Record<string, unknown>[] {
  return view.sources
    .filter((s) => !s.stale && (!service || s.source.startsWith(`${service}:`)))
    .map((s) => view.parts[s.source] ?? {});
}

/**
 * Whether a vrouter has a control connection. The agent knows best: while its own part is
 * fresh, that decides; without it, any fresh part (control's) saying so is enough.
 */
function vrouterConnected(view: UveView): boolean {
  const agent = freshParts(view, 'vrouter-agent');
  const deciding = agent.length > 0 ? agent : freshParts(view);
  return deciding.some((fields) => fields.control_connected === true);
}

export function evaluateRules(views: Iterable<UveView>, disk: DiskUse, now: number): Alarm[] {
  const alarms: Alarm[] = [];
  for (const view of views) {
    for (const source of view.sources) {
      if (!source.stale) continue;
      const seconds = Math.round((now - source.last_seen_ms) / 1000);
      alarms.push(
        alarm({
          rule: RULES.processStoppedReporting,
          severity: 'major',
          type: view.type,
          name: view.name,
          source: source.source,
          description: `${source.source} stopped reporting ${view.type} ${view.name}: last report ${seconds} s ago, ttl ${source.ttl_ms} ms`,
        }),
      );
    }
    const fresh = freshParts(view);
    if (view.type === 'vrouter' && fresh.length > 0 && !vrouterConnected(view)) {
      alarms.push(
        alarm({
          rule: RULES.vrouterWithoutControl,
          severity: 'critical',
          type: view.type,
          name: view.name,
          description: `vrouter ${view.name} has no control connection: it gets no new config or routes`,
        }),
      );
    }
    if (view.type === 'config-api' && fresh.some((fields) => fields.store_reachable === false)) {
      alarms.push(
        alarm({
          rule: RULES.configStoreUnreachable,
          severity: 'critical',
          type: view.type,
          name: view.name,
          description: `config-api ${view.name} cannot reach its config store: changes are refused`,
        }),
      );
    }
  }
  if (disk.sizeBytes > disk.maxBytes * disk.alarmRatio) {
    alarms.push(
      alarm({
        rule: RULES.diskNearLimit,
        severity: 'major',
        type: disk.type,
        name: disk.name,
        description: `analytics store uses ${disk.sizeBytes} of ${disk.maxBytes} bytes (over ${Math.round(disk.alarmRatio * 100)}%)`,
      }),
    );
  }
  return alarms;
}
