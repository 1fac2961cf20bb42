// Who may call config-api: tokens of the tokens file and signed JWTs, sent as X-Auth-Token or
// Authorization: Bearer, on REST and gRPC. Every refusal is a 401 that names its reason; the
// probes stay open; no-auth is refused off loopback; cloud-admin mode takes only admins.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { IdentityProvider, tempDir } from '@weft/kit/testing';
import { loadConfigProto } from '@weft/proto';
import type { ConfigClient } from '@weft/proto/gen/weft/config/v1/Config.js';
import { startConfigApi } from '../index.js';
import { request, startTestServer, type TestServer } from '../testing/server.js';

const ADMIN = 'admin-token-0123456789abcdef';
const ALICE = 'alice-token-0123456789abcdef';

/** A tokens file with an admin and a member of one project. */
function writeTokens(dir: string): string {
  const path = join(dir, 'tokens.json');
  writeFileSync(
    path,
    JSON.stringify({
      tokens: [
        { token: ADMIN, user: 'admin', roles: ['cloud-admin'] },
        { token: ALICE, user: 'alice', projects: { 'default-domain:default-project': 'member' } },
      ],
    }),
  );
  return path;
}

describe('authentication', () => {
  const files = tempDir('weft-auth-');
  let server: TestServer;
  let idp: IdentityProvider;
  let grpc: ConfigClient;

  before(async () => {
    idp = await IdentityProvider.start(files.path);
    server = await startTestServer({
      auth: {
        mode: 'rbac',
        tokensFile: writeTokens(files.path),
        jwks: idp.jwksFile,
        issuer: idp.issuer,
        audience: idp.audience,
      },
    });
    grpc = new (loadConfigProto().weft.config.v1.Config)(server.grpcAddress, credentials.createInsecure());
  });
  after(async () => {
    grpc.close();
    await server.dispose();
    files.remove();
  });

  const get = (headers: Record<string, string>) =>
    request(server.restUrl, 'GET', '/virtual-networks', undefined, headers);
  const refusedWith = async (headers: Record<string, string>, code: string) => {
    const reply = await get(headers);
    assert.equal(reply.status, 401, JSON.stringify(reply.body));
    assert.equal(reply.body.error.code, code);
    assert.ok(reply.body.error.message.length > 10, 'the refusal gives its reason');
  };

  test('a token of the tokens file is taken as X-Auth-Token and as Authorization: Bearer', async () => {
    assert.equal((await get({ 'x-auth-token': ADMIN })).status, 200);
    assert.equal((await get({ authorization: `Bearer ${ALICE}` })).status, 200);
    assert.equal((await get({ 'x-auth-token': ADMIN, authorization: `Bearer ${ADMIN}` })).status, 200);
  });

  test('no token, an unknown one and a malformed one are refused with 401 and the reason', async () => {
    await refusedWith({}, 'TOKEN_MISSING');
    await refusedWith({ 'x-auth-token': 'no-such-token-0123456789' }, 'TOKEN_UNKNOWN');
    await refusedWith({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 'TOKEN_MALFORMED');
    await refusedWith({ authorization: 'Bearer ' }, 'TOKEN_MALFORMED');
    await refusedWith({ 'x-auth-token': ADMIN, authorization: `Bearer ${ALICE}` }, 'TOKEN_MALFORMED');
    await refusedWith({ 'x-auth-token': 'x'.repeat(9_000) }, 'TOKEN_MALFORMED');
    await refusedWith({ 'x-auth-token': 'not.a.jwt' }, 'TOKEN_MALFORMED');
  });

  test('a JWT signed by a key of the JWKS, for this audience and issuer, is taken', async () => {
    const token = await idp.sign({ sub: 'carol', roles: ['cloud-admin'] });
    assert.equal((await get({ authorization: `Bearer ${token}` })).status, 200);
  });

  test('expired, wrongly signed, wrong-audience and wrong-issuer JWTs are refused with 401 and the reason', async () => {
    await refusedWith({ authorization: `Bearer ${await idp.sign({ expiresIn: -10 })}` }, 'TOKEN_EXPIRED');
    await refusedWith({ authorization: `Bearer ${await idp.sign({}, { foreignKey: true })}` }, 'TOKEN_BAD_SIGNATURE');
    await refusedWith({ authorization: `Bearer ${await idp.sign({ audience: 'other' })}` }, 'TOKEN_WRONG_AUDIENCE');
    await refusedWith({ authorization: `Bearer ${await idp.sign({ issuer: 'https://evil' })}` }, 'TOKEN_WRONG_ISSUER');
    // A good signature over a payload changed afterwards.
    const [header, , signature] = (await idp.sign({ roles: ['reader'] })).split('.');
    const forged = Buffer.from(
      JSON.stringify({ sub: 'mallory', roles: ['cloud-admin'], iss: idp.issuer, aud: 'weft', exp: 9e9 }),
    ).toString('base64url');
    await refusedWith({ authorization: `Bearer ${header}.${forged}.${signature}` }, 'TOKEN_BAD_SIGNATURE');
    // Roles that are not roles.
    await refusedWith({ authorization: `Bearer ${await idp.sign({ roles: ['root'] })}` }, 'TOKEN_MALFORMED');
  });

  test('keys rotate through the JWKS file: a new key is taken at once, a retired one no more', async () => {
    const old = await idp.sign({ roles: ['reader'] });
    await idp.addKey();
    const fresh = await idp.sign({ roles: ['reader'] });
    assert.equal((await get({ authorization: `Bearer ${fresh}` })).status, 200);
    assert.equal((await get({ authorization: `Bearer ${old}` })).status, 200, 'both keys are published');
    idp.retireOldestKey();
    await refusedWith({ authorization: `Bearer ${old}` }, 'TOKEN_BAD_SIGNATURE');
    assert.equal((await get({ authorization: `Bearer ${fresh}` })).status, 200);
  });

  test('health, readiness and metrics answer without a token', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      assert.equal((await request(server.restUrl, 'GET', path)).status, 200, path);
    }
  });

  test('gRPC takes the token from the metadata, and refuses a call without one', async () => {
    const list = (metadata: Metadata) =>
      new Promise<ServiceError | null>((resolve) =>
        grpc.List({ type: 'project', page_limit: 10 }, metadata, (error) => resolve(error)),
      );
    const refused = await list(new Metadata());
    assert.equal(refused?.code, status.UNAUTHENTICATED);
    assert.match(refused?.details ?? '', /authentication required/);
    const bearer = new Metadata();
    bearer.set('authorization', `Bearer ${ADMIN}`);
    assert.equal(await list(bearer), null);
    const header = new Metadata();
    header.set('x-auth-token', await idp.sign({ roles: ['reader'] }));
    assert.equal(await list(header), null);
    const expired = new Metadata();
    expired.set('x-auth-token', await idp.sign({ expiresIn: -5 }));
    assert.equal((await list(expired))?.code, status.UNAUTHENTICATED);

    const watch = grpc.Watch({ from_revision: 1, types: [] }, new Metadata());
    const ended = await new Promise<ServiceError>((resolve) => watch.on('error', resolve));
    assert.equal(ended.code, status.UNAUTHENTICATED);
  });
});

