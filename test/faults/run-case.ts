// Runs one fault case on a lab that has pods `a` (h1) and `b` (h2) on network `red`: starts the
// load, injects the fault, recovers, waits until every daemon is ready again, lets the load run
// on a little, and says what was lost.
import { waitFor } from '@weft/kit/testing';
import type { Lab } from '../lab/lab.js';
import type { FaultCase } from './cases.js';
import { type FlowVerdict, flowLoad, flowSummary } from './flow-load.js';
import {
  type ChurnVerdict,
  continuousPing,
  type PingVerdict,
  podChurn,
  restWrites,
  type WriteVerdict,
} from './load.js';

export interface FaultVerdict {
  name: string;
  ping: PingVerdict;
  writes: WriteVerdict;
  churn?: ChurnVerdict;
  /** Flow records of new flows from `a` to `b` across the fault: lost and doubled in analytics. */
  flows?: FlowVerdict;
  /** From the injection until every daemon answered ready again. */
  backToReadyMs: number;
  /** What the case checked while the fault lasted. */
  during?: string;
}

const SETTLE_MS = 2_000;
const AFTER_MS = 3_000;

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200;
  } catch {
    return false;
  }
}

export async function allReady(lab: Lab): Promise<boolean> {
  const { ports } = lab;
  const urls = [
    `http://127.0.0.1:${ports.configRest}/readyz`,
    `http://127.0.0.1:${ports.controlHttp}/readyz`,
    `http://127.0.0.1:${ports.analytics}/readyz`,
    ...lab.topology.hosts.map((host) => `${lab.agentUrl(host)}/readyz`),
  ];
  return (await Promise.all(urls.map(ready))).every(Boolean);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runFaultCase(
  lab: Lab,
  fault: FaultCase,
  index: number,
  /** Whether to count flow records (waits up to 30 s after the case for the last of them). */
  { flows: countFlows = true }: { flows?: boolean } = {},
): Promise<FaultVerdict> {
  await waitFor(() => allReady(lab), { timeoutMs: 60_000, what: `the lab to be ready before "${fault.name}"` });
  const ping = continuousPing(lab, 'a', lab.podAddress('b', 'red'));
  const writes = restWrites(lab.config, `fault${index}`);
  const flows = countFlows ? flowLoad(lab, 'a', lab.podAddress('b', 'red'), 40_000 + index) : undefined;
  const churn = fault.churn ? podChurn(lab, 'h1', 'red', `churn${index}x`) : undefined;
  // A pod the runtime deletes while the fault lasts: its DEL must not wait for the agent.
  const doomed = fault.churn ? await lab.addPod(`doomed${index}`, 'h1', ['red']) : undefined;
  await sleep(SETTLE_MS);
  const faultFrom = ping.now();
  const injected = Date.now();
  let faultTo = faultFrom;
  let backToReadyMs = 0;
  let duringNote: string | undefined;
  let doomedDeleted: Promise<unknown> | undefined;
  let failure: unknown;
  try {
    await fault.inject(lab);
    const during = fault.during?.(lab).then(
      (note) => ({ note }),
      (error: unknown) => ({ error }),
    );
    doomedDeleted = doomed
      ? lab.deletePod(doomed.name).then(
          () => undefined,
          (error: unknown) => error,
        )
      : undefined;
    await sleep(fault.holdMs);
    const checked = await during;
    await fault.recover(lab);
    await waitFor(() => allReady(lab), { timeoutMs: 120_000, intervalMs: 100, what: `ready after "${fault.name}"` });
    backToReadyMs = Date.now() - injected;
    faultTo = ping.now();
    // A check that failed fails the case, once the lab is whole again.
    if (checked && 'error' in checked) throw checked.error;
    duringNote = checked?.note;
    await sleep(AFTER_MS);
  } catch (error) {
    failure = error;
  }
  // The load stops in every case: a ping or a writer left running would outlive the lab.
  const churnVerdict = await churn?.stop();
  const doomedFailure = await doomedDeleted;
  if (churnVerdict && doomed) {
    if (doomedFailure) churnVerdict.deleteFailures.push(String(doomedFailure));
    else churnVerdict.deleted += 1;
  }
  const writeVerdict = await writes.stop();
  const pingVerdict = await ping.stop(faultFrom, faultTo);
  const flowVerdict = await flows?.stop();
  if (failure) throw failure;
  return {
    name: fault.name,
    ping: pingVerdict,
    writes: writeVerdict,
    ...(churnVerdict ? { churn: churnVerdict } : {}),
    ...(flowVerdict ? { flows: flowVerdict } : {}),
    backToReadyMs,
    ...(duringNote ? { during: duringNote } : {}),
  };
}

export function verdictTable(verdicts: FaultVerdict[]): string {
  const rows = verdicts.map((item) =>
    [
      item.name,
      `${item.ping.lostDuring} / ${item.ping.sent}`,
      String(item.ping.lostAfter),
      `${item.writes.lost} of ${item.writes.acknowledged} (${item.writes.refused} refused)`,
      item.churn
        ? `${item.churn.added} / ${item.churn.deleted} / ${item.churn.addFailures.length} (${item.churn.addFailures.join(', ') || '—'}) / ${item.churn.deleteFailures.length}`
        : '—',
      item.flows ? `${flowSummary(item.flows)} of ${item.flows.sent}` : '—',
      (item.backToReadyMs / 1000).toFixed(1),
      item.during ?? '',
    ].join(' | '),
  );
  return [
    '| fault | pings lost during / sent | pings lost after | acknowledged writes lost | pods added / deleted / ADD failed (codes) / DEL failed | flow records lost / doubled of flows, per host | back to ready (s) | checked during the fault |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row} |`),
  ].join('\n');
}
