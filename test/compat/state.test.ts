// State across versions: this config-api starts on the config store the last release left
// (test/compat/last-release/state/config.sqlite, written by the release's own code while it
// answered the recorded REST exchanges), and serves what the release stored as the release
// answered it, then takes writes on it.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startConfigApi } from '@weft/config-api';
import { tempDir } from '@weft/kit/testing';
import { readRestExchanges } from './examples.js';
import { lastRelease } from './release.js';

test("this config-api starts on the last release's config store and serves what the release stored", async () => {
  const state = tempDir('weft-compat-state-');
  try {
    copyFileSync(lastRelease.configStore, join(state.path, 'config.sqlite'));
    const recorded = readRestExchanges();
    const created = recorded.find((e) => e.name === 'create-network-ipam')!;
    const ipam = (created.response as { 'network-ipam': { uuid: string } })['network-ipam'];

    const api = await startConfigApi({ stateDir: state.path, logLevel: 'silent' });
    try {
      const read = await fetch(`${api.restUrl}/network-ipam/${ipam.uuid}`);
      assert.equal(read.status, 200, 'the ipam the release created, under its uuid');
      const now = (await read.json()) as { 'network-ipam': Record<string, unknown> };
      // The same object, uuid and timestamps included (only the hrefs name this server): it was
      // stored by the release and read back, not made again.
      const withoutHref = (object: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(object).filter(([key]) => !key.endsWith('href')));
      assert.deepEqual(
        withoutHref(now['network-ipam']),
        withoutHref((created.response as { 'network-ipam': Record<string, unknown> })['network-ipam']),
      );

      const network = recorded.find((e) => e.name === 'create-virtual-network')!.response as {
        'virtual-network': { uuid: string };
      };
      const gone = await fetch(`${api.restUrl}/virtual-network/${network['virtual-network'].uuid}`);
      assert.equal(gone.status, 404, 'the network the release deleted stays deleted');

      const write = await fetch(`${api.restUrl}/virtual-networks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          'virtual-network': { fq_name: ['default-domain', 'default-project', 'after-upgrade'] },
        }),
      });
      assert.equal(write.status, 200, 'it takes writes');
    } finally {
      await api.close();
    }
  } finally {
    state.remove();
  }
});
