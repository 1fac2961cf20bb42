// `weft-config-api export` and `import`, run as commands: a data set made through the REST API on
// SQLite moves to etcd and back with every uuid, body and reservation, and its revisions in the
// same order; exported again it is the same, byte for byte.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@weft/kit/testing';
import { type EtcdCluster, etcdMissing, startEtcdCluster } from '../testing/etcd-cluster.js';
import { networkBody, startTestServer } from '../testing/server.js';

const mainJs = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

/** Runs weft-config-api with a subcommand and only its own options; stdin in, stdout out. */
function command(args: string[], env: Record<string, string>, input?: string) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WEFT_')));
  return spawnSync(process.execPath, [mainJs, ...args], {
    env: { ...inherited, WEFT_LOG_LEVEL: 'warn', ...env },
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

let cluster: EtcdCluster | undefined;
const state = tempDir('weft-transfer-');
before(async () => {
  if (!etcdMissing()) cluster = await startEtcdCluster({ size: 3 });
});
after(async () => {
  await cluster?.dispose();
  state.remove();
});

test('export from SQLite, import into etcd, export again: the same data set', { skip: etcdMissing() }, async () => {
  const sqliteDir = join(state.path, 'sqlite');
  const server = await startTestServer({ stateDir: sqliteDir });
  const network = await server.create('virtual-network', networkBody('moved', '10.140.0.0/24'));
  const port = await server.create('virtual-machine-interface', {
    fq_name: ['default-domain', 'default-project', 'moved-port'],
    virtual_network_refs: [{ uuid: network.uuid }],
  });
  await server.create('instance-ip', {
    virtual_network_refs: [{ uuid: network.uuid }],
    virtual_machine_interface_refs: [{ uuid: port.uuid }],
  });
  await server.create('security-group', { fq_name: ['default-domain', 'default-project', 'sg'] });
  // An update moves an old object after newer ones in revision order.
  const renamed = await server.request('PUT', `/virtual-network/${network.uuid}`, {
    'virtual-network': { display_name: 'moved again' },
  });
  assert.equal(renamed.status, 200);
  await server.close();

  const fromSqlite = command(['export'], { WEFT_STATE_DIR: sqliteDir });
  assert.equal(fromSqlite.status, 0, fromSqlite.stderr);
  const lines = fromSqlite.stdout.trim().split('\n');
  assert.equal(JSON.parse(lines[0]!).format, 'weft-config-api-export');
  assert.equal(lines.length, 1 + 4 + 4, 'the header, the four defaults and the four objects made here');
  assert.equal(JSON.parse(lines.at(-1)!).object.uuid, network.uuid, 'objects in the order of their revisions');

  const etcd = {
    WEFT_STORE: 'etcd',
    WEFT_ETCD_ENDPOINTS: cluster!.endpoints.join(','),
    WEFT_ETCD_PREFIX: `/weft-transfer/${randomUUID()}/`,
    WEFT_STATE_DIR: join(state.path, 'unused'),
  };
  const imported = command(['import'], etcd, fromSqlite.stdout);
  assert.equal(imported.status, 0, imported.stderr);
  assert.match(imported.stderr, /8 object\(s\) imported/);
  const fromEtcd = command(['export'], etcd);
  assert.equal(fromEtcd.status, 0, fromEtcd.stderr);
  assert.equal(fromEtcd.stdout, fromSqlite.stdout, 'SQLite → etcd → export: identical');

  // And back into a new SQLite file.
  const backDir = join(state.path, 'back');
  const back = command(['import'], { WEFT_STATE_DIR: backDir }, fromEtcd.stdout);
  assert.equal(back.status, 0, back.stderr);
  assert.equal(command(['export'], { WEFT_STATE_DIR: backDir }).stdout, fromSqlite.stdout);

  // The moved data set serves as before: the address held is not given again.
  const moved = await startTestServer({ stateDir: backDir });
  try {
    const read = await moved.request('GET', `/virtual-machine-interface/${port.uuid}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body['virtual-machine-interface'].virtual_network_refs[0].uuid, network.uuid);
    const taken = await moved.request('POST', '/instance-ips', {
      'instance-ip': { virtual_network_refs: [{ uuid: network.uuid }], instance_ip_address: '10.140.0.253' },
    });
    assert.equal(taken.status, 409, 'the reservation moved with its object');
  } finally {
    await moved.close();
  }

  // Import refuses a store that holds objects, and input that is not an export; neither changes anything.
  const again = command(['import'], etcd, fromSqlite.stdout);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /^weft-config-api import: the target store already holds 8 object\(s\)/);
  const junk = command(['import'], { WEFT_STATE_DIR: join(state.path, 'junk') }, '{"format":"something else"}\n');
  assert.equal(junk.status, 1);
  assert.match(junk.stderr, /line 1: not a weft-config-api-export version 1 header/);
});
