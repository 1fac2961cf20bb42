// Copies the WAL back into the database file from a worker thread. A checkpoint writes and
// fsyncs the main file; done by the writing connection alone it would stall every request behind
// it, so this thread does the bulk of the copying, PASSIVE, beside the writes, and the writer's
// own small checkpoint then only finishes the tail and lets the WAL start over.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, intervalMs, synchronous } = workerData as { path: string; intervalMs: number; synchronous: string };
const db = new Database(path);
db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or the file is going away; the next round (or the writer's backstop) catches up.
  }
}, intervalMs);

parentPort?.on('message', (message) => {
  if (message === 'close') {
    clearInterval(timer);
    db.close();
    parentPort?.close();
  }
});
