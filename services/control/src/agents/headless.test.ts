// With the real config-api and NATS: a host cut off from control past the hold time runs
// headless, and its routes stay at the other agents as stale (long-lived graceful restart).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { natsServerMissing, waitFor } from '@weft/kit/testing';
import { messageCodec } from '@weft/proto';
import type { Uve, Uve__Output } from '@weft/proto/gen/weft/analytics/v1/Uve.js';
import { connect } from 'nats';
import { configApiMissing, getJson, type Lab, PROJECT, startLab } from '../testing/lab.js';

const skip = natsServerMissing() ?? (await configApiMissing());

async function staleRoutesMetric(lab: Lab): Promise<number> {
  const text = await (await fetch(`${lab.controls[0]!.httpUrl}/metrics`)).text();
  const match = /^weft_control_stale_routes (\d+)$/m.exec(text);
  assert.ok(match, 'weft_control_stale_routes is exported');
  return Number(match[1]);
}

// biome-ignore lint/suspicious/noExplicitAny: the introspection answer as JSON
async function agentRecord(lab: Lab, host: string): Promise<any> {
  const { agents } = await getJson(`${lab.controls[0]!.httpUrl}/agents`);
  // biome-ignore lint/suspicious/noExplicitAny: the introspection answer as JSON
  return agents.find((agent: any) => agent.host === host);
}

