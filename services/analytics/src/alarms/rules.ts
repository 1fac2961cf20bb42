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
  /** When a write last found the file system full (0: never). */
  lastFullMs?: number;
  /** Partitions dropped to make room on the full file system since analytics started. */
  droppedForRoom?: number;
  /** The entity analytics reports itself as. */
  type: string;
  name: string;
}

export const RULES = {
  processStoppedReporting: 'process-stopped-reporting',
  vrouterWithoutControl: 'vrouter-without-control-connection',
  configStoreUnreachable: 'config-store-unreachable',
  diskNearLimit: 'analytics-disk-near-limit',
  diskFull: 'analytics-disk-full',
  vrouterRefusedPortClaims: 'vrouter-refused-port-claims',
  flowRecordsDropped: 'flow-records-dropped',
  vrouterStateWriteFailed: 'vrouter-state-write-failed',
} as const;

/** How long a refused port claim keeps its vrouter's alarm raised. */
export const REFUSED_CLAIM_ALARM_MS = 15 * 60_000;

interface RefusedClaim {
  interface_uuid: string;
  reason: string;
  detail: string;
  at_ms: number;
}

/** The latest port claim control refused for this vrouter within the alarm's window, if any. */
function recentRefusedClaim(view: UveView, now: number): { claim: RefusedClaim; count: number } | undefined {
  let found: { claim: RefusedClaim; count: number } | undefined;
  for (const fields of freshParts(view, 'control')) {
    const claim = fields.last_refused_port_claim as RefusedClaim | null | undefined;
    if (!claim || typeof claim.at_ms !== 'number' || now - claim.at_ms > REFUSED_CLAIM_ALARM_MS) continue;
    if (!found || claim.at_ms > found.claim.at_ms) {
      found = { claim, count: Number(fields.refused_port_claims) || 1 };
    }
  }
  return found;
}

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

interface SourceReport {
  stale: string[];
  total: number;
  lastSeenMs: number;
}

/**
 * One alarm per source that stopped reporting, about the process itself ("<service>:<host>" →
 * type service, name host), not one per entity: a control that dies with 500 routing instances
 * is one thing wrong, not 500.
 */
function stoppedSources(sources: Map<string, SourceReport>, now: number): Alarm[] {
  const alarms: Alarm[] = [];
  for (const [source, report] of sources) {
    if (report.stale.length === 0) continue;
    const colon = source.indexOf(':');
    const seconds = Math.round((now - report.lastSeenMs) / 1000);
    const shown = report.stale.slice(0, 3).join(', ') + (report.stale.length > 3 ? ', …' : '');
    alarms.push(
      alarm({
        rule: RULES.processStoppedReporting,
        severity: 'major',
        type: colon > 0 ? source.slice(0, colon) : source,
        name: colon > 0 ? source.slice(colon + 1) : source,
        source,
        description: `${source} stopped reporting ${report.stale.length} of its ${report.total} UVEs (${shown}); last report ${seconds} s ago`,
      }),
    );
  }
  return alarms;
}

/** How long after the file system was last found full its alarm stays raised. */
export const DISK_FULL_ALARM_MS = 5 * 60_000;

export function evaluateRules(views: Iterable<UveView>, disk: DiskUse, now: number): Alarm[] {
  const alarms: Alarm[] = [];
  const sources = new Map<string, SourceReport>();
  for (const view of views) {
    for (const source of view.sources) {
      const report = sources.get(source.source) ?? { stale: [], total: 0, lastSeenMs: 0 };
      sources.set(source.source, report);
      report.total += 1;
      report.lastSeenMs = Math.max(report.lastSeenMs, source.last_seen_ms);
      if (source.stale) report.stale.push(`${view.type} ${view.name}`);
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
    const refused = view.type === 'vrouter' ? recentRefusedClaim(view, now) : undefined;
    if (refused) {
      alarms.push(
        alarm({
          rule: RULES.vrouterRefusedPortClaims,
          severity: 'major',
          type: view.type,
          name: view.name,
          description: `vrouter ${view.name} claimed a port config does not give it (${refused.count} refused; last: interface ${refused.claim.interface_uuid}, ${refused.claim.detail})`,
        }),
      );
    }
    const dropping = fresh.find((fields) => fields.flow_export_dropping === true);
    if (view.type === 'vrouter' && dropping) {
      alarms.push(
        alarm({
          rule: RULES.flowRecordsDropped,
          severity: 'major',
          type: view.type,
          name: view.name,
          description: `vrouter ${view.name} dropped flow records while NATS was away (${dropping.flow_records_dropped ?? 'some'} since it started): flow queries miss them`,
        }),
      );
    }
    const writeError = fresh.find((fields) => typeof fields.state_write_error === 'string' && fields.state_write_error);
    if (view.type === 'vrouter' && writeError) {
      alarms.push(
        alarm({
          rule: RULES.vrouterStateWriteFailed,
          severity: 'major',
          type: view.type,
          name: view.name,
          description: `vrouter ${view.name} cannot write its state directory (${String(writeError.state_write_error)}): new pods are refused until there is room`,
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
  alarms.push(...stoppedSources(sources, now));
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
  if (disk.lastFullMs && now - disk.lastFullMs < DISK_FULL_ALARM_MS) {
    alarms.push(
      alarm({
        rule: RULES.diskFull,
        severity: 'critical',
        type: disk.type,
        name: disk.name,
        description: `analytics' file system is full: ${disk.droppedForRoom ?? 0} of the oldest partitions dropped to keep taking new records (last full ${new Date(disk.lastFullMs).toISOString()})`,
      }),
    );
  }
  return alarms;
}
