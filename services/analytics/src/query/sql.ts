// SQL for a checked query plan. Identifiers come only from the table definitions and from the
// partition catalog; every value the caller gave is a bound parameter.
//
//   SELECT * FROM (
//     SELECT <select items> FROM (
//       SELECT <columns> FROM "flow_<start>" WHERE T BETWEEN ? AND ? AND (<where>)
//       UNION ALL …                                  -- one arm per partition in the time range
//     ) [WHERE <the caller's scope>] [GROUP BY <plain select columns>]
//   ) [WHERE <filter on result labels>] [ORDER BY <sort labels>] LIMIT ?
import type { Condition, QueryPlan, Value } from './validate.js';

export interface BuiltQuery {
  sql: string;
  params: Value[];
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

function conditionSql(condition: Condition, params: Value[]): string {
  const column = quote(condition.name);
  switch (condition.op) {
    case 'EQUAL':
      params.push(condition.value);
      return `${column} = ?`;
    case 'NOT_EQUAL':
      params.push(condition.value);
      return `${column} != ?`;
    case 'LEQ':
      params.push(condition.value);
      return `${column} <= ?`;
    case 'GEQ':
      params.push(condition.value);
      return `${column} >= ?`;
    case 'IN_RANGE':
      params.push(condition.value, condition.value2!);
      return `${column} BETWEEN ? AND ?`;
    case 'NOT_IN_RANGE':
      params.push(condition.value, condition.value2!);
      return `${column} NOT BETWEEN ? AND ?`;
    case 'PREFIX':
      // substr, not LIKE: LIKE folds ASCII case and treats % and _ as wildcards.
      params.push(String(condition.value).length, condition.value);
      return `substr(${column}, 1, ?) = ?`;
    case 'CONTAINS':
      params.push(condition.value);
      return `instr(${column}, ?) > 0`;
    case 'REGEX_MATCH':
      params.push(condition.value);
      return `${column} REGEXP ?`;
  }
}

/** "(a AND b) OR (c)"; undefined when there is no condition. */
function orOfAnds(groups: Condition[][], params: Value[]): string | undefined {
  if (groups.length === 0) return undefined;
  return groups.map((group) => `(${group.map((c) => conditionSql(c, params)).join(' AND ')})`).join(' OR ');
}

export function buildQuery(plan: QueryPlan, partitionTables: string[]): BuiltQuery {
  const params: Value[] = [];
  const needed = new Set<string>(['T']);
  for (const item of plan.select) if (item.column) needed.add(item.column);
  for (const condition of plan.scope?.flat() ?? []) needed.add(condition.name);
  const columns = [...needed].map(quote).join(', ');

  const arms = partitionTables.map((table) => {
    const conditions = [`"T" BETWEEN ? AND ?`];
    params.push(plan.startMs, plan.endMs);
    const where = orOfAnds(plan.where, params);
    if (where) conditions.push(`(${where})`);
    return `SELECT ${columns} FROM ${quote(table)} WHERE ${conditions.join(' AND ')}`;
  });
  // No partition in range: an empty source with the right columns keeps one code path.
  const source =
    arms.length > 0
      ? arms.join(' UNION ALL ')
      : `SELECT ${[...needed].map((c) => `NULL AS ${quote(c)}`).join(', ')} WHERE 0`;

  const aggregated = plan.select.some((item) => item.aggregate);
  // A T bucket is an integer division of integers, so it stays an exact multiple.
  const keyOf = (item: (typeof plan.select)[number]) =>
    item.bucketMs ? `(${quote(item.column!)} / ${item.bucketMs}) * ${item.bucketMs}` : quote(item.column!);
  const items = plan.select.map((item) => {
    if (!item.aggregate) return `${keyOf(item)} AS ${quote(item.label)}`;
    const argument = item.column ? quote(item.column) : '*';
    return `${item.aggregate}(${argument}) AS ${quote(item.label)}`;
  });
  let sql = `SELECT ${items.join(', ')} FROM (${source})`;
  // Once over the union, not in each arm: its values are bound once, however many partitions.
  if (plan.scope) sql += ` WHERE ${orOfAnds(plan.scope, params) ?? '0'}`;
  const groupBy = plan.select.filter((item) => !item.aggregate).map(keyOf);
  if (aggregated && groupBy.length > 0) sql += ` GROUP BY ${groupBy.join(', ')}`;

  const filter = orOfAnds(plan.filter, params);
  if (filter) sql = `SELECT * FROM (${sql}) WHERE ${filter}`;
  if (plan.sort.labels.length > 0) {
    const direction = plan.sort.direction === 'desc' ? 'DESC' : 'ASC';
    sql += ` ORDER BY ${plan.sort.labels.map((label) => `${quote(label)} ${direction}`).join(', ')}`;
  }
  sql += ' LIMIT ?';
  params.push(plan.limit);
  return { sql, params };
}
