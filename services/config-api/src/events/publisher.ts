// Sends every committed change to NATS subject weft.config.changes, after the commit. The change
// log is the source of truth: when NATS is down the event is dropped (and counted), the write
// still succeeds, and consumers catch up with Config.Watch from the last revision they saw.
import { CONFIG_CHANGES_SUBJECT, type Logger, type Metrics, type NatsLink } from '@weft/kit';
import { messageCodec } from '@weft/proto';
import type { ChangeEvent } from '@weft/proto/gen/weft/config/v1/ChangeEvent.js';
import type { ChangeRecord, ConfigStore } from '../store/store.js';

/** The subject is the kit's, which control subscribes to. */
export const CHANGES_SUBJECT = CONFIG_CHANGES_SUBJECT;

export const changeEventCodec = messageCodec<ChangeEvent, unknown>('weft.config.v1.ChangeEvent');

export function toChangeEvent(change: ChangeRecord): ChangeEvent {
  return {
    revision: change.revision,
    operation: `OPERATION_${change.operation}`,
    type: change.type,
    uuid: change.uuid,
    fq_name: change.fqName,
    object_json: change.objectJson,
    committed_at_ms: change.committedAtMs,
  };
}

export function publishChanges(store: ConfigStore, link: NatsLink, logger: Logger, metrics: Metrics): () => void {
  const log = logger.child({ component: 'change-publisher' });
  const published = metrics.counter('change_events_published_total', 'change events sent to NATS');
  const dropped = metrics.counter('change_events_dropped_total', 'change events not sent because NATS was down');
  let warned = false;
  // Each replica publishes the changes written through it; the others' come from their replicas.
  return store.onOwnCommit((changes) => {
    const connection = link.current;
    if (!connection || connection.isClosed() || !link.isConnected) {
      dropped.inc(changes.length);
      if (!warned)
        log.warn({ revision: changes[0]?.revision }, 'NATS is down: change events dropped; Watch catches up');
      warned = true;
      return;
    }
    warned = false;
    for (const change of changes) {
      try {
        connection.publish(CHANGES_SUBJECT, changeEventCodec.encode(toChangeEvent(change)));
        published.inc();
      } catch (error) {
        dropped.inc();
        log.warn({ err: error, revision: change.revision }, 'change event not published');
      }
    }
  });
}
