// Control believes an agent only where config agrees, and only who its certificate says it is,
// shown in the lab with real pods:
// - a genuine agent (a host config knows, with a pod of its own and a certificate of the lab's
//   authority) claims another host's pod, and its own pod with an address config did not
//   allocate: no route changes anywhere, at control or at any host; ping between the real pods
//   never drops a packet; the claims are counted by control and raised as an alarm by analytics;
// - impostors (a certificate from another authority; one of the lab's for another host name)
//   are refused, and the real host's session and routes stay as they were;
// - a NATS client without credentials cannot get onto the lab's bus to publish config changes.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { SimulatedAgent } from '@weft/control/testing';
import { tempDir, waitFor } from '@weft/kit/testing';
import { connect } from 'nats';
import { identity } from '../lab/certificates.js';
import { freeLabPorts, freeUnderlaySubnet, Lab, labUnavailable } from '../lab/lab.js';
import { netnsPath } from '../lab/shell.js';

const skip = labUnavailable();
let lab: Lab;
let dir: ReturnType<typeof tempDir>;
const INSTANCE = 'default-domain:default-project:trust:trust';

before(async () => {
  if (skip) return;
  dir = tempDir('weft-lab-trust-');
  const ports = await freeLabPorts();
  lab = await Lab.up({
    name: `wft${process.pid % 100_000}`,
    hosts: 2,
    subnet: freeUnderlaySubnet(30 + (process.pid % 150)),
    dir: dir.path,
    ports,
  });
  await lab.config.createNetwork('trust', '10.23.0.0/24');
  await lab.addPod('a', 'h1', ['trust']);
  await lab.addPod('b', 'h2', ['trust']);
});

after(async () => {
  if (skip || !lab) return;
  await lab.down();
  dir.remove();
});

/** GET with the lab's admin token (analytics authenticates; control's introspection ignores it). */
async function json<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: lab.authHeaders });
  assert.equal(response.status, 200, `${url}: ${response.status}`);
  return (await response.json()) as T;
}

/** What every place that holds routes holds: control's table of the instance, and each host's. */
async function routesEverywhere(): Promise<string> {
  const control = await json<{ routes: unknown[] }>(`${lab.controlUrl}/routes?vrf=${INSTANCE}`);
  const hosts = [];
  for (const host of lab.topology.hosts) {
    const state = await json<{ routes: unknown }>(`${lab.agentUrl(host)}/host-state`);
    hosts.push([host.name, state.routes]);
  }
  return JSON.stringify({ control: control.routes, hosts });
}

