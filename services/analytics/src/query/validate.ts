// Turns a POST /analytics/query body (Tungsten Fabric's shape) into a checked plan. Every name
// in the plan is one of the table's own columns or a canonical aggregate over one, so the SQL
// built from it never carries text the caller wrote; values travel as bound parameters.
import { errors } from '../errors.js';
import { type Column, type TableDefinition, tableNamed } from '../store/tables.js';
import { parseTime } from './time.js';

export const MATCH_OPS = [
  'EQUAL',
  'NOT_EQUAL',
  'IN_RANGE',
  'NOT_IN_RANGE',
  'LEQ',
  'GEQ',
  'PREFIX',
  'REGEX_MATCH',
  'CONTAINS',
] as const;
export type MatchOp = (typeof MATCH_OPS)[number];

export const AGGREGATES = ['SUM', 'COUNT', 'MIN', 'MAX', 'AVG'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

export const DEFAULT_LIMIT = 10_000;
/** Conditions in a where (or a filter) at most. */
export const MAX_TERMS = 64;
/**
 * Partitions per table at most (retention / partition length): a query has one arm per
 * partition, and SQLite allows 500 arms.
 */
export const MAX_PARTITIONS = 400;
export const MAX_LIMIT = 100_000;

export type Value = string | number;

/** One condition: `name op value` (value2 closes IN_RANGE). `name` is a column or a select label. */
export interface Condition {
  name: string;
  op: MatchOp;
  value: Value;
  value2?: Value;
  datatype: Column['datatype'];
}

export interface SelectItem {
  /** The key of this item in each result row, e.g. "bytes" or "SUM(bytes)". */
  label: string;
  column?: string;
  aggregate?: Aggregate;
  /** "T=<seconds>": T rounded down to buckets of this many ms, a time-series key. */
  bucketMs?: number;
  datatype: Column['datatype'];
}

export interface QueryPlan {
  table: TableDefinition;
  startMs: number;
  endMs: number;
  select: SelectItem[];
  /** OR of ANDs over columns, evaluated per record. */
  where: Condition[][];
  /** OR of ANDs over select labels, evaluated on the result rows (after group-by). */
  filter: Condition[][];
  /**
   * The caller's own rows: OR of ANDs over columns, on every record with the where; none or
   * empty matches nothing. Set from the caller's identity (rest/tenancy.ts), never from the body.
   */
  scope?: Condition[][];
  sort: { labels: string[]; direction: 'asc' | 'desc' };
  limit: number;
}

const KNOWN_KEYS = new Set([
  'table',
  'start_time',
  'end_time',
  'select_fields',
  'where',
  'filter',
  'sort_fields',
  'sort',
  'limit',
]);

function fail(field: string, reason: string): never {
  throw errors.INVALID_QUERY({ field, reason });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validateQuery(body: unknown, now = Date.now()): QueryPlan {
  if (!isRecord(body)) fail('body', 'must be a JSON object');
  for (const key of Object.keys(body)) if (!KNOWN_KEYS.has(key)) fail(key, 'is not a known field');

  if (typeof body.table !== 'string') fail('table', 'is required, a table name from GET /analytics/tables');
  const table = tableNamed(body.table);
  if (!table) fail('table', `no table ${JSON.stringify(body.table)}; GET /analytics/tables lists them`);

  const startMs = parseTime(body.start_time, 'start_time', now);
  const endMs = parseTime(body.end_time, 'end_time', now);
  if (endMs < startMs) fail('end_time', 'is before start_time');

  const select = selectItems(body.select_fields, table);
  const labels = new Map(select.map((item) => [item.label, item]));
  const where = conditions(body.where, 'where', (name) => columnOf(table, name));
  const filter = conditions(body.filter, 'filter', (name) => {
    const item = labels.get(canonicalLabel(name) ?? name);
    return item ? { name: item.label, datatype: item.datatype } : undefined;
  });

  const sortLabels: string[] = [];
  if (body.sort_fields !== undefined) {
    if (!Array.isArray(body.sort_fields)) fail('sort_fields', 'must be a list of select fields');
    body.sort_fields.forEach((name, index) => {
      const label = typeof name === 'string' ? (canonicalLabel(name) ?? name) : undefined;
      if (!label || !labels.has(label)) fail(`sort_fields[${index}]`, 'must be one of select_fields');
      sortLabels.push(label);
    });
  }
  const direction = sortDirection(body.sort);

  let limit = DEFAULT_LIMIT;
  if (body.limit !== undefined) {
    if (typeof body.limit !== 'number' || !Number.isInteger(body.limit) || body.limit < 1 || body.limit > MAX_LIMIT) {
      fail('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
    }
    limit = body.limit;
  }
  return {
    table,
    startMs,
    endMs,
    select,
    where,
    filter,
    sort: { labels: sortLabels, direction },
    limit,
  };
}

function columnOf(table: TableDefinition, name: string): { name: string; datatype: Column['datatype'] } | undefined {
  const column = table.columns.find((c) => c.name === name);
  return column ? { name: column.name, datatype: column.datatype } : undefined;
}

const AGGREGATE_FORM = /^\s*([A-Za-z]+)\s*\(\s*(\*|[A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/;

/** "sum( bytes )" → "SUM(bytes)"; undefined when the text is not an aggregate form. */
function canonicalLabel(text: string): string | undefined {
  const match = AGGREGATE_FORM.exec(text);
  return match ? `${match[1]!.toUpperCase()}(${match[2]})` : undefined;
}

function selectItems(raw: unknown, table: TableDefinition): SelectItem[] {
  if (!Array.isArray(raw) || raw.length === 0) fail('select_fields', 'is required, a non-empty list of fields');
  const items: SelectItem[] = [];
  raw.forEach((text, index) => {
    const field = `select_fields[${index}]`;
    if (typeof text !== 'string') fail(field, 'must be a string');
    const match = AGGREGATE_FORM.exec(text);
    if (match) {
      const aggregate = match[1]!.toUpperCase() as Aggregate;
      if (!AGGREGATES.includes(aggregate)) fail(field, `unknown function ${match[1]}; use ${AGGREGATES.join(', ')}`);
      const columnName = match[2]!;
      if (columnName === '*') {
        if (aggregate !== 'COUNT') fail(field, `${aggregate}(*) is not allowed; only COUNT(*)`);
        items.push({ label: 'COUNT(*)', aggregate, datatype: 'int' });
        return;
      }
      const column = columnOf(table, columnName);
      if (!column) fail(field, `no column ${columnName} in ${table.name}`);
      if ((aggregate === 'SUM' || aggregate === 'AVG') && column.datatype === 'string') {
        fail(field, `${aggregate} needs a numeric column; ${columnName} is a string`);
      }
      const datatype = aggregate === 'COUNT' ? 'int' : aggregate === 'AVG' ? 'double' : column.datatype;
      items.push({ label: `${aggregate}(${columnName})`, column: columnName, aggregate, datatype });
      return;
    }
    // Tungsten Fabric's time series: "T=60" is T in 60-second buckets.
    const bucket = /^T=(\d+)$/.exec(text);
    if (bucket) {
      const seconds = Number(bucket[1]);
      if (seconds < 1 || seconds > 31 * 86_400) fail(field, 'T=<seconds> needs 1 to 2678400 seconds');
      items.push({ label: `T=${seconds}`, column: 'T', bucketMs: seconds * 1000, datatype: 'int' });
      return;
    }
    const column = columnOf(table, text);
    if (!column) fail(field, `no column ${text} in ${table.name}`);
    items.push({ label: column.name, column: column.name, datatype: column.datatype });
  });
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.label)) fail(`select_fields[${index}]`, `${item.label} is selected twice`);
    seen.add(item.label);
  });
  return items;
}

function conditions(
  raw: unknown,
  field: string,
  resolve: (name: string) => { name: string; datatype: Column['datatype'] } | undefined,
): Condition[][] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) fail(field, 'must be a list of lists of {name, value, op} (OR of ANDs)');
  const terms = raw.reduce((sum: number, group) => sum + (Array.isArray(group) ? group.length : 0), 0);
  // Each term is a bound value in every partition's arm of the query; SQLite takes 32,766.
  if (terms > MAX_TERMS) fail(field, `has ${terms} conditions; at most ${MAX_TERMS}`);
  return raw.map((group, groupIndex) => {
    const groupField = `${field}[${groupIndex}]`;
    if (!Array.isArray(group) || group.length === 0) fail(groupField, 'must be a non-empty list of {name, value, op}');
    return group.map((term, termIndex) => condition(term, `${groupField}[${termIndex}]`, resolve));
  });
}

