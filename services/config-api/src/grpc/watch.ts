// Config.Watch: replays the change log from a revision, then follows live commits, without a
// gap or a duplicate. The switch from replay to live happens in one synchronous step (the last
// empty read of the log and the subscription), so no commit can fall between them. A client
// that reads slower than changes commit is switched back to replay (from the log) instead of
// being buffered without bound.
import type { ChangeRecord, ConfigStore } from '../store/store.js';

export interface WatchSink {
  /** Sends one change; false when the client's buffer is full (wait for drained()). */
  send(change: ChangeRecord): boolean;
  drained(): Promise<void>;
  /** Ends the stream because the log no longer holds `next`. */
  trimmed(next: number): void;
  readonly cancelled: boolean;
  onCancel(listener: () => void): void;
}

const REPLAY_PAGE = 512;

export async function watchChanges(store: ConfigStore, fromRevision: number, types: string[], sink: WatchSink) {
  const wanted = types.length > 0 ? new Set(types) : undefined;
  let next = Math.max(1, fromRevision);
  let unsubscribe: (() => void) | undefined;
  sink.onCancel(() => unsubscribe?.());

  const deliver = (change: ChangeRecord): boolean => {
    next = change.revision + 1;
    return wanted && !wanted.has(change.type) ? true : sink.send(change);
  };

  for (;;) {
    if (sink.cancelled) return;
    // Trimming removes revisions up to trimmedThrough; anything from there on is still there.
    if (next <= store.trimmedThrough()) {
      sink.trimmed(next);
      return;
    }
    const page = store.changesSince(next, REPLAY_PAGE);
    if (page.length === 0) {
      const caughtUp = await new Promise<boolean>((resume) => {
        unsubscribe = store.onCommit((changes) => {
          for (const change of changes) {
            if (change.revision < next) continue;
            if (!deliver(change)) {
              unsubscribe?.();
              unsubscribe = undefined;
              resume(false);
              return;
            }
          }
        });
        sink.onCancel(() => resume(true));
      });
      if (caughtUp) return;
      await sink.drained();
      continue;
    }
    let full = false;
    for (const change of page) if (!deliver(change)) full = true;
    if (full) await sink.drained();
  }
}
