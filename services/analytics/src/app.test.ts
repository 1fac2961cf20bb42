import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger, createMetrics, Readiness } from '@weft/kit';
import { tempDir } from '@weft/kit/testing';
import { buildAnalytics } from './app.js';

test('a retention that would need more partitions than a query can span is refused at start', async () => {
  const dir = tempDir('weft-analytics-app-');
  try {
    const deps = {
      logger: createLogger({ service: 'analytics', level: 'silent' }),
      metrics: createMetrics('analytics-app-test'),
      readiness: new Readiness(),
    };
    await assert.rejects(
      () =>
        buildAnalytics(
          {
            stateDir: join(dir.path, 'state'),
            natsUrl: ['nats://127.0.0.1:1'],
            partitionMs: 60_000,
            retentionMs: 7 * 86_400_000,
          },
          deps,
        ),
      /more than 400 partitions; lengthen the partition or shorten the retention/,
    );
    // Refused before anything was written.
    assert.equal(existsSync(join(dir.path, 'state')), false);
  } finally {
    dir.remove();
  }
});
