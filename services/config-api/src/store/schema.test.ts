// The store's schema version: stamped on a new store, a store of release 0.1.0 (no stamp) taken
// as version 1, older ones brought forward on start, and a newer one refused with a clear error
// and left untouched. On SQLite and on a real etcd cluster.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '@weft/kit/testing';
import Database from 'better-sqlite3';
import { Etcd3 } from 'etcd3';
import { startConfigApi } from '../index.js';
import { type EtcdCluster, etcdMissing, startEtcdCluster } from '../testing/etcd-cluster.js';
import { EtcdStore } from './etcd.js';
import { DB_FILE } from './open.js';
import { STORE_SCHEMA_VERSION, StoreSchemaTooNewError } from './schema.js';
import { migrateSqliteSchema, SqliteStore } from './sqlite.js';
import type { ConfigStore, StoredObject } from './store.js';

function network(name: string): Omit<StoredObject, 'revision'> {
  const uuid = randomUUID();
  const fqName = ['default-domain', 'default-project', name];
  return { type: 'virtual-network', uuid, fqName, parentUuid: undefined, body: { uuid, fq_name: fqName } };
}

async function holdsOne(store: ConfigStore) {
  const item = network(`net-${randomUUID().slice(0, 8)}`);
  await store.write((tx) => tx.create(item));
  return item;
}

const userVersion = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
};

const setUserVersion = (path: string, version: number) => {
  const db = new Database(path);
  db.pragma(`user_version = ${version}`);
  db.close();
};

describe('the SQLite store schema version', () => {
  test('a new file is stamped with the version this config-api knows', async () => {
    const dir = tempDir('weft-schema-');
    try {
      const store = new SqliteStore({ path: join(dir.path, DB_FILE) });
      assert.deepEqual(store.schemaMigration, { from: 0, to: STORE_SCHEMA_VERSION });
      await store.close();
      assert.equal(userVersion(join(dir.path, DB_FILE)), STORE_SCHEMA_VERSION);
    } finally {
      dir.remove();
    }
  });

  test("release 0.1.0's file (no stamp) opens as version 1 with its objects, and is stamped", async () => {
    const dir = tempDir('weft-schema-');
    const path = join(dir.path, DB_FILE);
    try {
      let store = new SqliteStore({ path });
      const item = await holdsOne(store);
      await store.close();
      setUserVersion(path, 0); // what release 0.1.0 leaves: its tables, no stamp
      store = new SqliteStore({ path });
      assert.deepEqual(store.schemaMigration, { from: 1, to: STORE_SCHEMA_VERSION });
      assert.deepEqual(store.get(item.uuid)?.fqName, item.fqName);
      await store.close();
      assert.equal(userVersion(path), STORE_SCHEMA_VERSION);
    } finally {
      dir.remove();
    }
  });

  test('an older file is brought forward by every step in order, in one transaction, keeping its data', async () => {
    const dir = tempDir('weft-schema-');
    const path = join(dir.path, DB_FILE);
    try {
      const store = new SqliteStore({ path });
      const item = await holdsOne(store);
      await store.close();
      const known = STORE_SCHEMA_VERSION + 2;
      const ran: number[] = [];
      const steps = {
        [STORE_SCHEMA_VERSION]: (db: Database.Database) => {
          ran.push(STORE_SCHEMA_VERSION);
          db.exec('ALTER TABLE objects ADD COLUMN owner TEXT');
        },
        [STORE_SCHEMA_VERSION + 1]: (db: Database.Database) => {
          ran.push(STORE_SCHEMA_VERSION + 1);
          db.exec("UPDATE objects SET owner = 'cloud-admin'");
        },
      };
      const db = new Database(path);
      assert.deepEqual(migrateSqliteSchema(db, path, steps, known), { from: STORE_SCHEMA_VERSION, to: known });
      assert.deepEqual(ran, [STORE_SCHEMA_VERSION, STORE_SCHEMA_VERSION + 1]);
      assert.equal(db.prepare('SELECT owner FROM objects WHERE uuid = ?').pluck().get(item.uuid), 'cloud-admin');
      assert.equal(db.pragma('user_version', { simple: true }), known);

      // A failing step leaves the file as it was: version and data.
      db.pragma(`user_version = ${STORE_SCHEMA_VERSION}`);
      db.exec('ALTER TABLE objects DROP COLUMN owner');
      const failing = {
        [STORE_SCHEMA_VERSION]: steps[STORE_SCHEMA_VERSION]!,
        [STORE_SCHEMA_VERSION + 1]: () => {
          throw new Error('step failed');
        },
      };
      assert.throws(() => migrateSqliteSchema(db, path, failing, known), /step failed/);
      assert.equal(db.pragma('user_version', { simple: true }), STORE_SCHEMA_VERSION);
      const columns = db.prepare("SELECT name FROM pragma_table_info('objects')").pluck().all();
      assert.ok(!columns.includes('owner'), 'the first step was rolled back too');
      assert.throws(
        () => migrateSqliteSchema(db, path, {}, known),
        new RegExp(`no migration from store schema version ${STORE_SCHEMA_VERSION} to ${STORE_SCHEMA_VERSION + 1}`),
      );
      db.close();
    } finally {
      dir.remove();
    }
  });

  test('a file from a newer release is refused, naming both versions, and left as it was', async () => {
    const dir = tempDir('weft-schema-');
    const path = join(dir.path, DB_FILE);
    try {
      const store = new SqliteStore({ path });
      await holdsOne(store);
      await store.close();
      setUserVersion(path, STORE_SCHEMA_VERSION + 1);
      const bytes = readFileSync(path);
      assert.throws(
        () => new SqliteStore({ path }),
        (error: unknown) =>
          error instanceof StoreSchemaTooNewError &&
          error.message.includes(path) &&
          error.message.includes(
            `store schema version ${STORE_SCHEMA_VERSION + 1}, newer than this config-api knows (${STORE_SCHEMA_VERSION})`,
          ),
      );
      assert.deepEqual(readFileSync(path), bytes, 'not a byte changed');
      // The daemon does not start on it.
      await assert.rejects(
        startConfigApi({ stateDir: dir.path, logLevel: 'silent' }),
        /newer than this config-api knows/,
      );
    } finally {
      dir.remove();
    }
  });
});

