import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UveView } from '../uve/uve-state.js';
import { DISK_FULL_ALARM_MS, evaluateRules, REFUSED_CLAIM_ALARM_MS, RULES } from './rules.js';

const NOW = 1_000_000;
const disk = { sizeBytes: 10, maxBytes: 100, alarmRatio: 0.9, type: 'analytics', name: 'an-1' };

function vrouter(parts: Record<string, { fields: Record<string, unknown>; stale?: boolean }>): UveView {
  const sources = Object.entries(parts).map(([source, part]) => ({
    source,
    stale: part.stale ?? false,
    last_seen_ms: part.stale ? NOW - 60_000 : NOW,
    timestamp_ms: NOW,
    ttl_ms: 30_000,
  }));
  return {
    type: 'vrouter',
    name: 'host-1',
    value: {},
    parts: Object.fromEntries(Object.entries(parts).map(([source, part]) => [source, part.fields])),
    sources,
    stale: sources.every((s) => s.stale),
  };
}

const rulesOf = (view: UveView) => evaluateRules([view], disk, NOW).map((alarm) => alarm.rule);

test("the agent's own word decides whether a vrouter has a control connection", () => {
  // Connected by the agent's account: no alarm, whatever a control replica still believes.
  assert.deepEqual(
    rulesOf(
      vrouter({
        'vrouter-agent:host-1': { fields: { control_connected: true } },
        'control:ctl-1': { fields: { control_connected: false } },
      }),
    ),
    [],
  );
  // The agent says it is cut off while control holds a stale session: alarm.
  assert.deepEqual(
    rulesOf(
      vrouter({
        'vrouter-agent:host-1': { fields: { control_connected: false } },
        'control:ctl-1': { fields: { control_connected: true } },
      }),
    ),
    [RULES.vrouterWithoutControl],
  );
  // The agent is silent (stale): control's part decides, and the silence is an alarm too.
  assert.deepEqual(
    rulesOf(
      vrouter({
        'vrouter-agent:host-1': { fields: { control_connected: true }, stale: true },
        'control:ctl-1': { fields: { control_connected: false } },
      }),
    ).sort(),
    [RULES.processStoppedReporting, RULES.vrouterWithoutControl],
  );
  // Only stale parts: the entity is gone quiet; "stopped reporting" says it, nothing else.
  assert.deepEqual(rulesOf(vrouter({ 'vrouter-agent:host-1': { fields: {}, stale: true } })), [
    RULES.processStoppedReporting,
  ]);
});

test('a source that stops raises one alarm about itself, however many entities it reported', () => {
  const views = ['ri-1', 'ri-2', 'ri-3', 'ri-4'].map((name) => ({
    ...vrouter({ 'control:ctl-1': { fields: {}, stale: name !== 'ri-4' } }),
    type: 'routing-instance',
    name,
  }));
  const alarms = evaluateRules(views, disk, NOW);
  assert.equal(alarms.length, 1);
  assert.deepEqual(
    [alarms[0]!.rule, alarms[0]!.type, alarms[0]!.name, alarms[0]!.source],
    [RULES.processStoppedReporting, 'control', 'ctl-1', 'control:ctl-1'],
  );
  assert.match(
    alarms[0]!.description,
    /stopped reporting 3 of its 4 UVEs \(routing-instance ri-1, routing-instance ri-2, routing-instance ri-3\)/,
  );
});

test('the disk alarm fires above its share of the limit only', () => {
  assert.deepEqual(evaluateRules([], { ...disk, sizeBytes: 90 }, NOW), []);
  const [alarm] = evaluateRules([], { ...disk, sizeBytes: 91 }, NOW);
  assert.equal(alarm?.rule, RULES.diskNearLimit);
  assert.match(alarm?.description ?? '', /91 of 100 bytes/);
});

test('a port claim control refused raises an alarm on the vrouter that made it, for a while', () => {
  const claim = (atMs: number) => ({
    control_connected: true,
    refused_port_claims: 2,
    last_refused_port_claim: {
      interface_uuid: 'vmi-1',
      reason: 'host',
      detail: 'config binds the interface to another host',
      at_ms: atMs,
    },
  });
  const alarms = evaluateRules([vrouter({ 'control:ctl-1': { fields: claim(NOW - 1_000) } })], disk, NOW);
  assert.deepEqual(
    alarms.map((alarm) => alarm.rule),
    [RULES.vrouterRefusedPortClaims],
  );
  assert.match(alarms[0]!.description, /vrouter host-1 claimed .*2 refused.*vmi-1/);
  // Never refused, or refused longer ago than the window: no alarm.
  assert.deepEqual(rulesOf(vrouter({ 'control:ctl-1': { fields: { control_connected: true } } })), []);
  assert.deepEqual(rulesOf(vrouter({ 'control:ctl-1': { fields: claim(NOW - REFUSED_CLAIM_ALARM_MS - 1) } })), []);
});

test('a vrouter that dropped flow records in the last minute raises an alarm that says how many', () => {
  const dropping = { control_connected: true, flow_export_dropping: true, flow_records_dropped: 1234 };
  const alarms = evaluateRules([vrouter({ 'vrouter-agent:host-1': { fields: dropping } })], disk, NOW);
  assert.deepEqual(
    alarms.map((alarm) => alarm.rule),
    [RULES.flowRecordsDropped],
  );
  assert.match(alarms[0]!.description, /dropped flow records .*1234/);
  // Dropped long ago (the count stays), not now: no alarm.
  const past = { control_connected: true, flow_export_dropping: false, flow_records_dropped: 1234 };
  assert.deepEqual(rulesOf(vrouter({ 'vrouter-agent:host-1': { fields: past } })), []);
});

test('a vrouter that cannot write its state directory raises an alarm that says what', () => {
  const full = { control_connected: true, state_write_error: 'cannot write /state/ports/x.json: ENOSPC' };
  const alarms = evaluateRules([vrouter({ 'vrouter-agent:host-1': { fields: full } })], disk, NOW);
  assert.deepEqual(
    alarms.map((alarm) => alarm.rule),
    [RULES.vrouterStateWriteFailed],
  );
  assert.match(alarms[0]!.description, /host-1 cannot write .*ENOSPC/);
  assert.deepEqual(
    rulesOf(vrouter({ 'vrouter-agent:host-1': { fields: { control_connected: true, state_write_error: '' } } })),
    [],
  );
});

test('analytics on a full file system raises analytics-disk-full for five minutes after', () => {
  const full = { ...disk, lastFullMs: NOW - 1_000, droppedForRoom: 3 };
  const alarms = evaluateRules([], full, NOW);
  assert.deepEqual(
    alarms.map((alarm) => alarm.rule),
    [RULES.diskFull],
  );
  assert.match(alarms[0]!.description, /3 of the oldest partitions dropped/);
  assert.deepEqual(evaluateRules([], { ...full, lastFullMs: NOW - DISK_FULL_ALARM_MS - 1 }, NOW), []);
});