describe('modes', () => {
  test('no-auth is refused on an address others reach', async () => {
    const state = tempDir('weft-auth-mode-');
    try {
      await assert.rejects(
        startConfigApi({ stateDir: state.path, host: '0.0.0.0', auth: { mode: 'no-auth' }, logLevel: 'silent' }),
        /no-auth is refused on 0\.0\.0\.0/,
      );
    } finally {
      state.remove();
    }
  });

  test('without a tokens file, one is made with a cloud-admin token readable by its owner only', async () => {
    const state = tempDir('weft-auth-bootstrap-');
    const tokensFile = join(state.path, 'auth', 'tokens.json');
    const api = await startConfigApi({ stateDir: state.path, auth: { mode: 'rbac', tokensFile }, logLevel: 'silent' });
    try {
      assert.equal(statSync(tokensFile).mode & 0o777, 0o600);
      const adminToken = join(state.path, 'auth', 'admin.token');
      assert.equal(statSync(adminToken).mode & 0o777, 0o600);
      const token = readFileSync(adminToken, 'utf8').trim();
      assert.equal((await request(api.restUrl, 'GET', '/projects')).status, 401);
      const created = await request(
        api.restUrl,
        'POST',
        '/projects',
        { project: { fq_name: ['default-domain', 'p1'] } },
        {
          'x-auth-token': token,
        },
      );
      assert.equal(created.status, 200, JSON.stringify(created.body));
    } finally {
      await api.close();
      state.remove();
    }
  });

  test('cloud-admin mode refuses a member with 403, and lets a global reader read, not write', async () => {
    const state = tempDir('weft-auth-cloud-admin-');
    const readerToken = 'reader-token-0123456789abcdef';
    const path = join(state.path, 'tokens.json');
    writeFileSync(
      path,
      JSON.stringify({
        tokens: [
          { token: ALICE, user: 'alice', projects: { 'default-domain:default-project': 'member' } },
          { token: readerToken, user: 'control', roles: ['reader'] },
          { token: ADMIN, user: 'admin', roles: ['cloud-admin'] },
        ],
      }),
    );
    const api = await startConfigApi({
      stateDir: state.path,
      auth: { mode: 'cloud-admin', tokensFile: path },
      logLevel: 'silent',
    });
    try {
      const member = await request(api.restUrl, 'GET', '/projects', undefined, { 'x-auth-token': ALICE });
      assert.equal(member.status, 403);
      assert.equal(member.body.error.code, 'FORBIDDEN');
      assert.equal(
        (await request(api.restUrl, 'GET', '/projects', undefined, { 'x-auth-token': readerToken })).status,
        200,
      );
      const write = await request(
        api.restUrl,
        'POST',
        '/projects',
        { project: { fq_name: ['default-domain', 'p2'] } },
        {
          'x-auth-token': readerToken,
        },
      );
      assert.equal(write.status, 403);
      const admin = await request(
        api.restUrl,
        'POST',
        '/projects',
        { project: { fq_name: ['default-domain', 'p2'] } },
        {
          'x-auth-token': ADMIN,
        },
      );
      assert.equal(admin.status, 200);
    } finally {
      await api.close();
      state.remove();
    }
  });
});
