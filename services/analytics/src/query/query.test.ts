// Query results against generated data: every answer is recomputed here in plain JS from the
// records that were stored, over a store with several partitions.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tempDir } from '@weft/kit/testing';
import fc from 'fast-check';
import { TenantScope } from '../rest/tenancy.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Row } from '../store/tables.js';
import { validateQuery } from './validate.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const dir = tempDir('weft-analytics-query-');
let store: SqliteStore;
const flows: Row[] = [];

// A small deterministic generator, so a failure can be replayed.
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;

before(() => {
  store = new SqliteStore({ stateDir: dir.path, partitionMs: HOUR, retentionMs: 30 * 24 * HOUR, maxBytes: 1e10 });
  const networks = ['default-domain:demo:red', 'default-domain:demo:blue', 'default-domain:prod:green'];
  for (let i = 0; i < 20_000; i++) {
    const T = NOW - Math.floor(random() * 5 * HOUR);
    flows.push({
      T,
      first_seen_ms: T - 1000,
      record_id: `flow-${i}`,
      source_ip: `10.0.${i % 7}.${i % 250}`,
      destination_ip: `10.1.0.${i % 13}`,
      protocol: pick([6, 17, 1]),
      source_port: 1024 + (i % 5000),
      destination_port: pick([80, 443, 53, 22]),
      source_virtual_network: pick(networks),
      destination_virtual_network: pick(networks),
      source_interface: '',
      destination_interface: '',
      host: pick(['host-1', 'host-2', 'host-3']),
      action: random() < 0.9 ? 'pass' : 'deny',
      bytes: Math.floor(random() * 100_000),
      packets: Math.floor(random() * 100),
    });
  }
  // Two commits with an overlap: the overlap is a redelivery and must be stored once.
  const first = store.commit({ rows: { flow: flows.slice(0, 12_000) }, uveUpserts: [], uveDeletes: [] }, NOW);
  const second = store.commit({ rows: { flow: flows.slice(10_000) }, uveUpserts: [], uveDeletes: [] }, NOW);
  assert.equal(first.inserted, 12_000);
  assert.equal(second.inserted, 8_000);
  assert.equal(second.duplicates, 2_000);
});

after(() => {
  store.close();
  dir.remove();
});

const run = (body: Record<string, unknown>) => store.query(validateQuery(body, NOW));

test('the store spreads records over hourly partitions', () => {
  assert.ok(store.partitions().filter((p) => p.kind === 'flow').length >= 5);
});

test('a time range and an AND of filters select exactly the matching records', () => {
  const start = NOW - 3 * HOUR - 123;
  const end = NOW - HOUR + 456;
  const rows = run({
    table: 'FlowRecordTable',
    start_time: start,
    end_time: end,
    select_fields: ['record_id', 'bytes', 'T'],
    where: [
      [
        { name: 'source_virtual_network', value: 'default-domain:demo:red', op: 'EQUAL' },
        { name: 'destination_port', value: 443, op: 1 },
      ],
    ],
  });
  const expected = flows.filter(
    (f) =>
      f.T >= start &&
      f.T <= end &&
      f.source_virtual_network === 'default-domain:demo:red' &&
      f.destination_port === 443,
  );
  assert.ok(expected.length > 100);
  assert.deepEqual(rows.map((r) => r.record_id).sort(), expected.map((f) => f.record_id).sort());
});

