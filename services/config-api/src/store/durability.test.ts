// Durability: a restart keeps everything, and kill -9 in the middle of a burst of writes loses
// no write that was answered 2xx and leaves nothing half-written.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, tempDir, waitFor } from '@weft/kit/testing';
import { clientFor, networkBody, startTestServer } from '../testing/server.js';

const mainJs = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

test('a restart keeps every object, reference, address and the revision', async () => {
  const state = tempDir('weft-config-api-restart-');
  try {
    let server = await startTestServer({ stateDir: state.path });
    const network = await server.create('virtual-network', networkBody('kept', '10.70.0.0/24'));
    const port = await server.create('virtual-machine-interface', {
      fq_name: ['default-domain', 'default-project', 'kept-port'],
      virtual_network_refs: [{ uuid: network.uuid }],
    });
    const address = await server.create('instance-ip', {
      virtual_network_refs: [{ uuid: network.uuid }],
      virtual_machine_interface_refs: [{ uuid: port.uuid }],
    });
    const before = (await server.request('GET', `/virtual-network/${network.uuid}`)).body;
    const projectsBefore = (await server.request('GET', '/projects')).body;
    await server.close();

    server = await startTestServer({ stateDir: state.path });
    assert.deepEqual(
      (await server.request('GET', `/virtual-network/${network.uuid}`)).body,
      rebase(before, server.restUrl),
    );
    assert.deepEqual((await server.request('GET', '/projects')).body, rebase(projectsBefore, server.restUrl));
    const next = await server.create('instance-ip', { virtual_network_refs: [{ uuid: network.uuid }] });
    assert.notEqual(next.instance_ip_address, address.instance_ip_address, 'a held address is not given again');
    const taken = await server.request('POST', '/instance-ips', {
      'instance-ip': {
        virtual_network_refs: [{ uuid: network.uuid }],
        instance_ip_address: address.instance_ip_address,
      },
    });
    assert.equal(taken.status, 409);
    await server.close();
  } finally {
    state.remove();
  }
});

/** The same answer as read through another port: hrefs carry the server's address. */
// biome-ignore lint/suspicious/noExplicitAny: JSON answers
function rebase(body: any, base: string): any {
  return JSON.parse(JSON.stringify(body).replace(/http:\/\/127\.0\.0\.1:\d+/g, base));
}

async function startChild(stateDir: string): Promise<{ child: ChildProcess; url: string }> {
  const restPort = await freePort();
  const child = spawn(process.execPath, [mainJs], {
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WEFT_'))),
      WEFT_STATE_DIR: stateDir,
      WEFT_CONFIG_API_REST_PORT: String(restPort),
      WEFT_CONFIG_API_GRPC_PORT: '0',
      WEFT_CONFIG_API_HOST: '127.0.0.1',
      // On loopback, without tokens: what is tested here is not authentication.
      WEFT_AUTH_MODE: 'no-auth',
      WEFT_NATS_URL: `nats://127.0.0.1:${await freePort()}`,
      WEFT_LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${restPort}`;
  try {
    // A cold start of the daemon on a busy two-core machine can take well over the usual 10 s.
    await waitFor(async () => (await fetch(`${url}/healthz`)).ok, {
      timeoutMs: 30_000,
      what: 'config-api child to listen',
    });
  } catch (error) {
    // A child left running would keep this test file from ever ending.
    child.kill('SIGKILL');
    throw error;
  }
  return { child, url };
}

test('kill -9 during a burst of writes loses no acknowledged write and leaves nothing half-written', async () => {
  const state = tempDir('weft-config-api-kill-');
  try {
    const first = await startChild(state.path);
    const client = clientFor(first.url);
    const network = await client.create('virtual-network', networkBody('burst', '10.80.0.0/16'));
    const acknowledged: { type: string; uuid: string }[] = [];
    let killed = false;
    const worker = async (id: number) => {
      for (let index = 0; !killed; index++) {
        try {
          const port = await client.request('POST', '/virtual-machine-interfaces', {
            'virtual-machine-interface': {
              fq_name: ['default-domain', 'default-project', `w${id}-${index}`],
              virtual_network_refs: [{ uuid: network.uuid }],
            },
          });
          if (port.status !== 200) continue;
          acknowledged.push({ type: 'virtual-machine-interface', uuid: port.body['virtual-machine-interface'].uuid });
          const address = await client.request('POST', '/instance-ips', {
            'instance-ip': {
              virtual_network_refs: [{ uuid: network.uuid }],
              virtual_machine_interface_refs: [{ uuid: port.body['virtual-machine-interface'].uuid }],
            },
          });
          if (address.status === 200)
            acknowledged.push({ type: 'instance-ip', uuid: address.body['instance-ip'].uuid });
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 16 }, (_, id) => worker(id));
    await waitFor(() => acknowledged.length >= 400, { timeoutMs: 30_000, what: '400 acknowledged writes' });
    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    killed = true;
    await exited;
    await Promise.all(workers);

    const server = await startTestServer({ stateDir: state.path });
    try {
      for (const { type, uuid } of acknowledged) {
        const read = await server.request('GET', `/${type}/${uuid}`);
        assert.equal(read.status, 200, `acknowledged ${type} ${uuid} is missing after kill -9`);
      }
      // Nothing half-written: every instance-ip has its address, refs that resolve, and no address twice.
      const ips = (await server.request('GET', '/instance-ips?detail=true')).body['instance-ips'];
      const addresses = new Set<string>();
      for (const { 'instance-ip': ip } of ips) {
        assert.match(ip.instance_ip_address, /^10\.80\./);
        assert.ok(!addresses.has(ip.instance_ip_address), `${ip.instance_ip_address} held twice`);
        addresses.add(ip.instance_ip_address);
        for (const ref of ip.virtual_machine_interface_refs ?? []) {
          assert.equal((await server.request('GET', `/virtual-machine-interface/${ref.uuid}`)).status, 200);
        }
      }
      const ports = (await server.request('GET', '/virtual-machine-interfaces?detail=true')).body[
        'virtual-machine-interfaces'
      ];
      for (const { 'virtual-machine-interface': port } of ports) {
        assert.equal(port.virtual_machine_interface_mac_addresses.mac_address.length, 1);
      }
      // The store still allocates: a taken address is never handed out again.
      const fresh = await server.create('instance-ip', { virtual_network_refs: [{ uuid: network.uuid }] });
      assert.ok(!addresses.has(fresh.instance_ip_address as string));
    } finally {
      await server.close();
    }
  } finally {
    state.remove();
  }
});
