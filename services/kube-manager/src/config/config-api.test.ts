// The manager reaches config-api over HTTPS signed by the deployment's own CA (the chart's
// default): trusted with WEFT_TLS_CA, refused without it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { opensslMissing, selfSignedCertificate } from '@weft/kit/testing';
import fastify from 'fastify';
import { ConfigApi } from './config-api.js';

test('config-api over HTTPS: its CA trusted through WEFT_TLS_CA, an unknown one refused', {
  skip: opensslMissing(),
}, async () => {
  const { certFile, keyFile, remove } = selfSignedCertificate();
  const app = fastify({ https: { cert: readFileSync(certFile), key: readFileSync(keyFile) } });
  app.get('/virtual-network/:uuid', async (request) => ({
    'virtual-network': { uuid: (request.params as { uuid: string }).uuid, fq_name: ['d', 'p', 'n'] },
  }));
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const url = `https://localhost:${port}`;
    const trusted = await new ConfigApi(url, { caFile: certFile }).read('virtual-network', 'u-1');
    assert.deepEqual(trusted?.fq_name, ['d', 'p', 'n']);
    await assert.rejects(new ConfigApi(url).read('virtual-network', 'u-1'));
  } finally {
    await app.close();
    remove();
  }
});
