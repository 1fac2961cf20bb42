import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@weft/kit/testing';
import Database from 'better-sqlite3';
import { validateQuery } from '../query/validate.js';
import { DATABASE_FILE, SqliteStore } from './sqlite-store.js';
import type { Row } from './tables.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

function logRows(count: number, from: number, spanMs: number, prefix: string): Row[] {
  return Array.from({ length: count }, (_, i) => ({
    T: from + Math.floor((i / count) * spanMs),
    record_id: `${prefix}-${i}`,
    service: 'control',
    host: 'ctl-1',
    level: 'info',
    // Incompressible-ish text so that sizes are real.
    message: `${prefix} ${i} ${Math.random().toString(36).repeat(8)}`,
    fields: '{}',
    event: '',
  }));
}

function flowRow(T: number): Row {
  return {
    T,
    first_seen_ms: T,
    record_id: `flow-${T}`,
    source_ip: '10.0.0.1',
    destination_ip: '10.0.0.2',
    protocol: 6,
    source_port: 1,
    destination_port: 2,
    source_virtual_network: 'a',
    destination_virtual_network: 'b',
    source_interface: '',
    destination_interface: '',
    host: 'h',
    action: 'pass',
    bytes: 1,
    packets: 1,
  };
}

const countLogs = (store: SqliteStore, start: number, end: number) =>
  store.query(
    validateQuery({ table: 'MessageTable', start_time: start, end_time: end, select_fields: ['COUNT(*)'] }),
  )[0]!['COUNT(*)'] as number;

test('retention by age drops whole partitions older than the limit and keeps the rest', () => {
  const dir = tempDir('weft-analytics-retention-');
  const store = new SqliteStore({ stateDir: dir.path, partitionMs: HOUR, retentionMs: 3 * HOUR, maxBytes: 1e10 });
  try {
    // Six hours of logs written when they were recent.
    store.commit(
      { rows: { log: logRows(6_000, NOW - 6 * HOUR, 6 * HOUR, 'old') }, uveUpserts: [], uveDeletes: [] },
      NOW - 6 * HOUR,
    );
    assert.equal(countLogs(store, 0, NOW), 6_000);
    const report = store.applyRetention(NOW);
    assert.equal(report.dropped.length, 3);
    assert.ok(report.dropped.every((p) => p.endMs <= NOW - 3 * HOUR));
    // What is left is exactly the last three hours.
    assert.equal(countLogs(store, 0, NOW), 3_000);
    assert.equal(countLogs(store, NOW - 3 * HOUR, NOW), 3_000);
    // A late record for a dropped period is not stored again.
    const late = store.commit(
      { rows: { log: logRows(5, NOW - 5 * HOUR, 1, 'late') }, uveUpserts: [], uveDeletes: [] },
      NOW,
    );
    assert.deepEqual(late, { inserted: 0, duplicates: 0, expired: 5 });
  } finally {
    store.close();
    dir.remove();
  }
});

test('retention by size keeps the file under its limit, dropping the oldest data first', () => {
  const dir = tempDir('weft-analytics-size-');
  const maxBytes = 4 * 1024 * 1024;
  const store = new SqliteStore({ stateDir: dir.path, partitionMs: 60_000, retentionMs: 100 * HOUR, maxBytes });
  try {
    // One flow record from long ago, in a partition of its own kind.
    store.commit({ rows: { flow: [flowRow(NOW - 50 * 60_000)] }, uveUpserts: [], uveDeletes: [] }, NOW);
    // Twenty minutes of logs, about 1 MB each: five times the limit.
    for (let minute = 0; minute < 20; minute++) {
      const from = NOW - (20 - minute) * 60_000;
      store.commit({ rows: { log: logRows(4_000, from, 60_000, `m${minute}`) }, uveUpserts: [], uveDeletes: [] }, NOW);
      const report = store.applyRetention(NOW);
      assert.ok(report.sizeBytes <= maxBytes, `after minute ${minute}: ${report.sizeBytes} bytes > ${maxBytes}`);
    }
    assert.ok(store.sizeBytes() <= maxBytes);
    // The newest minute is complete, the oldest is gone.
    assert.equal(countLogs(store, NOW - 60_000, NOW), 4_000);
    assert.equal(countLogs(store, NOW - 20 * 60_000, NOW - 19 * 60_000 - 1), 0);
    // The partition being written of another kind survives however old the size pass finds it.
    assert.equal(store.partitions().filter((p) => p.kind === 'flow').length, 1);
    const kept = store.partitions().filter((p) => p.kind === 'log');
    assert.ok(kept.length >= 2 && kept.length < 20, `${kept.length} partitions kept`);
    assert.equal(kept.at(-1)!.startMs, NOW - 60_000);
  } finally {
    store.close();
    dir.remove();
  }
});

