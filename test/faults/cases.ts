// The faults, each one thing done to a running lab and how it ends. The lab has no supervisor,
// so a case that kills a daemon also starts it again at once, as `npm start`'s supervisor does
// after its first backoff; the time back to ready includes that start.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@weft/kit/testing';
import { PROJECT } from '../lab/config-client.js';
import type { Lab } from '../lab/lab.js';
import { sh } from '../lab/shell.js';

export interface FaultCase {
  name: string;
  /** Pod churn through weft-cni on h1 while the fault lasts (the agent's faults). */
  churn?: boolean;
  inject(lab: Lab): unknown;
  /** How long the fault lasts before `recover` (a kill is over at once). */
  holdMs: number;
  recover(lab: Lab): Promise<void>;
  /** Checked while the fault lasts (it runs within the hold): what must still work, said in a few words. */
  during?(lab: Lab): Promise<string>;
}

function pidOf(lab: Lab, name: string): number {
  const found = lab.process(name);
  if (!found) throw new Error(`the lab runs no ${name}`);
  return found.pid;
}

function killController(name: string): FaultCase {
  return {
    name: `kill -9 ${name}`,
    inject: (lab) => process.kill(pidOf(lab, name), 'SIGKILL'),
    holdMs: 0,
    recover: (lab) => lab.restartController(name),
  };
}

/** SIGSTOP for 10 s, then SIGCONT: a daemon that hangs (a stuck disk, a long GC) and comes back. */
function stopFor10s(name: string, processName = name, churn = false): FaultCase {
  return {
    name: `SIGSTOP ${name} 10 s`,
    churn,
    inject: (lab) => process.kill(pidOf(lab, processName), 'SIGSTOP'),
    holdMs: 10_000,
    recover: async (lab) => {
      process.kill(pidOf(lab, processName), 'SIGCONT');
    },
  };
}

let networksMadeDuring = 0;

/**
 * A virtual network created while NATS is down reaches control all the same: config-api's
 * change events cannot be published, and control hears of the change through Config.Watch.
 */
async function configReachesControl(lab: Lab): Promise<string> {
  networksMadeDuring += 1;
  const name = `during-nats-${networksMadeDuring}`;
  const created = Date.now();
  await lab.config.createNetwork(name, `10.${200 + networksMadeDuring}.0.0/24`);
  const instance = [...PROJECT, name, name].join(':');
  await waitFor(
    async () => {
      const response = await fetch(`http://127.0.0.1:${lab.ports.controlHttp}/routing-instances`);
      const body = (await response.json()) as { routing_instances: { name: string }[] };
      return body.routing_instances.some((item) => item.name === instance);
    },
    { timeoutMs: 15_000, intervalMs: 100, what: `control to compile ${name} while NATS is down` },
  );
  return `a network made during the outage reached control in ${((Date.now() - created) / 1000).toFixed(1)} s`;
}

/** nats-server gone for `holdMs`, then started again on its JetStream directory. */
export function natsDown(holdMs: number): FaultCase {
  return {
    name: `nats-server down ${holdMs / 1000} s`,
    inject: (lab) => process.kill(pidOf(lab, 'nats-server'), 'SIGKILL'),
    holdMs,
    recover: (lab) => lab.restartController('nats-server'),
    during: configReachesControl,
  };
}

/** The partition really outlasts the hold time: control says h2 is headless, its routes stale. */
async function headlessPastHoldTime(lab: Lab): Promise<string> {
  const injected = Date.now();
  const host = lab.host('h2').name;
  const record = await waitFor(
    async () => {
      const response = await fetch(`http://127.0.0.1:${lab.ports.controlHttp}/agents`);
      const body = (await response.json()) as {
        agents: { host: string; staleSince?: number; stale_routes: number }[];
      };
      return body.agents.find((agent) => agent.host === host && agent.staleSince !== undefined);
    },
    { timeoutMs: 58_000, intervalMs: 250, what: `control to keep ${host}'s routes as stale past the hold time` },
  );
  const after = ((record.staleSince! - injected) / 1000).toFixed(1);
  return `h2 headless, its ${record.stale_routes} routes kept stale from ${after} s on`;
}

const agentOfH1 = (lab: Lab) => `agent-${lab.host('h1').name}`;
const cniSocketOf = (lab: Lab) => join(lab.dir, lab.host('h1').name, 'agent.sock');

export const faultCases: FaultCase[] = [
  killController('control'),
  killController('config-api'),
  killController('analytics'),
  killController('nats-server'),
  natsDown(60_000),
  {
    name: 'kill -9 agent (h1)',
    churn: true,
    inject: (lab) => process.kill(pidOf(lab, agentOfH1(lab)), 'SIGKILL'),
    holdMs: 0,
    recover: (lab) => lab.startAgent(lab.host('h1')),
  },
  stopFor10s('control'),
  stopFor10s('config-api'),
  stopFor10s('analytics'),
  stopFor10s('nats-server'),
  {
    // DEL times out at the stopped agent (agentTimeoutMs) and is queued; ADD waits.
    ...stopFor10s('agent (h1)', '', true),
    inject: (lab) => process.kill(pidOf(lab, agentOfH1(lab)), 'SIGSTOP'),
    recover: async (lab) => {
      process.kill(pidOf(lab, agentOfH1(lab)), 'SIGCONT');
    },
  },
  {
    // The agent notices within its upkeep interval (2 s) and listens again; meanwhile ADD waits
    // (or fails with 11, leaving nothing) and DEL is queued.
    name: "agent's CNI socket removed (h1)",
    churn: true,
    inject: (lab) => rmSync(cniSocketOf(lab), { force: true }),
    holdMs: 0,
    recover: async (lab) => {
      await waitFor(() => existsSync(cniSocketOf(lab)), {
        timeoutMs: 30_000,
        what: 'the agent to make its CNI socket again',
      });
    },
  },
  {
    // Longer than control's hold time (30 s) and the time control takes to notice the session is
    // gone (the kit's GRPC_KEEPALIVE: a ping every 10 s, 20 s for the answer, so up to 30 s; a
    // cut that ends before both have passed never reaches the stale path this case is about):
    // h2's agent runs headless on its last state, and
    // control keeps its routes as stale (WEFT_CONTROL_AGENT_STALE_TIME, 1 h); pod traffic between
    // h1 and h2 is on another path (VXLAN between the hosts' underlay addresses), so what it
    // would lose is what the control plane took away.
    name: "control cut off from h2's agent 75 s (past the hold time)",
    inject: (lab) =>
      sh('ip', ['-n', lab.host('h2').netns, 'route', 'add', 'blackhole', `${lab.topology.controllerAddress}/32`]),
    holdMs: 75_000,
    recover: async (lab) => {
      sh('ip', ['-n', lab.host('h2').netns, 'route', 'del', 'blackhole', `${lab.topology.controllerAddress}/32`]);
    },
    during: headlessPastHoldTime,
  },
  {
    name: 'underlay link of h2 down 10 s',
    inject: (lab) => sh('ip', ['-n', `${lab.topology.lab}-ul`, 'link', 'set', 'h2', 'down']),
    holdMs: 10_000,
    recover: async (lab) => {
      sh('ip', ['-n', `${lab.topology.lab}-ul`, 'link', 'set', 'h2', 'up']);
    },
  },
];

/** The cases of `npm test` that the full suite does not run as such (shorter). */
const quickOnly = [natsDown(5_000)];

export function faultCase(name: string): FaultCase {
  const found = [...faultCases, ...quickOnly].find((item) => item.name === name);
  if (!found) throw new Error(`no fault case ${name}`);
  return found;
}
