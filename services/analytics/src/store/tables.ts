// The queryable tables, defined once: the store creates its partitions from these columns, the
// query validator accepts only these names, and GET /analytics/table/<name>/schema shows them.
// Names follow Tungsten Fabric's tables (FlowRecordTable, MessageTable, StatTable.*); columns
// follow the proto messages. Every table has T, the record's time in ms since the Unix epoch.
// A table gains columns and never loses or retypes one: partitions an older release wrote are
// given the new columns at start (sqlite-store.ts), so they stay readable.

export type ColumnType = 'int' | 'string' | 'double';

export interface Column {
  name: string;
  datatype: ColumnType;
  /** Indexed in every partition, so a where on it is cheap. */
  index?: boolean;
  description: string;
}

/** Which partition family stores a table's rows. */
export type PartitionKind = 'flow' | 'log' | 'stat';

export interface TableDefinition {
  name: string;
  kind: PartitionKind;
  description: string;
  columns: Column[];
}

export const FLOW_TABLE: TableDefinition = {
  name: 'FlowRecordTable',
  kind: 'flow',
  description: 'flow records exported by the vrouter-agents',
  columns: [
    { name: 'T', datatype: 'int', index: true, description: 'when the flow was last seen (ms)' },
    { name: 'first_seen_ms', datatype: 'int', description: 'when the flow was first seen (ms)' },
    { name: 'record_id', datatype: 'string', description: 'unique id of the record' },
    { name: 'source_ip', datatype: 'string', description: 'source address' },
    { name: 'destination_ip', datatype: 'string', description: 'destination address' },
    { name: 'protocol', datatype: 'int', description: 'IP protocol number' },
    { name: 'source_port', datatype: 'int', description: 'source port' },
    { name: 'destination_port', datatype: 'int', description: 'destination port' },
    { name: 'source_virtual_network', datatype: 'string', description: 'source virtual network fq_name' },
    { name: 'destination_virtual_network', datatype: 'string', description: 'destination virtual network fq_name' },
    { name: 'source_interface', datatype: 'string', description: 'source interface uuid' },
    { name: 'destination_interface', datatype: 'string', description: 'destination interface uuid' },
    { name: 'host', datatype: 'string', description: 'virtual-router that saw the flow' },
    { name: 'action', datatype: 'string', description: 'pass, deny or unspecified' },
    { name: 'bytes', datatype: 'int', description: 'bytes in the export interval' },
    { name: 'packets', datatype: 'int', description: 'packets in the export interval' },
  ],
};

export const MESSAGE_TABLE: TableDefinition = {
  name: 'MessageTable',
  kind: 'log',
  description: 'log lines and events of every service, including config-api audit events',
  columns: [
    { name: 'T', datatype: 'int', index: true, description: 'when the record was made (ms)' },
    { name: 'record_id', datatype: 'string', description: 'unique id of the record' },
    { name: 'service', datatype: 'string', description: 'service that logged it' },
    { name: 'host', datatype: 'string', description: 'host it ran on' },
    { name: 'level', datatype: 'string', description: 'debug, info, warn, error or unspecified' },
    { name: 'message', datatype: 'string', description: 'the text' },
    { name: 'fields', datatype: 'string', description: 'structured fields, a JSON object' },
    { name: 'event', datatype: 'string', description: 'event kind, e.g. config.change; empty for log lines' },
  ],
};

export const UVE_STAT_TABLE: TableDefinition = {
  name: 'StatTable.UveStat',
  kind: 'stat',
  description: 'every numeric top-level field of every UVE report, as a time series',
  columns: [
    { name: 'T', datatype: 'int', index: true, description: 'when the UVE report was received (ms)' },
    { name: 'record_id', datatype: 'string', description: 'unique id of the sample' },
    { name: 'type', datatype: 'string', description: 'UVE type, e.g. vrouter' },
    { name: 'name', datatype: 'string', description: 'UVE name' },
    { name: 'source', datatype: 'string', description: 'reporting source, <service>:<host>' },
    { name: 'field', datatype: 'string', description: 'the field of the UVE' },
    { name: 'value', datatype: 'double', description: 'its value' },
  ],
};

export const TABLES: readonly TableDefinition[] = [FLOW_TABLE, MESSAGE_TABLE, UVE_STAT_TABLE];

export function tableNamed(name: string): TableDefinition | undefined {
  return TABLES.find((table) => table.name === name);
}

export function tableOfKind(kind: PartitionKind): TableDefinition {
  return TABLES.find((table) => table.kind === kind)!;
}

/** A row as the store writes it: column name → value, T and record_id always present. */
export type Row = Record<string, string | number | null> & { T: number; record_id: string };
