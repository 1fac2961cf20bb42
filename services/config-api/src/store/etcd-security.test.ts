// The etcd store's own TLS and authentication options, against a real etcd that requires client
// certificates and then a user: with the right ones the store works, without them it does not
// open, and says why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { opensslMissing, selfSignedCertificate } from '@weft/kit/testing';
import { type EtcdCluster, etcdMissing, startEtcdCluster } from '../testing/etcd-cluster.js';
import { openStore } from './open.js';

const skip = etcdMissing() ?? opensslMissing();
let cluster: EtcdCluster;
let certificate: ReturnType<typeof selfSignedCertificate>;

/** etcdctl against the cluster, as its operator would run it. */
function etcdctl(...args: string[]) {
  const result = spawnSync(
    'etcdctl',
    [
      `--endpoints=${cluster.endpoints.join(',')}`,
      `--cacert=${certificate.certFile}`,
      `--cert=${certificate.certFile}`,
      `--key=${certificate.keyFile}`,
      ...args,
    ],
    { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } },
  );
  assert.equal(result.status, 0, `etcdctl ${args.join(' ')}: ${result.stderr}`);
}

before(async () => {
  if (skip) return;
  certificate = selfSignedCertificate();
  cluster = await startEtcdCluster({ size: 1, tls: certificate });
});
after(async () => {
  await cluster?.dispose();
  certificate?.remove();
});

const open = (etcd: Record<string, string>) =>
  openStore({
    kind: 'etcd',
    stateDir: '',
    etcd: { endpoints: cluster.endpoints, prefix: '/weft-security/', timeoutMs: 3_000, compactIntervalMs: 0, ...etcd },
  });

test('TLS: with the CA and a client certificate the store works; without the certificate it does not open', {
  skip,
}, async () => {
  const store = await open({
    caFile: certificate.certFile,
    certFile: certificate.certFile,
    keyFile: certificate.keyFile,
  });
  try {
    const uuid = '6d9c1b0e-0000-4000-8000-000000000001';
    await store.write((tx) => tx.create({ type: 'domain', uuid, fqName: ['secure'], parentUuid: undefined, body: {} }));
    assert.equal(store.uuidOf('domain', ['secure']), uuid);
  } finally {
    await store.close();
  }
  await assert.rejects(open({ caFile: certificate.certFile }), (error: Error) => {
    assert.match(error.message, /certificate|handshake|unavailable|deadline|connect/i);
    return true;
  });
  await assert.rejects(
    open({ caFile: '/nonexistent/ca.pem' }),
    /WEFT_ETCD_CA="\/nonexistent\/ca\.pem": expected a readable PEM file/,
  );
});

test('authentication: the user and password open it; a wrong password is refused, named', { skip }, async () => {
  etcdctl('user', 'add', 'root:weft-root-pw');
  etcdctl('user', 'grant-role', 'root', 'root');
  etcdctl('auth', 'enable');
  const tls = { caFile: certificate.certFile, certFile: certificate.certFile, keyFile: certificate.keyFile };
  const store = await open({ ...tls, username: 'root', password: 'weft-root-pw' });
  try {
    await store.sync();
    assert.ok(store.uuidOf('domain', ['secure']), 'the data written before auth was enabled');
  } finally {
    await store.close();
  }
  await assert.rejects(open({ ...tls, username: 'root', password: 'wrong' }), /authentication failed/i);
  await assert.rejects(open({ ...tls, username: 'root' }), /WEFT_ETCD_USERNAME.*WEFT_ETCD_PASSWORD together/);
});