test('an OR of groups, PREFIX, IN_RANGE, CONTAINS and REGEX_MATCH', () => {
  const rows = run({
    table: 'FlowRecordTable',
    start_time: 'now-6h',
    end_time: 'now',
    select_fields: ['record_id'],
    where: [
      [
        { name: 'source_virtual_network', value: 'default-domain:prod', op: 'PREFIX' },
        { name: 'bytes', value: 1000, value2: 5000, op: 'IN_RANGE' },
      ],
      [
        { name: 'source_ip', value: '10.0.3.', op: 'CONTAINS' },
        { name: 'host', value: '^host-[12]$', op: 'REGEX_MATCH' },
        { name: 'protocol', value: 17, op: 'NOT_EQUAL' },
      ],
    ],
    limit: 100_000,
  });
  const expected = flows.filter(
    (f) =>
      (String(f.source_virtual_network).startsWith('default-domain:prod') &&
        Number(f.bytes) >= 1000 &&
        Number(f.bytes) <= 5000) ||
      (String(f.source_ip).includes('10.0.3.') && /^host-[12]$/.test(String(f.host)) && f.protocol !== 17),
  );
  assert.ok(expected.length > 100);
  assert.deepEqual(rows.map((r) => r.record_id).sort(), expected.map((f) => f.record_id).sort());
});

test('group-by sums and counts per virtual network pair', () => {
  const rows = run({
    table: 'FlowRecordTable',
    start_time: NOW - 10 * HOUR,
    end_time: NOW,
    select_fields: ['source_virtual_network', 'destination_virtual_network', 'SUM(bytes)', 'COUNT(*)', 'max(packets)'],
  });
  const expected = new Map<string, { sum: number; count: number; max: number }>();
  for (const f of flows) {
    const key = `${f.source_virtual_network}|${f.destination_virtual_network}`;
    const entry = expected.get(key) ?? { sum: 0, count: 0, max: 0 };
    entry.sum += Number(f.bytes);
    entry.count += 1;
    entry.max = Math.max(entry.max, Number(f.packets));
    expected.set(key, entry);
  }
  assert.equal(rows.length, expected.size);
  for (const row of rows) {
    const entry = expected.get(`${row.source_virtual_network}|${row.destination_virtual_network}`)!;
    assert.deepEqual([row['SUM(bytes)'], row['COUNT(*)'], row['MAX(packets)']], [entry.sum, entry.count, entry.max]);
  }
});

test('top-N: the 5 hosts·ports with most bytes, filtered on the aggregate', () => {
  const rows = run({
    table: 'FlowRecordTable',
    start_time: NOW - 2 * HOUR,
    end_time: NOW,
    select_fields: ['host', 'destination_port', 'SUM(bytes)'],
    where: [[{ name: 'action', value: 'pass' }]],
    filter: [[{ name: 'SUM(bytes)', value: 1, op: 'GEQ' }]],
    sort_fields: ['SUM(bytes)'],
    sort: 2,
    limit: 5,
  });
  const sums = new Map<string, number>();
  for (const f of flows) {
    if (f.T < NOW - 2 * HOUR || f.action !== 'pass') continue;
    const key = `${f.host}|${f.destination_port}`;
    sums.set(key, (sums.get(key) ?? 0) + Number(f.bytes));
  }
  const top = [...sums].sort((a, b) => b[1] - a[1]).slice(0, 5);
  assert.deepEqual(
    rows.map((r) => [`${r.host}|${r.destination_port}`, r['SUM(bytes)']]),
    top,
  );
});

// Random queries against a plain JS evaluation of the same records: where trees of every
// operator over every column type, plain selects and group-bys with every aggregate.
const GROUP_COLUMNS = ['host', 'action', 'protocol', 'destination_port', 'source_virtual_network'] as const;
const conditionArbitrary = fc.oneof(
  fc.record({
    name: fc.constantFrom('host', 'action', 'source_virtual_network', 'source_ip'),
    op: fc.constantFrom('EQUAL', 'NOT_EQUAL', 'PREFIX', 'CONTAINS', 'REGEX_MATCH', 'LEQ', 'GEQ'),
    value: fc.constantFrom(
      'host-1',
      'host-2',
      'pass',
      'deny',
      'default-domain:demo',
      'demo:red',
      '10.0.3.',
      '^10\\.0\\.[12]\\.',
      'h',
    ),
  }),
  fc.record({
    name: fc.constantFrom('bytes', 'packets', 'protocol', 'destination_port', 'T'),
    op: fc.constantFrom('EQUAL', 'NOT_EQUAL', 'LEQ', 'GEQ', 'IN_RANGE', 'NOT_IN_RANGE'),
    value: fc.integer({ min: 0, max: 100_000 }),
    width: fc.integer({ min: 0, max: 50_000 }),
  }),
);

