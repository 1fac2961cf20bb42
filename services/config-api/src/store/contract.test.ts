// The store's contract: what every backend must do, run on each of them (SQLite in a temp dir,
// etcd on a real 3-member cluster on loopback ports). A new backend passes this suite first.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '@weft/kit/testing';
import { type EtcdCluster, etcdMissing, startEtcdCluster } from '../testing/etcd-cluster.js';
import { openStore } from './open.js';
import { type ChangeRecord, type ConfigStore, OneChangePerWrite, type StoredObject } from './store.js';

interface Backend {
  name: string;
  skip?: string;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A new, empty store; `again` opens the same data set once more (a restart, or another replica). */
  open(options?: { changeLogKeep?: number }): Promise<{ store: ConfigStore; again: () => Promise<ConfigStore> }>;
}

const dirs: { remove(): void }[] = [];
let cluster: EtcdCluster | undefined;

const backends: Backend[] = [
  {
    name: 'SQLite',
    setUp: async () => {},
    tearDown: async () => {
      for (const dir of dirs.splice(0)) dir.remove();
    },
    async open({ changeLogKeep } = {}) {
      const dir = tempDir('weft-store-contract-');
      dirs.push(dir);
      const open = () => openStore({ kind: 'sqlite', stateDir: dir.path, changeLogKeep });
      return { store: await open(), again: open };
    },
  },
  {
    name: 'etcd, 3 members',
    skip: etcdMissing(),
    setUp: async () => {
      cluster = await startEtcdCluster({ size: 3 });
    },
    tearDown: async () => {
      await cluster?.dispose();
    },
    async open({ changeLogKeep } = {}) {
      // Each case its own prefix: one cluster, many independent data sets.
      const prefix = `/weft-contract/${randomUUID()}/`;
      const open = () =>
        openStore({
          kind: 'etcd',
          stateDir: '',
          etcd: { endpoints: cluster!.endpoints, prefix, compactIntervalMs: 0 },
          changeLogKeep,
        });
      return { store: await open(), again: open };
    },
  },
];

type Object = Omit<StoredObject, 'revision'>;

function object(type: string, fqName: string[], body: Record<string, unknown> = {}, parentUuid?: string): Object {
  const uuid = randomUUID();
  return { type, uuid, fqName, parentUuid, body: { uuid, fq_name: fqName, ...body } };
}

const create = (store: ConfigStore, item: Object) => store.write((tx) => ({ ...item, revision: tx.create(item) }));

