// Each daemon declares its options once (src/options.ts, with the kit's common ones); every place
// that restates them is checked against that declaration here: --help and --options-json, the
// README's table, the Containerfile's EXPOSE and HEALTHCHECK, the local stack and the lab. The
// daemon refuses a WEFT_* variable it does not declare, naming it. (The charts' env is checked
// in charts.test.ts, on every rendered mode.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { optionsTable } from '@weft/kit';
import { agentEnv, controllerServices, type LabPorts } from '../lab/services.js';
import type { Topology } from '../lab/topology.js';
import { daemons, declaredNames, TABLE_BEGIN, TABLE_END } from '../support/daemons.js';
import { repoRoot } from '../support/stack.js';

/** The daemon run with only these WEFT_* variables. */
function runMain(main: string, args: string[], weft: Record<string, string> = {}) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WEFT_')));
  return spawnSync(process.execPath, [main, ...args], {
    env: { ...inherited, ...weft },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

for (const daemon of daemons) {
  describe(`weft-${daemon.name}'s options`, () => {
    const declared = Object.values(daemon.options);

    test('--help and --options-json list every declared option', () => {
      const help = runMain(daemon.main, ['--help']);
      assert.equal(help.status, 0, help.stderr);
      for (const item of declared) assert.match(help.stdout, new RegExp(`${item.env} / --`), item.env);
      const json = runMain(daemon.main, ['--options-json']);
      assert.equal(json.status, 0, json.stderr);
      assert.deepEqual(
        (JSON.parse(json.stdout) as { env: string }[]).map((item) => item.env),
        declared.map((item) => item.env),
      );
    });

    test('the README table is the one made from the declaration', () => {
      const readme = readFileSync(daemon.readme, 'utf8');
      const begin = readme.indexOf(TABLE_BEGIN);
      const end = readme.indexOf(TABLE_END);
      assert.ok(begin >= 0 && end > begin, `${daemon.readme} has the options marks`);
      assert.equal(
        readme.slice(begin + TABLE_BEGIN.length, end).trim(),
        optionsTable(daemon.options),
        `${daemon.readme} is out of date: run node test/dist/support/options-readme.js`,
      );
    });

    test('the Containerfile EXPOSEs the ports it listens on by default, and its HEALTHCHECK reads declared options', () => {
      const text = readFileSync(daemon.containerfile, 'utf8');
      const exposed = /^EXPOSE (.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
      const listens = declared
        .filter((item) => item.listen)
        .map((item) => (item.listen === 'udp' ? `${item.default}/udp` : String(item.default)));
      assert.deepEqual([...exposed].sort(), [...listens].sort());
      const check =
        /HEALTHCHECK[\s\S]*?CMD \["node", "\/opt\/weft\/healthcheck\.mjs", "(\w+)", "(\d+)", "(\w+)"\]/.exec(text);
      assert.ok(check, 'a HEALTHCHECK on the daemon port');
      const [, portOption, portDefault, hostOption] = check;
      const port = declared.find((item) => item.env === portOption);
      assert.ok(port, `${portOption} is declared`);
      assert.equal(String(port.default), portDefault, `the HEALTHCHECK's fallback is ${portOption}'s default`);
      assert.ok(declaredNames(daemon).has(hostOption!), `${hostOption} is declared`);
    });

    test('a WEFT_* variable it does not declare stops it at start, named', () => {
      const foreign = daemons
        .flatMap((other) => [...declaredNames(other)])
        .find((name) => !declaredNames(daemon).has(name))!;
      for (const variable of ['WEFT_NO_SUCH_OPTION', foreign]) {
        const run = runMain(daemon.main, [], { [variable]: '1' });
        assert.equal(run.status, 2, `${variable}: ${run.stderr}`);
        assert.equal(
          run.stderr.trim(),
          `weft-${daemon.name}: unknown ${variable}: this daemon declares no such option (--help lists every option it takes)`,
        );
      }
    });
  });
}

test('the local stack and the lab set only options each daemon declares', async () => {
  const byName = new Map(daemons.map((daemon) => [daemon.name, declaredNames(daemon)]));
  const { stackServices } = (await import(join(repoRoot, 'deploy', 'stack-services.mjs'))) as {
    stackServices: { name: string; env: (context: { stateDir: string; host: string }) => Record<string, string> }[];
  };
  for (const service of stackServices) {
    for (const name of Object.keys(service.env({ stateDir: '/tmp/x', host: '127.0.0.1' }))) {
      assert.ok(
        byName.get(service.name)?.has(name),
        `the stack sets ${name} for ${service.name}, which does not declare it`,
      );
    }
  }
  const ports: LabPorts = {
    nats: 1,
    configRest: 2,
    configGrpc: 3,
    control: 4,
    controlHttp: 5,
    analytics: 6,
    agentHttp: 7,
    bgpApi: 8,
  };
  const topology = { controllerAddress: '10.0.0.1', hosts: [] } as unknown as Topology;
  const kube = { url: 'http://127.0.0.1:6443', podNetwork: 'pod-net' };
  // With a gateway, control gets its BGP options too.
  const withGateway = { ...topology, gateway: { underlayAddress: '10.0.0.3', asn: 64500 } } as unknown as Topology;
  for (const service of [
    ...controllerServices(topology, ports, '/tmp/lab', kube),
    ...controllerServices(withGateway, ports, '/tmp/lab'),
  ]) {
    if (service.name === 'nats-server' || service.name === 'gobgpd') continue;
    for (const name of Object.keys(service.env)) {
      assert.ok(
        byName.get(service.name)?.has(name),
        `the lab sets ${name} for ${service.name}, which does not declare it`,
      );
    }
  }
  const host = { name: 'h1', underlayAddress: '10.0.0.2', underlayDevice: 'eth0' } as Topology['hosts'][number];
  for (const name of Object.keys(agentEnv(host, topology, ports, '/tmp/lab/h1', '/tmp/lab'))) {
    assert.ok(byName.get('vrouter-agent')?.has(name), `the lab sets ${name} for the agent, which does not declare it`);
  }
});
