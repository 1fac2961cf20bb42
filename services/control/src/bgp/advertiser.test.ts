// control's BGP advertiser against a real gobgpd: paths added, moved to a new next hop and
// withdrawn as the wanted set changes; a floating IP whose port is not reported yet keeps what
// gobgpd has; a new advertiser (a control restart) finds the speaker running and withdraws
// nothing; the peers' sessions are reported.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger, createMetrics } from '@weft/kit';
import { type GobgpdProcess, gobgpdMissing, startGobgpd } from '../testing/gobgpd.js';
import { BgpAdvertiser, type BgpOptions } from './advertiser.js';
import { Gobgp } from './gobgp.js';

const OPTIONS: BgpOptions = {
  asn: 64512,
  // gobgpd listens on the router id's address: a loopback address of this run's own.
  routerId: `127.${(process.pid >> 8) & 0xff}.${process.pid & 0xff}.254`,
  // A peer that never answers: its session stays down, and is reported so.
  peers: [{ address: '192.0.2.77', asn: 64500 }],
  restartTimeSeconds: 120,
  syncIntervalMs: 60_000,
};

describe('BGP advertiser with gobgpd', { skip: gobgpdMissing() ?? false }, () => {
  let gobgpd: GobgpdProcess;
  before(async () => {
    gobgpd = await startGobgpd();
  });
  after(() => gobgpd?.stop());

  const advertiser = (wanted: Map<string, string | undefined>) =>
    new BgpAdvertiser(
      new Gobgp(gobgpd.address),
      () => wanted,
      OPTIONS,
      createLogger({ service: 'control', level: 'silent' }),
      createMetrics('control'),
    );
  const advertised = (bgp: BgpAdvertiser) => bgp.status().advertised;

  test('advertises, moves and withdraws floating IPs; a restart withdraws nothing', async () => {
    const wanted = new Map<string, string | undefined>([
      ['203.0.113.10/32', '10.255.0.11'],
      ['203.0.113.11/32', '10.255.0.12'],
    ]);
    const bgp = advertiser(wanted);
    await bgp.sync();
    assert.equal(bgp.status().last_error, null);
    assert.deepEqual(advertised(bgp), [
      { prefix: '203.0.113.10/32', nextHop: '10.255.0.11' },
      { prefix: '203.0.113.11/32', nextHop: '10.255.0.12' },
    ]);
    assert.deepEqual(
      bgp.status().peers.map((peer) => [peer.address, peer.asn, peer.state === 'ESTABLISHED']),
      [['192.0.2.77', 64500, false]],
    );

    wanted.set('203.0.113.10/32', '10.255.0.12');
    wanted.delete('203.0.113.11/32');
    await bgp.sync();
    assert.deepEqual(advertised(bgp), [{ prefix: '203.0.113.10/32', nextHop: '10.255.0.12' }]);
    bgp.close();

    // A restarted control: its port of 203.0.113.10 is not reported yet, so that path stays.
    const restarted = advertiser(new Map([['203.0.113.10/32', undefined]]));
    await restarted.sync();
    assert.equal(restarted.status().started, true);
    assert.deepEqual(advertised(restarted), [{ prefix: '203.0.113.10/32', nextHop: '10.255.0.12' }]);
    restarted.close();

    const gone = advertiser(new Map());
    await gone.sync();
    assert.deepEqual(advertised(gone), []);
    gone.close();
  });

  test('a speaker that is away is an error in the status, and the next sync recovers', async () => {
    await gobgpd.stop();
    const bgp = advertiser(new Map([['203.0.113.20/32', '10.255.0.11']]));
    await bgp.sync();
    assert.notEqual(bgp.status().last_error, null);
    await gobgpd.start();
    await bgp.sync();
    assert.equal(bgp.status().last_error, null);
    assert.deepEqual(advertised(bgp), [{ prefix: '203.0.113.20/32', nextHop: '10.255.0.11' }]);
    bgp.close();
  });
});