for (const backend of backends) {
  describe(`the store contract on ${backend.name}`, { skip: backend.skip }, () => {
    const open: { store: ConfigStore }[] = [];
    const fresh = async (options?: { changeLogKeep?: number }) => {
      const opened = await backend.open(options);
      open.push(opened);
      return opened;
    };
    before(() => backend.setUp());
    after(async () => {
      for (const { store } of open) await store.close().catch(() => {});
      await backend.tearDown();
    });

    test('a create stores the object, its name, its parent link and its references, under a new revision', async () => {
      const { store } = await fresh();
      const start = store.revision();
      const domain = object('domain', ['d']);
      const project = object('project', ['d', 'p'], {}, domain.uuid);
      const created = await create(store, domain);
      assert.equal(created.revision, start + 1, 'the write returns the revision of its change');
      await create(store, project);
      const network = object('virtual-network', ['d', 'p', 'n'], {}, project.uuid);
      const port = object(
        'virtual-machine-interface',
        ['d', 'p', 'port'],
        { virtual_network_refs: [{ to: network.fqName, uuid: network.uuid, attr: { a: 1 } }] },
        project.uuid,
      );
      await create(store, network);
      const stored = await create(store, port);
      assert.equal(store.revision(), start + 4, 'one revision per change, without gaps');
      assert.equal(stored.revision, store.revision());
      assert.deepEqual(store.get(port.uuid), { ...port, revision: stored.revision });
      assert.equal(store.uuidOf('virtual-machine-interface', ['d', 'p', 'port']), port.uuid);
      assert.equal(store.uuidOf('virtual-network', ['d', 'p', 'port']), undefined, 'names are per type');
      assert.deepEqual(
        store.children([project.uuid]).map((c) => [c.type, c.uuid, c.parentUuid]),
        [
          ['virtual-machine-interface', port.uuid, project.uuid],
          ['virtual-network', network.uuid, project.uuid],
        ],
        'children in (type, uuid) order',
      );
      assert.deepEqual(store.backRefs([network.uuid]), [
        {
          toUuid: network.uuid,
          attr: { a: 1 },
          from: { uuid: port.uuid, type: 'virtual-machine-interface', fqName: port.fqName },
        },
      ]);
      assert.deepEqual(
        store
          .getMany([port.uuid, 'no-such', domain.uuid])
          .map((o) => o.uuid)
          .sort(),
        [domain.uuid, port.uuid].sort(),
      );
      assert.deepEqual(Object.fromEntries(store.countsByType()), {
        domain: 1,
        project: 1,
        'virtual-network': 1,
        'virtual-machine-interface': 1,
      });
    });

    test('an update replaces the body and its references; a delete removes every trace', async () => {
      const { store } = await fresh();
      const [a, b] = [object('virtual-network', ['a']), object('virtual-network', ['b'])];
      await create(store, a);
      await create(store, b);
      const port = object('virtual-machine-interface', ['port'], { virtual_network_refs: [{ uuid: a.uuid }] });
      await create(store, port);
      const moved = { ...port, body: { ...port.body, virtual_network_refs: [{ uuid: b.uuid, attr: 'x' }] } };
      const updated = await store.write((tx) => ({ ...moved, revision: tx.update(moved) }));
      assert.equal(updated.revision, store.revision());
      assert.equal(store.get(port.uuid)?.revision, updated.revision);
      assert.deepEqual(store.backRefs([a.uuid]), []);
      assert.deepEqual(
        store.backRefs([b.uuid]).map((r) => [r.from.uuid, r.attr]),
        [[port.uuid, 'x']],
      );
      const deleted = await store.write((tx) => tx.delete(store.get(port.uuid)!));
      assert.equal(deleted, store.revision(), 'a delete answers its revision');
      assert.equal(store.get(port.uuid), undefined);
      assert.equal(store.uuidOf(port.type, port.fqName), undefined);
      assert.deepEqual(store.backRefs([b.uuid]), []);
      const last = store.changesSince(deleted, 10);
      assert.equal(last.length, 1);
      assert.equal(last[0]!.operation, 'DELETE');
      assert.deepEqual(JSON.parse(last[0]!.objectJson), moved.body, 'a delete logs the object as it was');
    });

    test('reservations: one owner per value, released one by one or all of an owner at once', async () => {
      const { store } = await fresh();
      const owner = object('virtual-machine-interface', ['owner']);
      const other = object('virtual-machine-interface', ['other']);
      await store.write((tx) => {
        assert.equal(tx.reserve('mac', '02:00:00:00:00:01', owner.uuid), true);
        assert.equal(tx.reserve('mac', '02:00:00:00:00:01', owner.uuid), false, 'taken within the same write');
        assert.equal(tx.reserve('ip:net/1', '10.0.0.2', owner.uuid), true);
        assert.equal(tx.reservationOwner('ip:net/1', '10.0.0.2'), owner.uuid, 'a write reads its own reservations');
        return tx.create(owner);
      });
      await store.write((tx) => {
        assert.equal(tx.reserve('mac', '02:00:00:00:00:01', other.uuid), false);
        assert.equal(tx.reserve('mac', '02:00:00:00:00:02', other.uuid), true);
        return tx.create(other);
      });
      assert.equal(store.reservationOwner('mac', '02:00:00:00:00:01'), owner.uuid);
      assert.deepEqual(
        store
          .reservations('mac')
          .map((r) => [r.value, r.owner])
          .sort(),
        [
          ['02:00:00:00:00:01', owner.uuid],
          ['02:00:00:00:00:02', other.uuid],
        ].sort(),
      );
      assert.equal(store.reservationOwner('ip:net/1', '10.0.0.2'), owner.uuid, 'any scope and value text');
      const scopes = await store.write((tx) => {
        const released = tx.releaseOwnedBy(owner.uuid);
        tx.delete(store.get(owner.uuid)!);
        return released.sort();
      });
      assert.deepEqual(scopes, ['ip:net/1', 'mac']);
      assert.equal(store.reservationOwner('mac', '02:00:00:00:00:01'), undefined);
      await store.write((tx) => {
        tx.release('mac', '02:00:00:00:00:02');
        return tx.update(store.get(other.uuid)!);
      });
      assert.deepEqual(store.allReservations(), []);
    });

    test('a write that throws, or makes two changes, leaves nothing behind', async () => {
      const { store } = await fresh();
      const revision = store.revision();
      const kept = object('domain', ['kept']);
      await assert.rejects(
        store.write((tx) => {
          tx.reserve('vni', '7', kept.uuid);
          tx.create(kept);
          throw new Error('refused');
        }),
        /refused/,
      );
      await assert.rejects(
        store.write((tx) => {
          tx.create(kept);
          tx.create(object('domain', ['second']));
        }),
        OneChangePerWrite,
      );
      assert.equal(store.revision(), revision);
      assert.equal(store.get(kept.uuid), undefined);
      assert.equal(store.uuidOf('domain', ['kept']), undefined);
      assert.equal(store.reservationOwner('vni', '7'), undefined);
      assert.deepEqual(store.changesSince(0, 10), []);
      await create(store, kept);
      assert.equal(store.revision(), revision + 1, 'the next change takes the next revision');
    });

    test('lists: by parent, uuid, back-reference and field, in uuid order, in pages; counts ignore paging', async () => {
      const { store } = await fresh();
      const [p1, p2] = [object('project', ['p1']), object('project', ['p2'])];
      await create(store, p1);
      await create(store, p2);
      const target = object('network-policy', ['target']);
      await create(store, target);
      const networks: Object[] = [];
      for (let i = 0; i < 6; i++) {
        const network = object(
          'virtual-network',
          [i % 2 ? 'p2' : 'p1', `n${i}`],
          {
            shared: i % 3 === 0,
            rank: i,
            label: `l${i % 2}`,
            ...(i < 2 ? { network_policy_refs: [{ uuid: target.uuid }] } : {}),
          },
          i % 2 ? p2.uuid : p1.uuid,
        );
        networks.push(network);
        await create(store, network);
      }
      const sorted = networks.map((n) => n.uuid).sort();
      const uuids = (list: StoredObject[]) => list.map((o) => o.uuid);
      assert.deepEqual(uuids(store.list({ type: 'virtual-network' })), sorted);
      assert.deepEqual(
        uuids(store.list({ type: 'virtual-network', parentUuids: [p2.uuid] })),
        [...networks.filter((_, i) => i % 2).map((n) => n.uuid)].sort(),
      );
      assert.deepEqual(uuids(store.list({ type: 'virtual-network', uuids: [networks[3]!.uuid, 'x'] })), [
        networks[3]!.uuid,
      ]);
      assert.deepEqual(
        uuids(store.list({ type: 'virtual-network', backRefUuids: [target.uuid] })),
        [networks[0]!.uuid, networks[1]!.uuid].sort(),
      );
      assert.deepEqual(
        uuids(store.list({ type: 'virtual-network', filters: [{ field: 'shared', value: true }] })),
        [networks[0]!.uuid, networks[3]!.uuid].sort(),
      );
      assert.deepEqual(uuids(store.list({ type: 'virtual-network', filters: [{ field: 'rank', value: 4 }] })), [
        networks[4]!.uuid,
      ]);
      assert.equal(store.count({ type: 'virtual-network', filters: [{ field: 'label', value: 'l1' }] }), 3);
      const page1 = store.list({ type: 'virtual-network', limit: 4 });
      const page2 = store.list({ type: 'virtual-network', limit: 4, after: page1.at(-1)!.uuid });
      assert.deepEqual([...uuids(page1), ...uuids(page2)], sorted);
      assert.equal(store.count({ type: 'virtual-network', limit: 1, after: sorted[4] }), 6);
      assert.deepEqual(store.list({ type: 'no-such-type' }), []);
    });

    test('the change log: every change once, in revision order, to listeners and to changesSince', async () => {
      const { store } = await fresh();
      const seen: ChangeRecord[] = [];
      const own: number[] = [];
      store.onCommit((changes) => seen.push(...changes));
      store.onOwnCommit((changes) => own.push(...changes.map((c) => c.revision)));
      const first = store.revision() + 1;
      const items = Array.from({ length: 20 }, (_, i) => object('domain', [`d${i}`]));
      // Concurrent writes: each commits exactly once, whatever order they land in.
      await Promise.all(items.map((item) => create(store, item)));
      const update = { ...items[0]!, body: { ...items[0]!.body, x: 1 } };
      await store.write((tx) => tx.update(update));
      const log = store.changesSince(first, 100);
      assert.deepEqual(
        log.map((c) => c.revision),
        Array.from({ length: 21 }, (_, i) => first + i),
      );
      assert.deepEqual(
        seen.map((c) => c.revision),
        log.map((c) => c.revision),
      );
      assert.deepEqual(
        own,
        log.map((c) => c.revision),
        'everything was written through this store',
      );
      assert.deepEqual(
        log
          .map((c) => c.uuid)
          .slice(0, 20)
          .sort(),
        items.map((i) => i.uuid).sort(),
      );
      const last = log.at(-1)!;
      assert.equal(last.operation, 'UPDATE');
      assert.deepEqual(last.fqName, ['d0']);
      assert.deepEqual(JSON.parse(last.objectJson), update.body);
      assert.ok(last.committedAtMs > Date.now() - 60_000);
      assert.deepEqual(
        store.changesSince(first + 5, 2).map((c) => c.revision),
        [first + 5, first + 6],
      );
      assert.equal(store.trimmedThrough(), 0);
    });

    test('the log keeps the newest changes and says through which revision it trimmed', async () => {
      const { store } = await fresh({ changeLogKeep: 10 });
      for (let i = 0; i < 40; i++) await create(store, object('domain', [`d${i}`]));
      const trimmed = store.trimmedThrough();
      assert.ok(trimmed > 0, 'something was trimmed');
      const kept = store.changesSince(0, 1000);
      assert.ok(kept.length >= 10, `kept ${kept.length}`);
      assert.equal(kept[0]!.revision, trimmed + 1, 'the log starts right after what was trimmed');
      assert.equal(kept.at(-1)!.revision, store.revision());
    });

    test('concurrent writes that each take the lowest free number all get distinct ones', async () => {
      const { store } = await fresh();
      const take = (owner: Object) =>
        store.write((tx) => {
          let n = 1;
          while (!tx.reserve('vni', String(n), owner.uuid)) n++;
          tx.create({ ...owner, body: { ...owner.body, vni: n } });
          return n;
        });
      const owners = Array.from({ length: 30 }, (_, i) => object('virtual-network', [`n${i}`]));
      const numbers = await Promise.all(owners.map(take));
      assert.deepEqual(
        [...numbers].sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
    });

    test('a reopened store (a restart, or another replica) holds the same data set and revision', async () => {
      const { store, again } = await fresh();
      const domain = object('domain', ['kept']);
      await store.write((tx) => {
        tx.reserve('mac', 'm1', domain.uuid);
        return tx.create(domain);
      });
      const revision = store.revision();
      const second = await again();
      open.push({ store: second });
      await second.sync();
      assert.equal(second.revision(), revision);
      assert.deepEqual(second.get(domain.uuid), store.get(domain.uuid));
      assert.equal(second.reservationOwner('mac', 'm1'), domain.uuid);
      assert.deepEqual(second.changesSince(0, 100), store.changesSince(0, 100));
      assert.equal(second.health(), undefined);
    });
  });
}
