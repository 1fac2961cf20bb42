// Wire compatibility with the last release (test/compat/last-release): the .proto contracts
// pass `buf breaking`, every recorded NATS message still decodes, the release decodes what this
// version sends, and the recorded REST requests are still accepted with the answers they had.
// What breaks must be declared in accepted-breaks.json with its migration.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { STREAMS } from '@weft/analytics';
import { startConfigApi } from '@weft/config-api';
import { CONFIG_CHANGES_SUBJECT } from '@weft/kit';
import { natsServerMissing, tempDir } from '@weft/kit/testing';
import { protoRoot } from '@weft/proto';
import {
  decoderFor,
  messageTypeOf,
  readNatsExamples,
  readRestExchanges,
  recordFromRunningCode,
  restProblems,
  shapeDifferences,
  withJsonFields,
} from './examples.js';
import { protoBreaks } from './proto-breaking.js';
import {
  applyAcceptedBreaks,
  describeProblems,
  lastRelease,
  type Problem,
  readAcceptedBreaks,
  readReleaseManifest,
} from './release.js';

const accepted = readAcceptedBreaks();

function assertNoUndeclared(problems: Problem[]) {
  const { undeclared } = applyAcceptedBreaks(problems, accepted);
  assert.deepEqual(
    undeclared,
    [],
    `breaks against release ${readReleaseManifest().version} (${readReleaseManifest().commit.slice(0, 12)}) ` +
      `that test/compat/accepted-breaks.json does not declare:\n${describeProblems(undeclared)}`,
  );
}

describe('.proto contracts against the last release (buf breaking)', () => {
  test('this checkout has no undeclared break', () => {
    assertNoUndeclared(protoBreaks(protoRoot, lastRelease.proto));
  });

  test('changing a field number fails the check, and declaring it with a migration lets it pass', () => {
    const scratch = tempDir('weft-compat-proto-');
    try {
      cpSync(join(protoRoot, 'weft'), join(scratch.path, 'weft'), { recursive: true });
      const file = join(scratch.path, 'weft/config/v1/config.proto');
      const text = readFileSync(file, 'utf8');
      const changed = text.replace('  uint64 from_revision = 1;', '  uint64 from_revision = 9;');
      assert.notEqual(changed, text, 'the field to renumber is in config.proto');
      writeFileSync(file, changed);

      const problems = protoBreaks(scratch.path, lastRelease.proto);
      assert.ok(
        problems.some(
          (p) => p.path === 'weft/config/v1/config.proto' && /"from_revision".*"WatchRequest"/.test(p.message),
        ),
        `buf names the renumbered field's message:\n${describeProblems(problems)}`,
      );
      assert.ok(applyAcceptedBreaks(problems, accepted).undeclared.length > 0, 'undeclared, so npm test fails');

      const declared = join(scratch.path, 'accepted-breaks.json');
      const entries = [...new Set(problems.map((p) => p.rule))].map((rule) => ({
        kind: 'proto',
        path: 'weft/config/v1/config.proto',
        rule,
        message: 'WatchRequest',
        why: 'a test renumbers WatchRequest.from_revision',
        migration: 'control is upgraded before config-api, and reads both numbers until the next release',
      }));
      writeFileSync(declared, JSON.stringify({ release: readReleaseManifest().commit, breaks: entries }));
      assert.deepEqual(applyAcceptedBreaks(problems, readAcceptedBreaks(declared)).undeclared, []);

      writeFileSync(
        declared,
        JSON.stringify({ release: readReleaseManifest().commit, breaks: [{ ...entries[0], migration: '' }] }),
      );
      assert.throws(() => readAcceptedBreaks(declared), /breaks\[0\]\.migration is required/);
      writeFileSync(declared, JSON.stringify({ release: 'an-older-release', breaks: entries }));
      assert.throws(() => readAcceptedBreaks(declared), /is not the recorded last release/);
    } finally {
      scratch.remove();
    }
  });
});

describe('NATS messages against the last release', { skip: natsServerMissing() }, () => {
  const examples = readNatsExamples();
  const decodeNow = decoderFor(protoRoot);

  test('every subject the release published on is still subscribed to, with the same message type', () => {
    assert.ok(examples.length >= 4, 'config changes, UVEs, flows and logs');
    const subscribed = [CONFIG_CHANGES_SUBJECT, ...Object.values(STREAMS).flatMap((s) => s.subjects)];
    for (const example of examples) {
      assert.equal(messageTypeOf(example.subject), example.messageType, example.subject);
      const heard = subscribed.some((pattern) =>
        pattern.endsWith('>') ? example.subject.startsWith(pattern.slice(0, -1)) : pattern === example.subject,
      );
      assert.ok(heard, `${example.subject}: no consumer subscribes to it any more`);
    }
  });

  test("this version decodes the release's messages as the release did", () => {
    const problems = examples.flatMap((example) =>
      shapeDifferences(example.decoded, decodeNow(example.messageType, Buffer.from(example.base64, 'base64'))).map(
        (difference): Problem => ({
          kind: 'nats',
          path: example.name,
          rule: difference.split(':')[0]!,
          message: difference,
        }),
      ),
    );
    assertNoUndeclared(problems);
  });

  test('the release decodes what this version sends, with every field it knew', async () => {
    const decodeThen = decoderFor(lastRelease.proto);
    const fresh = await recordFromRunningCode();
    const problems: Problem[] = [];
    for (const was of examples) {
      const now = fresh.nats.find((e) => e.messageType === was.messageType);
      if (!now) {
        problems.push({
          kind: 'nats',
          path: was.name,
          rule: '$',
          message: `nothing is published as ${was.messageType}`,
        });
        continue;
      }
      const asReleaseReadsIt = decodeThen(now.messageType, Buffer.from(now.base64, 'base64'));
      for (const difference of shapeDifferences(withJsonFields(was.decoded), withJsonFields(asReleaseReadsIt)))
        problems.push({ kind: 'nats', path: was.name, rule: difference.split(':')[0]!, message: difference });
    }
    assertNoUndeclared(problems);
  });
});

describe('REST API against the last release', () => {
  test('the recorded requests are accepted, answered with the same status and every recorded field', async () => {
    const state = tempDir('weft-compat-rest-');
    const api = await startConfigApi({ stateDir: state.path, logLevel: 'silent' });
    try {
      const recorded = readRestExchanges();
      assert.ok(
        recorded.some((e) => e.method === 'POST' && e.status === 200),
        'a create was recorded',
      );
      assert.ok(
        recorded.some((e) => e.status >= 400),
        'an error answer was recorded',
      );
      assertNoUndeclared(await restProblems(api.restUrl, recorded));
    } finally {
      await api.close();
      state.remove();
    }
  });

  test('an answer that lost a recorded field, or changed a value, is a break', async () => {
    const recorded = readRestExchanges();
    const read = recorded.find((e) => e.name === 'read-virtual-network')!;
    const answer = structuredClone(read.response) as { 'virtual-network': Record<string, unknown> };
    delete answer['virtual-network'].fq_name;
    answer['virtual-network'].display_name = 'renamed';
    const differences = shapeDifferences(read.response, answer);
    assert.ok(
      differences.some((d) => d.startsWith('$.virtual-network.fq_name: missing')),
      differences.join('\n'),
    );
    assert.ok(
      differences.some((d) => d.startsWith('$.virtual-network.display_name: was')),
      differences.join('\n'),
    );
    assert.deepEqual(shapeDifferences(read.response, read.response), []);
  });
});
