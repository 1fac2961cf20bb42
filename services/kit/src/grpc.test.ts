import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { credentials, type ServiceError, type sendUnaryData } from '@grpc/grpc-js';
import { loadConfigProto } from '@weft/proto';
import type { ConfigObject } from '@weft/proto/gen/weft/config/v1/ConfigObject.js';
import type { GetRequest__Output } from '@weft/proto/gen/weft/config/v1/GetRequest.js';
import { GrpcStatus } from './errors.js';
import { grpcChannelCredentials, startGrpcServer, type TlsFiles } from './grpc.js';
import { createLogger } from './logger.js';
import { opensslMissing, selfSignedCertificate } from './testing/index.js';

const quiet = createLogger({
  service: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});
const proto = loadConfigProto();

async function serveGet(tls?: TlsFiles) {
  return startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tls,
    logger: quiet,
    register: (server) =>
      server.addService(proto.weft.config.v1.Config.service, {
        Get: (call: { request: GetRequest__Output }, callback: sendUnaryData<ConfigObject>) => {
          if (call.request.uuid === 'missing') callback({ code: GrpcStatus.NOT_FOUND, details: 'no such object' });
          else callback(null, { type: call.request.type, uuid: call.request.uuid, revision: 7 });
        },
      }),
  });
}

function get(client: InstanceType<typeof proto.weft.config.v1.Config>, uuid: string) {
  return new Promise<ConfigObject>((resolve, reject) =>
    client.Get({ type: 'project', uuid }, (error, value) => (error ? reject(error) : resolve(value!))),
  );
}

test('a plaintext gRPC server answers calls and maps errors to status codes', async () => {
  const server = await serveGet();
  const client = new proto.weft.config.v1.Config(`127.0.0.1:${server.port}`, grpcChannelCredentials());
  try {
    const object = await get(client, 'u-1');
    assert.equal(object.uuid, 'u-1');
    assert.equal(object.revision, 7);
    await assert.rejects(get(client, 'missing'), (error: ServiceError) => error.code === GrpcStatus.NOT_FOUND);
  } finally {
    client.close();
    await server.stop();
  }
});

test('with certificate files the server speaks TLS and a plaintext client is refused', {
  skip: opensslMissing(),
}, async () => {
  const { certFile: cert, keyFile: key, remove } = selfSignedCertificate();
  const server = await serveGet({ certFile: cert, keyFile: key });
  const secure = new proto.weft.config.v1.Config(`localhost:${server.port}`, grpcChannelCredentials({ caFile: cert }));
  const plain = new proto.weft.config.v1.Config(`127.0.0.1:${server.port}`, credentials.createInsecure());
  try {
    assert.equal((await get(secure, 'u-2')).uuid, 'u-2');
    await assert.rejects(get(plain, 'u-3'), (error: ServiceError) => error.code === GrpcStatus.UNAVAILABLE);
  } finally {
    secure.close();
    plain.close();
    await server.stop();
    remove();
  }
});