type Term = { name: string; op: string; value: string | number; width?: number };

function matches(row: Row, term: Term): boolean {
  const v = row[term.name] as string | number;
  const x = term.value;
  const upper = typeof x === 'number' ? x + (term.width ?? 0) : x;
  switch (term.op) {
    case 'EQUAL':
      return v === x;
    case 'NOT_EQUAL':
      return v !== x;
    case 'LEQ':
      return v <= x;
    case 'GEQ':
      return v >= x;
    case 'IN_RANGE':
      return v >= x && v <= upper;
    case 'NOT_IN_RANGE':
      return !(v >= x && v <= upper);
    case 'PREFIX':
      return String(v).startsWith(String(x));
    case 'CONTAINS':
      return String(v).includes(String(x));
    default:
      return new RegExp(String(x)).test(String(v));
  }
}

function asWhere(groups: Term[][]) {
  return groups.map((group) =>
    group.map(({ width, ...term }) =>
      term.op === 'IN_RANGE' || term.op === 'NOT_IN_RANGE'
        ? { ...term, value2: Number(term.value) + (width ?? 0) }
        : term,
    ),
  );
}

test('random where trees select what a plain evaluation selects', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(conditionArbitrary, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 0, max: 5 * 60 }),
      fc.integer({ min: 1, max: 5 * 60 }),
      (groups, startMinutes, spanMinutes) => {
        const start = NOW - 5 * HOUR + startMinutes * 60_000;
        const end = start + spanMinutes * 60_000;
        const rows = run({
          table: 'FlowRecordTable',
          start_time: start,
          end_time: end,
          select_fields: ['record_id'],
          where: asWhere(groups as Term[][]),
          limit: 100_000,
        });
        const expected = flows.filter(
          (f) => f.T >= start && f.T <= end && (groups as Term[][]).some((group) => group.every((t) => matches(f, t))),
        );
        assert.deepEqual(rows.map((r) => r.record_id).sort(), expected.map((f) => f.record_id).sort());
      },
    ),
    { numRuns: 150 },
  );
});

test('random group-bys aggregate as a plain evaluation does', () => {
  fc.assert(
    fc.property(
      fc.subarray([...GROUP_COLUMNS], { minLength: 0, maxLength: 3 }),
      fc.subarray(['SUM(bytes)', 'COUNT(*)', 'MIN(packets)', 'MAX(bytes)', 'AVG(packets)', 'COUNT(host)'], {
        minLength: 1,
      }),
      fc.option(conditionArbitrary, { nil: undefined }),
      (keys, aggregates, term) => {
        const rows = run({
          table: 'FlowRecordTable',
          start_time: NOW - 6 * HOUR,
          end_time: NOW,
          select_fields: [...keys, ...aggregates],
          ...(term ? { where: asWhere([[term as Term]]) } : {}),
        });
        const groups = new Map<string, Row[]>();
        for (const f of flows) {
          if (term && !matches(f, term as Term)) continue;
          const key = JSON.stringify(keys.map((k) => f[k]));
          const members = groups.get(key) ?? [];
          members.push(f);
          groups.set(key, members);
        }
        // Without group-by keys an aggregate over nothing is still one row.
        if (keys.length === 0 && groups.size === 0) groups.set('[]', []);
        assert.equal(rows.length, groups.size);
        for (const row of rows) {
          const members = groups.get(JSON.stringify(keys.map((k) => row[k])));
          assert.ok(members, `group ${JSON.stringify(row)} expected`);
          const numbers = (column: string) => members.map((m) => Number(m[column]));
          const expected: Record<string, number | null> = {
            'SUM(bytes)': members.length ? numbers('bytes').reduce((a, b) => a + b, 0) : null,
            'COUNT(*)': members.length,
            'COUNT(host)': members.length,
            'MIN(packets)': members.length ? Math.min(...numbers('packets')) : null,
            'MAX(bytes)': members.length ? Math.max(...numbers('bytes')) : null,
            'AVG(packets)': members.length ? numbers('packets').reduce((a, b) => a + b, 0) / members.length : null,
          };
          for (const aggregate of aggregates) {
            const got = row[aggregate] as number | null;
            const want = expected[aggregate]!;
            if (aggregate === 'AVG(packets)' && want !== null) assert.ok(Math.abs((got as number) - want) < 1e-9);
            else assert.equal(got, want, aggregate);
          }
        }
      },
    ),
    { numRuns: 100 },
  );
});

