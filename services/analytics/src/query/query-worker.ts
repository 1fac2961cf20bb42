// A query reader in its own thread with its own read-only connection: a long scan keeps this
// thread busy, not the one that ingests and answers health checks. WAL lets it read while the
// main thread writes.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { regexpMatch } from '../store/sqlite-store.js';

export interface QueryRequest {
  id: number;
  sql: string;
  params: (string | number)[];
}

export type QueryResponse =
  | { id: number; rows: Record<string, unknown>[] }
  | { id: number; error: string; missingTable: boolean };

const db = new Database((workerData as { path: string }).path, { readonly: true, fileMustExist: true });
db.function('regexp', { deterministic: true }, regexpMatch);

parentPort!.on('message', ({ id, sql, params }: QueryRequest) => {
  try {
    const rows = db.prepare(sql).all(...params) as Record<string, unknown>[];
    parentPort!.postMessage({ id, rows } satisfies QueryResponse);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // A partition that retention dropped after the SQL was built: the caller builds it again.
    parentPort!.postMessage({
      id,
      error: message,
      missingTable: /no such table/.test(message),
    } satisfies QueryResponse);
  }
});