describe('a host cut off from control past the hold time, with config-api', { skip }, () => {
  it('keeps its routes at the other agents as stale, withdraws one config deletes, and on its return sends the others nothing', async () => {
    const holdTimeMs = 1_000;
    const staleTimeMs = 120_000;
    const lab = await startLab({ holdTimeMs, staleTimeMs });
    const bus = await connect({ servers: lab.natsUrl });
    const codec = messageCodec<Uve, Uve__Output>('weft.analytics.v1.Uve');
    const vrouterUves = new Map<string, Record<string, unknown>>();
    bus.subscribe('weft.uve.vrouter', {
      callback: (_error, message) => {
        const uve = codec.decode(message.data);
        if (!uve.deleted) vrouterUves.set(uve.name, JSON.parse(uve.fields_json));
      },
    });
    try {
      const network = await lab.network('headless', '10.61.0.0/24');
      const RI = `${PROJECT.join(':')}:headless:headless`;
      const peer = lab.agent('host-peer', '192.0.2.51');
      const cut = lab.agent('host-cut', '192.0.2.52');
      const pods = {
        peer: await lab.pod('headless-peer', network, 'host-peer'),
        kept: await lab.pod('headless-kept', network, 'host-cut'),
        deleted: await lab.pod('headless-deleted', network, 'host-cut'),
      };
      peer.portUp({ uuid: pods.peer.vmi.uuid, mac: pods.peer.mac, addresses: [pods.peer.cidr] });
      for (const pod of [pods.kept, pods.deleted])
        cut.portUp({ uuid: pod.vmi.uuid, mac: pod.mac, addresses: [pod.cidr] });
      const atPeer = () => peer.channels[0]!.routes.get(RI);
      const withdrawnAtPeer = () => peer.channels[0]!.withdrawn;
      await waitFor(() => peer.synced && cut.synced && atPeer()?.size === 3 && cut.routes().get(RI)?.size === 3, {
        what: 'every route at both hosts',
      });
      const cutBefore = JSON.parse(cut.snapshot());

      // Control loses host-cut for longer than the hold time.
      const lostAt = Date.now();
      cut.partition();
      await waitFor(async () => (await agentRecord(lab, 'host-cut'))?.staleSince !== undefined, {
        what: 'host-cut headless, its routes stale',
        timeoutMs: holdTimeMs + 10_000,
      });
      assert.ok(Date.now() - lostAt >= holdTimeMs, 'stale only past the hold time');
      const record = await agentRecord(lab, 'host-cut');
      assert.equal(record.connected, false);
      assert.ok(record.staleSince >= lostAt + holdTimeMs, 'stale since the end of the hold time');
      assert.equal(record.staleUntil, record.staleSince + staleTimeMs);
      assert.equal(record.stale_routes, 2);
      assert.equal(await staleRoutesMetric(lab), 2);
      await waitFor(() => vrouterUves.get('host-cut')?.stale_since_ms === record.staleSince, {
        what: "the vrouter UVE to say since when host-cut's routes are stale",
      });
      assert.equal(vrouterUves.get('host-cut')!.stale_until_ms, record.staleUntil);
      assert.equal(vrouterUves.get('host-cut')!.control_connected, false);
      // The peer still forwards to both pods of the headless host; nothing was withdrawn.
      assert.ok(atPeer()!.has(`${pods.kept.address}/32`));
      assert.ok(atPeer()!.has(`${pods.deleted.address}/32`));
      assert.deepEqual(withdrawnAtPeer(), []);

      // A host that starts meanwhile gets the stale routes too.
      const late = lab.agent('host-late', '192.0.2.53');
      const latePod = await lab.pod('headless-late', network, 'host-late');
      late.portUp({ uuid: latePod.vmi.uuid, mac: latePod.mac, addresses: [latePod.cidr] });
      await waitFor(() => late.synced && late.routes().get(RI)?.size === 4, {
        what: "host-late to get every route, host-cut's stale ones included",
      });

      // Config deletes one of the headless host's pods (and the host, cut off, its port): config
      // is the truth, so its route goes at once; the other stays.
      const ips = (await getJson(`${lab.restUrl}/instance-ips?back_ref_id=${pods.deleted.vmi.uuid}`))['instance-ips'];
      for (const ip of ips) await lab.remove('instance-ip', ip.uuid);
      await lab.remove('virtual-machine-interface', pods.deleted.vmi.uuid);
      cut.portDown(pods.deleted.vmi.uuid);
      await waitFor(() => !atPeer()!.has(`${pods.deleted.address}/32`), {
        what: "the deleted pod's route withdrawn at host-peer",
      });
      assert.ok(atPeer()!.has(`${pods.kept.address}/32`), "the kept pod's route stays");
      assert.deepEqual(
        withdrawnAtPeer().map((entry) => [entry.prefix, entry.swept]),
        [[`${pods.deleted.address}/32`, false]],
      );
      assert.equal((await agentRecord(lab, 'host-cut')).stale_routes, 1);
      assert.equal(await staleRoutesMetric(lab), 1);
      await waitFor(() => vrouterUves.get('host-cut')?.stale_routes === 1, {
        what: 'the UVE to count one stale route',
      });

      // host-cut comes back with its state: the other agents are sent nothing more, and it
      // changes only what differs (the deleted pod's route).
      await waitFor(() => late.routes().get(RI)?.size === 3, { what: 'host-late to lose the deleted route' });
      await waitFor(() => atPeer()!.has(`${latePod.address}/32`), { what: "host-late's pod at host-peer" });
      // Nothing in flight to the others: all they were sent is acknowledged.
      await waitFor(
        async () =>
          (await Promise.all(['host-peer', 'host-late'].map((host) => agentRecord(lab, host)))).every(
            ({ session }) => session && session.seq === session.acked && session.queue_depth === 0,
          ),
        { what: 'host-peer and host-late to have acknowledged everything' },
      );
      const peerMessages = peer.channels[0]!.messages;
      const lateMessages = late.channels[0]!.messages;
      const peerBefore = peer.snapshot();
      cut.heal();
      await waitFor(
        async () => cut.synced && cut.channels[0]!.sessions >= 2 && (await agentRecord(lab, 'host-cut'))?.connected,
        { what: 'host-cut back and synced' },
      );
      const back = await agentRecord(lab, 'host-cut');
      assert.equal(back.staleSince, undefined);
      assert.equal(back.stale_routes, 0);
      assert.equal(await staleRoutesMetric(lab), 0);
      await waitFor(() => vrouterUves.get('host-cut')?.stale_since_ms === null, { what: 'the UVE to say it is back' });
      assert.equal(peer.channels[0]!.messages, peerMessages, 'host-peer was sent nothing');
      assert.equal(late.channels[0]!.messages, lateMessages, 'host-late was sent nothing');
      assert.equal(peer.snapshot(), peerBefore);

      const cutAfter = JSON.parse(cut.snapshot());
      const table = (snapshot: { routes: [string, [string, unknown][]][] }) =>
        new Map(snapshot.routes.find(([name]) => name === RI)![1]);
      const before = table(cutBefore);
      const after = table(cutAfter);
      assert.deepEqual(
        [...before.keys()].filter((prefix) => !after.has(prefix)),
        [`${pods.deleted.address}/32`],
        'host-cut lost only the deleted route',
      );
      for (const [prefix, route] of after) {
        if (before.has(prefix)) assert.deepEqual(route, before.get(prefix), `host-cut kept ${prefix} as it was`);
      }
      assert.deepEqual(
        cut.channels[0]!.withdrawn.map((entry) => entry.prefix),
        [`${pods.deleted.address}/32`],
        'host-cut withdrew nothing else',
      );
      assert.ok(after.has(`${latePod.address}/32`), 'host-cut learnt the pod made while it was away');
    } finally {
      await bus.close();
      await lab.close();
    }
  });
});
