// With the real config-api and NATS: an agent that stops acknowledging holds up no other agent,
// and what control keeps for it coalesces instead of growing with every change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { natsServerMissing, waitFor } from '@weft/kit/testing';
import { configApiMissing, getJson, PROJECT, startLab } from '../testing/lab.js';

const skip = natsServerMissing() ?? (await configApiMissing());

describe('a slow agent, with config-api', { skip }, () => {
  it('does not hold up the others, and its queue stays bounded by its state', async () => {
    const lab = await startLab();
    try {
      const network = await lab.network('slow', '10.61.0.0/24');
      const RI = `${PROJECT.join(':')}:slow:slow`;
      const fast = lab.agent('host-fast', '192.0.2.51');
      const flapper = lab.agent('host-flap', '192.0.2.52');
      const slow = lab.agent('host-slow', '192.0.2.53');
      const pods = [
        await lab.pod('slow-fast', network, 'host-fast'),
        await lab.pod('slow-flap', network, 'host-flap'),
        await lab.pod('slow-slow', network, 'host-slow'),
      ];
      [fast, flapper, slow].forEach((agent, index) => {
        agent.portUp({ uuid: pods[index]!.vmi.uuid, mac: pods[index]!.mac, addresses: [pods[index]!.cidr] });
      });
      await waitFor(
        () => [fast, flapper, slow].every((agent) => agent.synced && agent.channels[0]!.routes.get(RI)?.size === 3),
        {
          what: 'all three routes everywhere',
        },
      );

      slow.pauseAcks();
      const flap = pods[1]!;
      const prefix = `${flap.address}/32`;
      // Each change reaches the fast agent before the next is made: changes spread over time,
      // so that nothing but the ack window and the outbox can keep them from the slow agent.
      for (let i = 0; i < 40; i += 1) {
        flapper.portDown(flap.vmi.uuid);
        await waitFor(() => !fast.channels[0]!.routes.get(RI)!.has(prefix), {
          intervalMs: 2,
          what: 'down at the fast agent',
        });
        flapper.portUp({ uuid: flap.vmi.uuid, mac: flap.mac, addresses: [flap.cidr] });
        await waitFor(() => fast.channels[0]!.routes.get(RI)!.has(prefix), {
          intervalMs: 2,
          what: 'up at the fast agent',
        });
      }
      flapper.portDown(flap.vmi.uuid);
      // The fast agent follows to the end while the slow one is stuck.
      await waitFor(() => !fast.channels[0]!.routes.get(RI)!.has(prefix), {
        what: 'the fast agent to see the last down',
      });
      const agents = await getJson(`${lab.controls[0]!.httpUrl}/agents`);
      const stuck = agents.agents.find((agent: { host: string }) => agent.host === 'host-slow').session;
      assert.ok(stuck.seq - stuck.acked <= 16, `at most the ack window in flight (${stuck.seq - stuck.acked})`);
      assert.ok(stuck.queue_depth <= 1, `one coalesced entry for the one flapping prefix, not ${stuck.queue_depth}`);

      slow.resumeAcks();
      await waitFor(() => !slow.channels[0]!.routes.get(RI)!.has(prefix), { what: 'the slow agent to catch up' });
      assert.equal(slow.channels[0]!.routes.get(RI)!.size, 2);
    } finally {
      await lab.close();
    }
  });
});
