// From the wire messages to table rows: one row per flow record, per log record, and per
// numeric top-level field of a UVE report. A row without a record_id gets one derived from
// its stream sequence, which is as stable across redeliveries as a sender's own id.
import type { FlowRecord__Output } from '@weft/proto/gen/weft/analytics/v1/FlowRecord.js';
import type { LogRecord__Output } from '@weft/proto/gen/weft/analytics/v1/LogRecord.js';
import type { Row } from './tables.js';

function lowerName(value: string, prefix: string): string {
  return value.startsWith(prefix) ? value.slice(prefix.length).toLowerCase() : value.toLowerCase();
}

export function flowRow(record: FlowRecord__Output, fallbackId: string): Row {
  return {
    T: record.last_seen_ms || record.first_seen_ms,
    first_seen_ms: record.first_seen_ms,
    record_id: record.record_id || fallbackId,
    source_ip: record.source_ip,
    destination_ip: record.destination_ip,
    protocol: record.protocol,
    source_port: record.source_port,
    destination_port: record.destination_port,
    source_virtual_network: record.source_virtual_network,
    destination_virtual_network: record.destination_virtual_network,
    source_interface: record.source_interface,
    destination_interface: record.destination_interface,
    host: record.host,
    action: lowerName(record.action, 'FLOW_ACTION_'),
    bytes: record.bytes,
    packets: record.packets,
  };
}

export function logRow(record: LogRecord__Output, fallbackId: string, receivedMs: number): Row {
  return {
    T: record.timestamp_ms || receivedMs,
    record_id: record.record_id || fallbackId,
    service: record.service,
    host: record.host,
    level: lowerName(record.level, 'LOG_LEVEL_'),
    message: record.message,
    fields: record.fields_json || '{}',
    event: record.event,
  };
}

/** One row per finite numeric (or boolean) top-level field of a UVE part. */
export function statRows(
  uve: { type: string; name: string; source: string },
  fields: Record<string, unknown>,
  time: number,
  idPrefix: string,
): Row[] {
  const rows: Row[] = [];
  for (const [field, value] of Object.entries(fields)) {
    const numeric = typeof value === 'boolean' ? Number(value) : value;
    if (typeof numeric !== 'number' || !Number.isFinite(numeric)) continue;
    rows.push({
      T: time,
      record_id: `${idPrefix}:${field}`,
      type: uve.type,
      name: uve.name,
      source: uve.source,
      field,
      value: numeric,
    });
  }
  return rows;
}