function condition(
  term: unknown,
  field: string,
  resolve: (name: string) => { name: string; datatype: Column['datatype'] } | undefined,
): Condition {
  if (!isRecord(term)) fail(field, 'must be an object {name, value, op}');
  for (const key of Object.keys(term)) {
    if (!['name', 'value', 'value2', 'op'].includes(key)) fail(`${field}.${key}`, 'is not a known field');
  }
  if (typeof term.name !== 'string') fail(`${field}.name`, 'is required, a string');
  const target = resolve(term.name);
  if (!target) fail(`${field}.name`, `${JSON.stringify(term.name)} is not a field that can be matched here`);
  const op = matchOp(term.op, `${field}.op`);
  if ((op === 'PREFIX' || op === 'REGEX_MATCH' || op === 'CONTAINS') && target.datatype !== 'string') {
    fail(`${field}.op`, `${op} needs a string field; ${target.name} is ${target.datatype}`);
  }
  const value = typedValue(term.value, target.datatype, `${field}.value`);
  if (op === 'REGEX_MATCH') {
    try {
      new RegExp(String(value));
    } catch (error) {
      fail(`${field}.value`, `is not a valid regular expression (${(error as Error).message})`);
    }
  }
  const ranged = op === 'IN_RANGE' || op === 'NOT_IN_RANGE';
  if (ranged && term.value2 === undefined) fail(`${field}.value2`, `is required with ${op}`);
  if (!ranged && term.value2 !== undefined) fail(`${field}.value2`, `is only used with IN_RANGE and NOT_IN_RANGE`);
  const value2 = ranged ? typedValue(term.value2, target.datatype, `${field}.value2`) : undefined;
  return { name: target.name, op, value, ...(value2 === undefined ? {} : { value2 }), datatype: target.datatype };
}

function matchOp(raw: unknown, field: string): MatchOp {
  if (raw === undefined) return 'EQUAL';
  // Tungsten Fabric numbers the operators from 1 in this order.
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 1 && raw <= MATCH_OPS.length)
    return MATCH_OPS[raw - 1]!;
  if (typeof raw === 'string') {
    const op = MATCH_OPS.find((name) => name === raw.toUpperCase());
    if (op) return op;
  }
  return fail(field, `must be one of ${MATCH_OPS.join(', ')} (or 1 to ${MATCH_OPS.length})`);
}

function typedValue(raw: unknown, datatype: Column['datatype'], field: string): Value {
  if (datatype === 'string') {
    if (typeof raw !== 'string') fail(field, 'must be a string');
    return raw;
  }
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(field, `must be a number`);
  if (datatype === 'int' && !Number.isInteger(value)) fail(field, 'must be an integer');
  return value;
}

function sortDirection(raw: unknown): 'asc' | 'desc' {
  if (raw === undefined || raw === 1 || raw === 'asc' || raw === 'ASC') return 'asc';
  if (raw === 2 || raw === 'desc' || raw === 'DESC') return 'desc';
  return fail('sort', 'must be 1 or "asc" (ascending), 2 or "desc" (descending)');
}
