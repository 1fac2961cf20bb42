import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { protoRoot } from './index.js';

test('the generated types in proto/gen match the .proto files', () => {
  const result = spawnSync(process.execPath, [join(protoRoot, 'gen.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
});