async function refusedClaims(reason: string): Promise<number> {
  const text = await (await fetch(`${lab.controlUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((row) => row.startsWith(`weft_control_port_claims_refused_total{reason="${reason}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** A ping that runs until stopped, then says how many it sent and how many came back. */
function continuousPing(pod: string, address: string): { stop(): Promise<{ sent: number; received: number }> } {
  const netns = lab.pods.find((item) => item.name === pod)!.netns;
  const child: ChildProcess = spawn('nsenter', [`--net=${netnsPath(netns)}`, 'ping', '-i', '0.1', '-W', '1', address], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      const match = /(\d+) packets transmitted, (\d+) received/.exec(output);
      assert.ok(match, `ping's summary: ${output.slice(-300)}`);
      return { sent: Number(match[1]), received: Number(match[2]) };
    },
  };
}

test("a genuine agent that claims another host's pod, or an address config did not allocate, changes no route and drops no ping", {
  skip,
}, async () => {
  const bAddress = lab.podAddress('b', 'trust');
  const bPod = lab.pods.find((pod) => pod.name === 'b')!;
  await waitFor(
    () => {
      try {
        lab.exec('a', 'ping', ['-c', '1', '-W', '1', bAddress]);
        return true;
      } catch {
        return false;
      }
    },
    { what: 'pod a to reach pod b', timeoutMs: 30_000 },
  );

  // A third host config knows, with a pod of its own that no CNI built: its agent is genuine.
  const intruderHost = `${lab.topology.lab}-h9`;
  await lab.config.ensureVirtualRouter(intruderHost, '192.0.2.99');
  const own = await lab.config.createPod('default/c', intruderHost, ['trust']);
  const intruder = new SimulatedAgent({
    host: intruderHost,
    underlay: '192.0.2.99',
    controls: [lab.controlAgentAddress],
    tls: identity(lab.tlsDir, intruderHost),
  }).start();
  try {
    await waitFor(() => intruder.synced && intruder.channels[0]!.interfaces.has(own.interfaces[0]!.uuid), {
      what: 'the third host to get its config and routes',
    });
    const before = await routesEverywhere();
    const ping = continuousPing('a', bAddress);

    // Another host's pod, with its own address; then its own pod, with that same address.
    intruder.portUp({
      uuid: bPod.config!.interfaces[0]!.uuid,
      mac: '02:de:ad:00:00:01',
      addresses: [`${bAddress}/24`],
    });
    intruder.portUp({ uuid: own.interfaces[0]!.uuid, mac: '02:de:ad:00:00:02', addresses: [`${bAddress}/24`] });
    await waitFor(async () => (await refusedClaims('host')) === 1 && (await refusedClaims('address')) === 1, {
      what: 'control to refuse both claims (after its grace time)',
      timeoutMs: 30_000,
    });
    const alarm = await waitFor(
      async () => {
        const { alarms } = await json<{ alarms: { rule: string; type: string; name: string }[] }>(
          `${lab.analyticsUrl}/analytics/alarms?type=vrouter`,
        );
        return alarms.find((item) => item.rule === 'vrouter-refused-port-claims' && item.name === intruderHost);
      },
      { what: 'the refused-claims alarm on the third host', timeoutMs: 30_000 },
    );
    assert.ok(alarm);

    const stats = await ping.stop();
    assert.equal(await routesEverywhere(), before, 'no route changed at control or at any host');
    // The third host sees pod b where config says it is: behind host h2's tunnel.
    const seen = intruder.routes().get(INSTANCE)?.get(`${bAddress}/32`);
    assert.equal(seen?.next_hop?.tunnel?.underlay_address, lab.host('h2').underlayAddress);
    assert.ok(stats.sent > 0);
    assert.equal(
      stats.received,
      stats.sent,
      `ping between the real pods lost ${stats.sent - stats.received} of ${stats.sent}`,
    );
  } finally {
    intruder.close();
    await lab.config.deletePod(own);
  }
});

async function sessionsRefused(code: string): Promise<number> {
  const text = await (await fetch(`${lab.controlUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((row) => row.startsWith(`weft_control_agent_sessions_refused_total{reason="${code}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

interface AgentRecord {
  host: string;
  connected: boolean;
  since: number;
}

test('an impostor agent is refused: a certificate from another authority, or one for another host name', {
  skip,
}, async () => {
  const bAddress = lab.podAddress('b', 'trust');
  const h2 = lab.host('h2');
  const agentsBefore = await json<{ agents: AgentRecord[] }>(`${lab.controlUrl}/agents`);
  const h2Before = agentsBefore.agents.find((agent) => agent.host === h2.name);
  assert.equal(h2Before?.connected, true);
  const routesBefore = await routesEverywhere();
  const ping = continuousPing('a', bAddress);

  // Another authority's certificate, for the very name of host h2.
  const foreign = tempDir('weft-lab-foreign-ca-');
  const stranger = new SimulatedAgent({
    host: h2.name,
    underlay: '192.0.2.98',
    controls: [lab.controlAgentAddress],
    tls: { ...identity(foreign.path, h2.name), caFile: identity(lab.tlsDir, h2.name).caFile },
  }).start();
  // The lab's authority, but a certificate for another host, saying hello as h2.
  const liar = new SimulatedAgent({
    host: h2.name,
    underlay: '192.0.2.97',
    controls: [lab.controlAgentAddress],
    tls: identity(lab.tlsDir, `${lab.topology.lab}-h8`),
  }).start();
  try {
    await waitFor(() => stranger.channels[0]!.lastError, { what: 'the stranger to be refused' });
    await waitFor(() => liar.channels[0]!.lastError, { what: 'the liar to be refused' });
    // 7 is PERMISSION_DENIED; a handshake that fails never reaches control's code (14, UNAVAILABLE).
    assert.match(liar.channels[0]!.lastError!, /^7 hello\.host_name: ".*-h2" is not a name of the client certificate/);
    assert.match(stranger.channels[0]!.lastError!, /^14 /);
    assert.equal(stranger.channels[0]!.messages, 0, 'the stranger got nothing');
    assert.equal(liar.channels[0]!.messages, 0, 'the liar got nothing');
    assert.ok((await sessionsRefused('AGENT_NOT_THIS_HOST')) >= 1);

    const after = await json<{ agents: AgentRecord[] }>(`${lab.controlUrl}/agents`);
    const h2After = after.agents.find((agent) => agent.host === h2.name);
    assert.deepEqual(
      { connected: h2After?.connected, since: h2After?.since },
      { connected: true, since: h2Before.since },
      "h2's own session is the one it had",
    );
    assert.equal(await routesEverywhere(), routesBefore, 'no route changed at control or at any host');
  } finally {
    stranger.close();
    liar.close();
    foreign.remove();
  }
  const stats = await ping.stop();
  assert.ok(stats.sent > 0);
  assert.equal(
    stats.received,
    stats.sent,
    `ping between the real pods lost ${stats.sent - stats.received} of ${stats.sent}`,
  );
});

test("a NATS client without credentials cannot get onto the lab's bus to publish on weft.config.changes", {
  skip,
}, async () => {
  const caFile = identity(lab.tlsDir, 'nats-server').caFile;
  for (const tls of [undefined, { caFile }]) {
    const attempt = connect({ servers: lab.natsUrl, reconnect: false, timeout: 5_000, ...(tls ? { tls } : {}) }).then(
      async (connection) => {
        connection.publish('weft.config.changes', new Uint8Array([1]));
        await connection.flush();
        await connection.close();
        return 'published';
      },
      (error: Error) => `refused: ${error.message}`,
    );
    assert.match(await attempt, /^refused/, `a client with ${tls ? 'only the CA' : 'no TLS'} got onto the bus`);
  }
});