test('T=<seconds> buckets time into a series: bytes per 10 minutes of one host', () => {
  const start = NOW - 2 * HOUR;
  const rows = run({
    table: 'FlowRecordTable',
    start_time: start,
    end_time: NOW,
    select_fields: ['T=600', 'SUM(bytes)'],
    where: [[{ name: 'host', value: 'host-2' }]],
    sort_fields: ['T=600'],
  });
  const buckets = new Map<number, number>();
  for (const f of flows) {
    if (f.T < start || f.host !== 'host-2') continue;
    const bucket = Math.floor(f.T / 600_000) * 600_000;
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + Number(f.bytes));
  }
  assert.deepEqual(
    rows.map((r) => [r['T=600'], r['SUM(bytes)']]),
    [...buckets].sort((a, b) => a[0] - b[0]),
  );
  assert.ok(rows.length >= 12);
});

test('a range with no partition answers an empty list', () => {
  assert.deepEqual(
    run({ table: 'FlowRecordTable', start_time: NOW + HOUR, end_time: NOW + 2 * HOUR, select_fields: ['COUNT(*)'] }),
    [{ 'COUNT(*)': 0 }],
  );
});

test('bad queries name the field and the reason, and reach no SQL', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ start_time: 0, end_time: 1, select_fields: ['T'] }, 'table', /required/],
    [{ table: 'NoTable', start_time: 0, end_time: 1, select_fields: ['T'] }, 'table', /no table/],
    [{ table: 'FlowRecordTable', start_time: 'yesterday', end_time: 1, select_fields: ['T'] }, 'start_time', /now-10m/],
    [{ table: 'FlowRecordTable', start_time: 10, end_time: 1, select_fields: ['T'] }, 'end_time', /before/],
    [{ table: 'FlowRecordTable', start_time: 0, end_time: 1, select_fields: [] }, 'select_fields', /non-empty/],
    [
      { table: 'FlowRecordTable', start_time: 0, end_time: 1, select_fields: ['bytes; DROP TABLE partitions'] },
      'select_fields[0]',
      /no column/,
    ],
    [
      { table: 'FlowRecordTable', start_time: 0, end_time: 1, select_fields: ['SUM(host)'] },
      'select_fields[0]',
      /numeric/,
    ],
    [
      {
        table: 'FlowRecordTable',
        start_time: 0,
        end_time: 1,
        select_fields: ['T'],
        where: [[{ name: 'nope', value: 1 }]],
      },
      'where[0][0].name',
      /not a field/,
    ],
    [
      {
        table: 'FlowRecordTable',
        start_time: 0,
        end_time: 1,
        select_fields: ['T'],
        where: [[{ name: 'bytes', value: 'many', op: 'GEQ' }]],
      },
      'where[0][0].value',
      /number/,
    ],
    [
      {
        table: 'FlowRecordTable',
        start_time: 0,
        end_time: 1,
        select_fields: ['T'],
        where: [[{ name: 'host', value: '(', op: 8 }]],
      },
      'where[0][0].value',
      /regular expression/,
    ],
    [
      {
        table: 'FlowRecordTable',
        start_time: 0,
        end_time: 1,
        select_fields: ['T'],
        where: [[{ name: 'bytes', value: 1, op: 'IN_RANGE' }]],
      },
      'where[0][0].value2',
      /required/,
    ],
    [
      { table: 'FlowRecordTable', start_time: 0, end_time: 1, select_fields: ['T'], sort_fields: ['bytes'] },
      'sort_fields[0]',
      /select_fields/,
    ],
    [{ table: 'FlowRecordTable', start_time: 0, end_time: 1, select_fields: ['T'], limit: 0 }, 'limit', /integer/],
    [
      { table: 'FlowRecordTable', start_time: 0, end_time: 1, select_fields: ['T=0', 'COUNT(*)'] },
      'select_fields[0]',
      /seconds/,
    ],
    [
      { table: 'FlowRecordTable', start_time: 0, end_time: 1, select_fields: ['T'], colour: 1 },
      'colour',
      /not a known/,
    ],
    [
      {
        table: 'FlowRecordTable',
        start_time: 0,
        end_time: 1,
        select_fields: ['host'],
        filter: [[{ name: 'bytes', value: 1 }]],
      },
      'filter[0][0].name',
      /not a field/,
    ],
  ];
  for (const [body, field, reason] of cases) {
    assert.throws(
      () => validateQuery(body, NOW),
      (error: { code: string; details: { field: string }; message: string }) => {
        assert.equal(error.code, 'INVALID_QUERY');
        assert.equal(error.details.field, field, JSON.stringify(body));
        assert.match(error.message, reason);
        return true;
      },
    );
  }
  // The catalog survived the injection attempt.
  assert.ok(store.partitions().length > 0);
});

