// Times in a query: a number (ms since the Unix epoch), an ISO 8601 date, or Tungsten Fabric's
// relative form "now", "now-10m", "now+1h" (units ms, s, m, h, d).
import { errors } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseTime(raw: unknown, field: string, now: number): number {
  if (raw === undefined) throw errors.INVALID_QUERY({ field, reason: 'is required' });
  if (typeof raw === 'number') {
    if (Number.isInteger(raw) && raw >= 0) return raw;
    throw errors.INVALID_QUERY({ field, reason: 'must be a whole number of ms since the Unix epoch' });
  }
  if (typeof raw === 'string') {
    const relative = /^\s*now\s*(?:([+-])\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d))?\s*$/i.exec(raw);
    if (relative) {
      if (!relative[1]) return now;
      const offset = Math.round(Number(relative[2]) * UNIT_MS[relative[3]!.toLowerCase()]!);
      return relative[1] === '-' ? now - offset : now + offset;
    }
    if (/^\d{4}-\d{2}-\d{2}/.test(raw)) {
      const parsed = Date.parse(raw);
      if (Number.isFinite(parsed)) return parsed;
    }
  }
  throw errors.INVALID_QUERY({
    field,
    reason: 'must be ms since the Unix epoch, an ISO 8601 date, or "now", "now-10m", "now+1h"',
  });
}
