// The JetStream streams that hold what services send while analytics is away, and analytics'
// durable consumer on each. The stream limits bound the bus's disk as retention bounds ours.
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  nanos,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from 'nats';

export type StreamKind = 'uve' | 'flow' | 'log';

export const STREAMS: Record<StreamKind, { name: string; subjects: string[] }> = {
  uve: { name: 'WEFT_UVE', subjects: ['weft.uve.>'] },
  flow: { name: 'WEFT_FLOW', subjects: ['weft.flow.>'] },
  log: { name: 'WEFT_LOG', subjects: ['weft.log.>'] },
};

/** The durable consumer's name unless configured: one analytics (or a group sharing the work). */
export const UVE_STREAM_MAX_AGE_MS = 3_600_000;

export const DURABLE_NAME = 'weft-analytics';

export interface StreamLimits {
  maxBytes: number;
  maxAgeMs: number;
}

/** Creates each stream, or brings an existing one's limits to the configured ones. */
export async function ensureStreams(
  jsm: JetStreamManager,
  limits: StreamLimits,
  ackWaitMs: number,
  durableName = DURABLE_NAME,
): Promise<void> {
  for (const [kind, { name, subjects }] of Object.entries(STREAMS)) {
    // UVE parts are re-sent every few seconds, so an hour of them is plenty to rebuild from;
    // keeping a day would only make a first start replay a day of refreshes.
    const maxAgeMs = kind === 'uve' ? Math.min(limits.maxAgeMs, UVE_STREAM_MAX_AGE_MS) : limits.maxAgeMs;
    const config: Partial<StreamConfig> & { name: string } = {
      name,
      subjects,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_bytes: limits.maxBytes,
      max_age: nanos(maxAgeMs),
      num_replicas: 1,
    };
    const existing = await jsm.streams.info(name).catch(() => undefined);
    if (existing) await jsm.streams.update(name, { ...existing.config, ...config });
    else await jsm.streams.add(config);
    const consumer = {
      durable_name: durableName,
      // Each message acked by itself after its batch commits. Not ack-all: after a crash the bus
      // redelivers old messages after newer ones, and an ack-all of a newer one would
      // acknowledge old ones nobody stored.
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: 100_000,
    };
    const existingConsumer = await jsm.consumers.info(name, durableName).catch(() => undefined);
    if (existingConsumer && existingConsumer.config.ack_policy !== AckPolicy.Explicit) {
      // The ack policy cannot change in place; a new consumer replays the stream, and the
      // store's record ids make the replay harmless.
      await jsm.consumers.delete(name, durableName);
      await jsm.consumers.add(name, consumer);
    } else if (existingConsumer) await jsm.consumers.update(name, durableName, { ack_wait: consumer.ack_wait });
    else await jsm.consumers.add(name, consumer);
  }
}