describe('the etcd store schema version', { skip: etcdMissing() }, () => {
  let cluster: EtcdCluster;
  let client: Etcd3;
  before(async () => {
    cluster = await startEtcdCluster({ size: 1 });
    client = new Etcd3({ hosts: cluster.endpoints });
  });
  const opened: EtcdStore[] = [];
  after(async () => {
    for (const store of opened) await store.close().catch(() => {});
    client?.close();
    await cluster?.dispose();
  });
  const open = async (prefix: string, more: Partial<Parameters<typeof EtcdStore.open>[0]> = {}) => {
    const store = await EtcdStore.open({ endpoints: cluster.endpoints, prefix, compactIntervalMs: 0, ...more });
    opened.push(store);
    return store;
  };

  test("a new data set is stamped; release 0.1.0's (no stamp) is version 1 and is stamped", async () => {
    const prefix = `/weft-schema/${randomUUID()}/`;
    let store = await open(prefix);
    assert.equal(await client.get(`${prefix}v`).string(), String(STORE_SCHEMA_VERSION));
    const item = await holdsOne(store);
    await store.close();
    await client.delete().key(`${prefix}v`); // what release 0.1.0 leaves
    store = await open(prefix);
    assert.equal(await client.get(`${prefix}v`).string(), String(STORE_SCHEMA_VERSION));
    assert.deepEqual(store.get(item.uuid)?.fqName, item.fqName);
    await store.close();
  });

  test('an older data set is brought forward by its steps, and a newer one is refused untouched', async () => {
    const prefix = `/weft-schema/${randomUUID()}/`;
    let store = await open(prefix);
    const item = await holdsOne(store);
    await store.close();
    const known = STORE_SCHEMA_VERSION + 1;
    store = await open(prefix, {
      schemaVersion: known,
      migrations: {
        [STORE_SCHEMA_VERSION]: async ({ client: etcd, prefix: at }) => {
          await etcd.put(`${at}x/owners`).value(JSON.stringify({ [item.uuid]: 'cloud-admin' }));
        },
      },
    });
    assert.equal(await client.get(`${prefix}v`).string(), String(known));
    assert.equal(await client.get(`${prefix}x/owners`).string(), JSON.stringify({ [item.uuid]: 'cloud-admin' }));
    assert.deepEqual(store.get(item.uuid)?.fqName, item.fqName, 'objects read as before');
    await store.close();

    // This release's config-api on the data set the later one wrote.
    const before = (await client.getAll().prefix(prefix).strings()) as Record<string, string>;
    await assert.rejects(open(prefix), (error: unknown) => {
      assert.ok(error instanceof StoreSchemaTooNewError);
      assert.match(error.message, new RegExp(`prefix ${prefix} has store schema version ${known}, newer than`));
      return true;
    });
    assert.deepEqual(await client.getAll().prefix(prefix).strings(), before, 'nothing written');
  });
});