test('UVE parts persist across a reopen, and a batch is all or nothing', () => {
  const dir = tempDir('weft-analytics-uve-store-');
  const options = { stateDir: dir.path, partitionMs: HOUR, retentionMs: 10 * HOUR, maxBytes: 1e10 };
  let store = new SqliteStore(options);
  const part = {
    type: 'vrouter',
    name: 'host-1',
    source: 'vrouter-agent:host-1',
    fields_json: '{"control_connected":true}',
    timestamp_ms: NOW,
    ttl_ms: 30_000,
    last_seen_ms: NOW,
  };
  store.commit({ rows: {}, uveUpserts: [part], uveDeletes: [] }, NOW);
  // A malformed row (a column missing) fails the whole batch, UVE part included.
  const { service: _missing, ...broken } = logRows(1, NOW, 1, 'x')[0]!;
  assert.throws(() =>
    store.commit(
      {
        rows: { log: [...logRows(3, NOW, 1, 'ok'), broken as Row] },
        uveUpserts: [{ ...part, fields_json: '{}' }],
        uveDeletes: [],
      },
      NOW,
    ),
  );
  store.close();
  store = new SqliteStore(options);
  try {
    assert.deepEqual(store.uveParts(), [part]);
    assert.equal(countLogs(store, 0, NOW + 1), 0);
  } finally {
    store.close();
    dir.remove();
  }
});

test('partitions an older release wrote stay readable after a column was added since', () => {
  const dir = tempDir('weft-analytics-old-partitions-');
  try {
    let store = new SqliteStore({ stateDir: dir.path, partitionMs: HOUR, retentionMs: 48 * HOUR, maxBytes: 1e10 });
    store.commit({ rows: { flow: [flowRow(NOW - 3 * HOUR)] }, uveUpserts: [], uveDeletes: [] }, NOW);
    const [older] = store.partitions();
    store.close();
    // The partition as a release before first_seen_ms would have left it.
    const db = new Database(join(dir.path, DATABASE_FILE));
    db.exec(`ALTER TABLE "${older!.table}" DROP COLUMN first_seen_ms`);
    db.close();

    store = new SqliteStore({ stateDir: dir.path, partitionMs: HOUR, retentionMs: 48 * HOUR, maxBytes: 1e10 });
    try {
      store.commit({ rows: { flow: [flowRow(NOW - HOUR)] }, uveUpserts: [], uveDeletes: [] }, NOW);
      const rows = store.query(
        validateQuery({
          table: 'FlowRecordTable',
          start_time: NOW - 4 * HOUR,
          end_time: NOW,
          select_fields: ['T', 'first_seen_ms', 'source_ip'],
          sort_fields: ['T'],
        }),
      );
      assert.deepEqual(rows, [
        { T: NOW - 3 * HOUR, first_seen_ms: null, source_ip: '10.0.0.1' },
        { T: NOW - HOUR, first_seen_ms: NOW - HOUR, source_ip: '10.0.0.1' },
      ]);
      // And the older partition takes new rows of its period again.
      const late = flowRow(NOW - 3 * HOUR + 1);
      assert.equal(store.commit({ rows: { flow: [late] }, uveUpserts: [], uveDeletes: [] }, NOW).inserted, 1);
    } finally {
      store.close();
    }
  } finally {
    dir.remove();
  }
});
