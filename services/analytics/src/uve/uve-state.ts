// The merged view of every UVE: each source's part of an entity, kept as last reported, merged
// per entity the way Tungsten Fabric does (one value per field; where sources disagree, every
// value with its source). A part whose source has not reported within its ttl is stale: it stays
// visible, marked, and drops out of the merged value while any fresh part remains.
import { EventEmitter } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import type { UvePartKey, UvePartRecord } from '../store/store.js';

export interface UveSourceView {
  source: string;
  stale: boolean;
  last_seen_ms: number;
  timestamp_ms: number;
  ttl_ms: number;
}

export interface UveView {
  type: string;
  name: string;
  /** Every field of the fresh parts (of all parts when none is fresh). */
  value: Record<string, unknown>;
  /** Each source's own part. */
  parts: Record<string, Record<string, unknown>>;
  sources: UveSourceView[];
  /** True when no source reports the entity any more. */
  stale: boolean;
}

/** Emitted as 'change' whenever an entity's view may differ: a report, a removal, a part going stale. */
export interface UveChange {
  type: string;
  name: string;
}

interface Part extends UvePartRecord {
  fields: Record<string, unknown>;
  /** Staleness as last announced, to announce each transition once. */
  announcedStale: boolean;
}

export interface UveStateOptions {
  /** The ttl of parts that came with none. */
  defaultTtlMs: number;
  /** Stale parts older than this (past their ttl) are forgotten. */
  expiryMs: number;
}

const partKey = (key: UvePartKey) => `${key.source}`;
const entityKey = (type: string, name: string) => `${type}\u0000${name}`;

export class UveState extends EventEmitter<{ change: [UveChange] }> {
  /** type → name → source → part */
  readonly #types = new Map<string, Map<string, Map<string, Part>>>();

  constructor(readonly options: UveStateOptions) {
    super();
  }

  ttlOf(ttlMs: number): number {
    return ttlMs > 0 ? ttlMs : this.options.defaultTtlMs;
  }

  /** The part as stored now, to drop a report older than what is already known. */
  part(key: UvePartKey): UvePartRecord | undefined {
    return this.#types.get(key.type)?.get(key.name)?.get(partKey(key));
  }

  /** Takes committed changes in; announces each touched entity. */
  apply(upserts: UvePartRecord[], deletes: UvePartKey[], now = Date.now()): void {
    const touched = new Map<string, UveChange>();
    for (const record of upserts) {
      const names = this.#types.get(record.type) ?? new Map<string, Map<string, Part>>();
      this.#types.set(record.type, names);
      const parts = names.get(record.name) ?? new Map<string, Part>();
      names.set(record.name, parts);
      parts.set(partKey(record), {
        ...record,
        fields: parseFields(record.fields_json),
        announcedStale: this.#isStale(record, now),
      });
      touched.set(entityKey(record.type, record.name), { type: record.type, name: record.name });
    }
    for (const key of deletes) {
      const names = this.#types.get(key.type);
      const parts = names?.get(key.name);
      if (!parts?.delete(partKey(key))) continue;
      if (parts.size === 0) names!.delete(key.name);
      if (names!.size === 0) this.#types.delete(key.type);
      touched.set(entityKey(key.type, key.name), { type: key.type, name: key.name });
    }
    for (const change of touched.values()) this.emit('change', change);
  }

  /**
   * Announces parts that went stale since the last sweep and returns those past their expiry,
   * for the caller to delete from the store (and then apply()).
   */
  sweep(now = Date.now()): UvePartKey[] {
    const expired: UvePartKey[] = [];
    for (const [type, names] of this.#types) {
      for (const [name, parts] of names) {
        let changed = false;
        for (const part of parts.values()) {
          const stale = this.#isStale(part, now);
          if (stale !== part.announcedStale) {
            part.announcedStale = stale;
            changed = true;
          }
          if (now - part.last_seen_ms > this.ttlOf(part.ttl_ms) + this.options.expiryMs) {
            expired.push({ type, name, source: part.source });
          }
        }
        if (changed) this.emit('change', { type, name });
      }
    }
    return expired;
  }

  #isStale(part: UvePartRecord, now: number): boolean {
    return now - part.last_seen_ms > this.ttlOf(part.ttl_ms);
  }

  /** Types with how many entities each has. */
  types(): Map<string, number> {
    return new Map([...this.#types].map(([type, names]) => [type, names.size]));
  }

  names(type: string): string[] {
    return [...(this.#types.get(type)?.keys() ?? [])].sort();
  }

  view(type: string, name: string, now = Date.now()): UveView | undefined {
    const parts = this.#types.get(type)?.get(name);
    if (!parts || parts.size === 0) return undefined;
    const ordered = [...parts.values()].sort((a, b) => a.source.localeCompare(b.source));
    const sources = ordered.map((part) => ({
      source: part.source,
      stale: this.#isStale(part, now),
      last_seen_ms: part.last_seen_ms,
      timestamp_ms: part.timestamp_ms,
      ttl_ms: this.ttlOf(part.ttl_ms),
    }));
    const fresh = ordered.filter((_, index) => !sources[index]!.stale);
    return {
      type,
      name,
      value: mergeParts(fresh.length > 0 ? fresh : ordered),
      parts: Object.fromEntries(ordered.map((part) => [part.source, part.fields])),
      sources,
      stale: fresh.length === 0,
    };
  }

  /** Every entity's view, for alarms and streams. */
  *views(now = Date.now()): Generator<UveView> {
    for (const [type, names] of this.#types) {
      for (const name of names.keys()) {
        const view = this.view(type, name, now);
        if (view) yield view;
      }
    }
  }
}

/** One value per field; a field the sources disagree on becomes [{source, value}, …]. */
export function mergeParts(parts: { source: string; fields: Record<string, unknown> }[]): Record<string, unknown> {
  const byField = new Map<string, { source: string; value: unknown }[]>();
  for (const part of parts) {
    for (const [field, value] of Object.entries(part.fields)) {
      const values = byField.get(field) ?? [];
      byField.set(field, values);
      values.push({ source: part.source, value });
    }
  }
  const merged: Record<string, unknown> = {};
  for (const [field, values] of byField) {
    const agreed = values.every((entry) => isDeepStrictEqual(entry.value, values[0]!.value));
    merged[field] = agreed ? values[0]!.value : values;
  }
  return merged;
}

function parseFields(json: string): Record<string, unknown> {
  try {
    const value = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : { value };
  } catch {
    return { unparsed: json };
  }
}
