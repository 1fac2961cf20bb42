// The essential fault cases, in `npm test`: kill -9 of control, of config-api and of an agent,
// and nats-server down (config still reaches control through Config.Watch), each under load on a lab of two hosts (a 20 ms ping between pods on the two hosts, REST
// writes, and pod churn through weft-cni on the agent's host). What users rely on: no
// acknowledged write is lost, no packet between established pods is lost, pod deletion never
// fails, and everything is ready again. The full suite, with its table, is `npm run faults`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { labUnavailable } from '../lab/lab.js';
import { faultCase } from './cases.js';
import type { FaultLab } from './fault-lab.js';
import { runFaultCase } from './run-case.js';
import { upTrafficLab } from './traffic-lab.js';

const skip = labUnavailable();
let fault: FaultLab;

before(async () => {
  if (skip) return;
  fault = await upTrafficLab('q');
});

after(async () => {
  if (skip || !fault) return;
  await fault.down();
});

for (const [index, name] of ['kill -9 control', 'kill -9 config-api', 'kill -9 agent (h1)'].entries()) {
  test(`${name}: no acknowledged write lost, no packet lost, back to ready`, { skip }, async () => {
    // Flow records are counted by `npm run faults` (waiting for the last of them takes seconds per case).
    const verdict = await runFaultCase(fault.lab, faultCase(name), index, { flows: false });
    assert.ok(verdict.writes.acknowledged > 0, 'writes went on around the fault');
    assert.equal(verdict.writes.lost, 0, 'acknowledged writes lost');
    assert.ok(verdict.ping.sent > 0);
    assert.equal(verdict.ping.lostDuring, 0, 'packets lost during the fault');
    assert.equal(verdict.ping.lostAfter, 0, 'packets lost after the fault');
    if (verdict.churn) {
      assert.deepEqual(verdict.churn.deleteFailures, [], 'pod deletion never fails');
      // ADD while the agent is away waits for it, or fails with 11 (and leaves nothing behind).
      assert.deepEqual(
        verdict.churn.addFailures.filter((code) => code !== '11'),
        [],
      );
    }
  });
}

test('nats-server down: config changes still reach control (through Config.Watch), and nothing is lost', {
  skip,
}, async () => {
  const verdict = await runFaultCase(fault.lab, faultCase('nats-server down 5 s'), 3, { flows: false });
  assert.match(verdict.during ?? '', /reached control/);
  assert.equal(verdict.writes.lost, 0, 'acknowledged writes lost');
  assert.equal(verdict.ping.lostDuring, 0, 'packets lost during the fault');
  assert.equal(verdict.ping.lostAfter, 0, 'packets lost after the fault');
});
