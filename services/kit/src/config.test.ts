import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConfigError,
  describeConfig,
  flagName,
  loadConfig,
  option,
  optionsJson,
  optionsTable,
  UnknownOptionError,
} from './config.js';
import { runFixtureDaemon } from './fixtures/daemon-process.js';

const spec = {
  restPort: option.port('WEFT_REST_PORT', 'REST port', 8082),
  timeout: option.duration('WEFT_TIMEOUT', 'timeout', 5_000),
  store: option.oneOf('WEFT_STORE', 'store', ['sqlite', 'etcd'], 'sqlite'),
  nats: option.urls('WEFT_NATS_URL', 'NATS', ['nats://127.0.0.1:4222'], ['nats']),
  verbose: option.boolean('WEFT_VERBOSE', 'verbose', false),
  password: option.string('WEFT_PASSWORD', 'a password', '', { secret: true }),
};

test('defaults apply when nothing is set', () => {
  const config = loadConfig(spec, { env: {}, argv: [] });
  assert.deepEqual(config, {
    restPort: 8082,
    timeout: 5_000,
    store: 'sqlite',
    nats: ['nats://127.0.0.1:4222'],
    verbose: false,
    password: '',
  });
});

test('environment variables set options and flags win over them', () => {
  const config = loadConfig(spec, {
    env: { WEFT_REST_PORT: '9000', WEFT_TIMEOUT: '2m', WEFT_STORE: 'etcd', WEFT_VERBOSE: 'yes' },
    argv: ['--rest-port=9100', '--nats-url', 'nats://a:1, nats://b:2'],
  });
  assert.equal(config.restPort, 9100);
  assert.equal(config.timeout, 120_000);
  assert.equal(config.store, 'etcd');
  assert.equal(config.verbose, true);
  assert.deepEqual(config.nats, ['nats://a:1', 'nats://b:2']);
});

test('a wrong value names the option, the value and what is expected', () => {
  const cases: [Record<string, string>, string][] = [
    [{ WEFT_REST_PORT: '70000' }, 'invalid WEFT_REST_PORT="70000": expected a port number from 0 to 65535'],
    [{ WEFT_REST_PORT: '80a' }, 'invalid WEFT_REST_PORT="80a": expected a port number from 0 to 65535'],
    [{ WEFT_TIMEOUT: 'soon' }, 'invalid WEFT_TIMEOUT="soon": expected a duration such as 500ms, 10s, 5m or 1h'],
    [{ WEFT_STORE: 'mysql' }, 'invalid WEFT_STORE="mysql": expected one of sqlite, etcd'],
    [{ WEFT_NATS_URL: 'http://x' }, 'invalid WEFT_NATS_URL="http://x": expected a comma-separated list of nats URLs'],
    [{ WEFT_VERBOSE: 'maybe' }, 'invalid WEFT_VERBOSE="maybe": expected true or false'],
  ];
  for (const [env, message] of cases) {
    assert.throws(
      () => loadConfig(spec, { env, argv: [] }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.message, message);
        return true;
      },
    );
  }
});

test('a bad flag is named as the flag, and unknown flags are refused', () => {
  assert.throws(() => loadConfig(spec, { env: {}, argv: ['--rest-port=x'] }), /invalid --rest-port="x"/);
  assert.throws(() => loadConfig(spec, { env: {}, argv: ['--rest-prot=1'] }), /only these flags: --rest-port/);
});

test("a WEFT_* variable no option declares is refused, named; other variables are not the daemon's business", () => {
  assert.throws(
    () => loadConfig(spec, { env: { WEFT_REST_PROT: '8080', PATH: '/bin' }, argv: [] }),
    (error: unknown) =>
      error instanceof UnknownOptionError &&
      error.option === 'WEFT_REST_PROT' &&
      /^unknown WEFT_REST_PROT: this daemon declares no such option/.test(error.message),
  );
  assert.doesNotThrow(() => loadConfig(spec, { env: { HOME: '/root', NODE_ENV: 'production' }, argv: [] }));
});

test('the README table and the JSON for tools come from the declaration', () => {
  const table = optionsTable(spec).split('\n');
  assert.match(table[0]!, /^\| environment +\| flag +\| default +\| meaning +\|$/);
  assert.equal(table.length, 2 + Object.keys(spec).length);
  assert.match(table[2]!, /^\| `WEFT_REST_PORT` +\| `--rest-port` +\| `8082` +\| /);
  const json = JSON.parse(optionsJson(spec)) as { env: string }[];
  assert.deepEqual(
    json.map((item) => item.env),
    Object.values(spec).map((item) => item.env),
  );
});

test('a secret value never appears in an error or in the help text', () => {
  const secretSpec = { token: option.integer('WEFT_TOKEN', 'token', 0, 0, 10) };
  secretSpec.token.secret = true;
  assert.throws(
    () => loadConfig(secretSpec, { env: { WEFT_TOKEN: 'hunter2' }, argv: [] }),
    (error: unknown) => {
      assert.ok(error instanceof Error && !error.message.includes('hunter2'));
      return true;
    },
  );
  assert.ok(
    !describeConfig({ password: option.string('WEFT_PASSWORD', 'pw', 's3cret', { secret: true }) }).includes('s3cret'),
  );
});

test('flag names derive from the environment variable', () => {
  assert.equal(flagName('WEFT_CONFIG_API_REST_PORT'), 'config-api-rest-port');
});

test('a daemon started with a wrong value exits 2 with one line naming it', async () => {
  const daemon = runFixtureDaemon({ WEFT_FIXTURE_HTTP_PORT: 'eighty' });
  assert.equal(await daemon.exited, 2);
  assert.equal(
    daemon.stderr(),
    'weft-fixture: invalid WEFT_FIXTURE_HTTP_PORT="eighty": expected a port number from 0 to 65535\n',
  );
});