test("a tenant's query counts exactly the flows with an end in his projects, whatever its where, over every partition", () => {
  const tenant = (projects: string[]) =>
    TenantScope.of({
      user: 'tenant',
      roles: new Set(),
      projects: new Map(projects.map((project) => [project, 'reader'])),
      via: 'tokens-file',
      key: 'tenant',
    })!;
  // None; one; the other; both; a name that only starts like a project's ("dem" of "demo").
  const cases = [[], ['default-domain:demo'], ['default-domain:prod'], ['default-domain:demo', 'default-domain:prod']];
  for (const projects of [...cases, ['default-domain:dem']]) {
    const owns = (network: unknown) => projects.some((project) => String(network).startsWith(`${project}:`));
    for (const protocol of [6, 17]) {
      const asked = validateQuery(
        {
          table: 'FlowRecordTable',
          start_time: NOW - 10 * HOUR,
          end_time: NOW,
          select_fields: ['COUNT(*)', 'SUM(bytes)'],
          where: [[{ name: 'protocol', value: protocol }], [{ name: 'destination_port', value: 22 }]],
        },
        NOW,
      );
      const [row] = store.query(tenant(projects).restrict(asked));
      const expected = flows.filter(
        (flow) =>
          (flow.protocol === protocol || flow.destination_port === 22) &&
          (owns(flow.source_virtual_network) || owns(flow.destination_virtual_network)),
      );
      assert.equal(row!['COUNT(*)'], expected.length, `${projects.join(',') || 'no project'}, protocol ${protocol}`);
      assert.equal(
        row!['SUM(bytes)'] ?? 0,
        expected.reduce((sum, flow) => sum + Number(flow.bytes), 0),
      );
    }
  }
  const logs = validateQuery({ table: 'MessageTable', start_time: 0, end_time: NOW, select_fields: ['T'] }, NOW);
  assert.throws(() => tenant(['default-domain:demo']).restrict(logs), { code: 'FORBIDDEN' });
});
