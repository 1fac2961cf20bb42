#!/usr/bin/env node
// The whole Weft stack on this machine from its images (deploy/images/build.mjs builds them):
// NATS with JetStream, config-api, control, analytics and, as root, the vrouter-agent, each a
// podman container on the host network, each with its state under WEFT_STATE_DIR/<service>
// and its log in WEFT_STATE_DIR/logs/<service>.log.
//
//   node deploy/images/run.mjs          start, wait until every service is ready, and stay in
//                                       the foreground; Ctrl-C (or SIGTERM) stops and removes
//                                       every container of the stack
//   node deploy/images/run.mjs stop     remove the containers a stopped-by-force run left behind
//
// Environment: WEFT_STATE_DIR (default .weft/images-stack in the checkout), WEFT_STACK_NAME
// (default weft: containers are <name>-<service>, labelled weft.stack=<name>), WEFT_IMAGE_PREFIX
// (default localhost), WEFT_STACK_HOST (default 127.0.0.1), and the ports: WEFT_NATS_PORT (4222),
// WEFT_NATS_MONITOR_PORT (8222), WEFT_CONFIG_API_REST_PORT (8082), WEFT_CONFIG_API_GRPC_PORT
// (8090), WEFT_CONTROL_AGENT_PORT (5269), WEFT_CONTROL_HTTP_PORT (8083),
// WEFT_ANALYTICS_REST_PORT (8081), WEFT_AGENT_HTTP_PORT (8085). Any other option a daemon
// declares (its image answers --options-json) passes through to its container, e.g.
// WEFT_AGENT_UNDERLAY_DEVICE, or WEFT_STORE and WEFT_ETCD_ENDPOINTS for config-api; the state
// dir, NATS URL and TLS files are the runner's own. WEFT_AGENT_NETNS (a path under
// /var/run/netns) runs the agent in that network namespace instead of the host's.
// WEFT_STACK_CONFIG_API_REPLICAS (default 1) runs that many config-api containers, replica k
// (from 2) on WEFT_CONFIG_API_REST_PORT_<k> and WEFT_CONFIG_API_GRPC_PORT_<k>; more than one needs
// WEFT_STORE=etcd and WEFT_ETCD_ENDPOINTS (an etcd cluster the caller runs).
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { declaredFrom, declaredOptions } from '../daemon-options.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = process.env;
const stateDir = resolve(root, env.WEFT_STATE_DIR ?? join('.weft', 'images-stack'));
const stack = env.WEFT_STACK_NAME ?? 'weft';
const prefix = env.WEFT_IMAGE_PREFIX ?? 'localhost';
const host = env.WEFT_STACK_HOST ?? '127.0.0.1';
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const isRoot = process.getuid?.() === 0;
const READY_DEADLINE_MS = 90_000;
const STOP_SECONDS = 15;
// As in build.mjs: limits this kind of machine can grant.
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
// The uid the service images run as (their Containerfiles' USER).
const SERVICE_UID = 10001;

const port = (name, fallback) => env[name] ?? String(fallback);
const ports = {
  nats: port('WEFT_NATS_PORT', 4222),
  natsMonitor: port('WEFT_NATS_MONITOR_PORT', 8222),
  rest: port('WEFT_CONFIG_API_REST_PORT', 8082),
  grpc: port('WEFT_CONFIG_API_GRPC_PORT', 8090),
  controlAgent: port('WEFT_CONTROL_AGENT_PORT', 5269),
  controlHttp: port('WEFT_CONTROL_HTTP_PORT', 8083),
  analytics: port('WEFT_ANALYTICS_REST_PORT', 8081),
  agentHttp: port('WEFT_AGENT_HTTP_PORT', 8085),
};
const natsUrl = `nats://${host}:${ports.nats}`;
/** Where the stack's tokens live on this machine, and where the daemons see them. */
const authDir = join(stateDir, 'auth');
const AUTH_MOUNT = '/etc/weft/auth';
const authVolume = () => ['--volume', `${authDir}:${AUTH_MOUNT}`];
const configApiReplicas = Number(env.WEFT_STACK_CONFIG_API_REPLICAS ?? 1);
if (!Number.isInteger(configApiReplicas) || configApiReplicas < 1) {
  process.stderr.write('weft: WEFT_STACK_CONFIG_API_REPLICAS must be a whole number from 1\n');
  process.exit(2);
}
if (configApiReplicas > 1 && (env.WEFT_STORE !== 'etcd' || !env.WEFT_ETCD_ENDPOINTS)) {
  process.stderr.write(
    'weft: several config-api replicas share one etcd: set WEFT_STORE=etcd and WEFT_ETCD_ENDPOINTS\n',
  );
  process.exit(2);
}
/** config-api replica k (from 1): its container name suffix and its ports. */
const configApiReplica = (k) => ({
  suffix: k === 1 ? '' : `-${k}`,
  rest: k === 1 ? ports.rest : env[`WEFT_CONFIG_API_REST_PORT_${k}`],
  grpc: k === 1 ? ports.grpc : env[`WEFT_CONFIG_API_GRPC_PORT_${k}`],
});
for (let k = 2; k <= configApiReplicas; k++) {
  if (!configApiReplica(k).rest || !configApiReplica(k).grpc) {
    process.stderr.write(
      `weft: config-api replica ${k} needs WEFT_CONFIG_API_REST_PORT_${k} and WEFT_CONFIG_API_GRPC_PORT_${k}\n`,
    );
    process.exit(2);
  }
}
const agentHttpHost = env.WEFT_AGENT_HTTP_HOST ?? host;
const logLevel = env.WEFT_LOG_LEVEL ?? 'info';

/**
 * The services in start order. env: the daemon's options inside its container (WEFT_STATE_DIR is
 * always /var/lib/weft, bound to WEFT_STATE_DIR/<name>); ready: the URL that answers 200 when
 * the service is ready; extra: more podman run arguments.
 */
const services = [
  {
    name: 'nats',
    image: 'weft-nats',
    stateMount: '/data',
    env: { NATS_MONITOR_HOST: host, NATS_MONITOR_PORT: ports.natsMonitor },
    args: ['-js', '-sd', '/data', '-a', host, '-p', ports.nats, '-m', ports.natsMonitor],
    listens: { WEFT_NATS_PORT: ports.nats, WEFT_NATS_MONITOR_PORT: ports.natsMonitor },
    ready: `http://${host}:${ports.natsMonitor}/healthz`,
    describe: natsUrl,
  },
  // One tokens file for the stack (config-api makes it with an admin token at its first start,
  // admin.token beside it), in a directory every authenticating daemon and control mount.
  ...Array.from({ length: configApiReplicas }, (_, i) => {
    const { suffix, rest, grpc } = configApiReplica(i + 1);
    return {
      name: `config-api${suffix}`,
      image: 'weft-config-api',
      daemon: true,
      env: {
        WEFT_CONFIG_API_HOST: host,
        WEFT_CONFIG_API_REST_PORT: rest,
        WEFT_CONFIG_API_GRPC_PORT: grpc,
        WEFT_AUTH_TOKENS_FILE: `${AUTH_MOUNT}/tokens.json`,
      },
      extra: authVolume,
      listens: { [`WEFT_CONFIG_API_REST_PORT${suffix.replace('-', '_')}`]: rest },
      ready: `http://${host}:${rest}/readyz`,
      describe: `REST http://${host}:${rest}  gRPC ${host}:${grpc}${env.WEFT_STORE === 'etcd' ? '  (etcd)' : ''}`,
    };
  }),
  {
    name: 'control',
    image: 'weft-control',
    daemon: true,
    env: {
      WEFT_CONFIG_API_GRPC: `${host}:${ports.grpc}`,
      WEFT_CONTROL_HOST: host,
      WEFT_CONTROL_AGENT_PORT: ports.controlAgent,
      WEFT_CONTROL_HTTP_PORT: ports.controlHttp,
      WEFT_CONFIG_API_TOKEN_FILE: `${AUTH_MOUNT}/admin.token`,
    },
    extra: authVolume,
    listens: { WEFT_CONTROL_AGENT_PORT: ports.controlAgent, WEFT_CONTROL_HTTP_PORT: ports.controlHttp },
    ready: `http://${host}:${ports.controlHttp}/readyz`,
    describe: `agents ${host}:${ports.controlAgent}  HTTP http://${host}:${ports.controlHttp}`,
  },
  {
    name: 'analytics',
    image: 'weft-analytics',
    daemon: true,
    env: { WEFT_REST_HOST: host, WEFT_REST_PORT: ports.analytics, WEFT_AUTH_TOKENS_FILE: `${AUTH_MOUNT}/tokens.json` },
    extra: authVolume,
    listens: { WEFT_ANALYTICS_REST_PORT: ports.analytics },
    ready: `http://${host}:${ports.analytics}/readyz`,
    describe: `REST http://${host}:${ports.analytics}`,
  },
  {
    name: 'vrouter-agent',
    image: 'weft-vrouter-agent',
    daemon: true,
    needsRoot: 'the datapath loads BPF programs, which needs root',
    // This machine's name, not the container's: the agent is this host's virtual router.
    env: {
      WEFT_AGENT_HOST_NAME: env.WEFT_AGENT_HOST_NAME ?? hostname(),
      WEFT_AGENT_HTTP_HOST: agentHttpHost,
      WEFT_AGENT_HTTP_PORT: ports.agentHttp,
      WEFT_AGENT_CONTROL: `${host}:${ports.controlAgent}`,
      WEFT_AGENT_CNI_SOCKET: '/run/weft/agent.sock',
      // Its introspection takes the stack's tokens, as config-api and analytics do.
      WEFT_AUTH_TOKENS_FILE: `${AUTH_MOUNT}/tokens.json`,
    },
    // The datapath's capabilities (as the chart grants them), bpffs, the host's namespaces and the tokens.
    extra: (dir) => [
      ...authVolume(),
      '--cap-add',
      'BPF,PERFMON,NET_ADMIN,SYS_ADMIN,NET_RAW',
      '--volume',
      '/sys/fs/bpf:/sys/fs/bpf',
      '--volume',
      '/var/run/netns:/var/run/netns:rslave',
      '--volume',
      `${join(dir, 'run')}:/run/weft`,
    ],
    // WEFT_AGENT_NETNS puts the agent (and the datapath it builds) in a network namespace of
    // its own instead of the host's; it then reaches the stack at WEFT_STACK_HOST.
    network: env.WEFT_AGENT_NETNS ? `ns:${env.WEFT_AGENT_NETNS}` : 'host',
    ready: `http://${agentHttpHost}:${ports.agentHttp}/readyz`,
    describe: `HTTP http://${agentHttpHost}:${ports.agentHttp}  CNI ${join(stateDir, 'vrouter-agent', 'run', 'agent.sock')}`,
  },
];

function say(message) {
  process.stdout.write(`weft: ${message}\n`);
}

function podman(args, options = {}) {
  return spawnSync('podman', args, { encoding: 'utf8', ...options });
}

const containerName = (service) => `${stack}-${service.name}`;
const imageName = (service) => `${prefix}/${service.image}:${version}`;

/** Every container of this stack, running or not. */
function stackContainers() {
  const result = podman(['ps', '-a', '--filter', `label=weft.stack=${stack}`, '--format', '{{.Names}}']);
  return result.stdout.split('\n').filter(Boolean);
}

function removeContainers(names) {
  if (names.length === 0) return;
  podman(['stop', '--time', String(STOP_SECONDS), ...names]);
  podman(['rm', '--force', ...names]);
}

function isRunning(name) {
  return podman(['inspect', '--format', '{{.State.Running}}', name]).stdout.trim() === 'true';
}

function portAccepts(portNumber) {
  return new Promise((done) => {
    const socket = connect({ port: Number(portNumber), host }, () => {
      socket.destroy();
      done(true);
    });
    socket.on('error', () => done(false));
  });
}

async function answers200(url) {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
}

/** The containers started, in start order. */
const started = [];
let stopping = false;

async function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  say('stopping');
  // Reverse order: the agent and the daemons drain before NATS goes.
  for (const name of [...started].reverse()) removeContainers([name]);
  removeContainers(stackContainers());
  say('stopped');
  process.exit(exitCode);
}

async function start(service) {
  const name = containerName(service);
  if (podman(['image', 'exists', imageName(service)]).status !== 0) {
    say(`${service.name.padEnd(17)} not started: no image ${imageName(service)} (node deploy/images/build.mjs)`);
    return;
  }
  if (service.needsRoot && !isRoot) {
    say(`${service.name.padEnd(17)} not started: ${service.needsRoot}`);
    return;
  }
  for (const [variable, value] of Object.entries(service.listens ?? {})) {
    if (await portAccepts(value)) {
      throw new Error(`${service.name}: port ${value} on ${host} is already in use; set ${variable} to another`);
    }
  }
  const dir = join(stateDir, service.name);
  mkdirSync(join(dir, 'run'), { recursive: true });
  if (isRoot && !service.needsRoot) chownSync(dir, SERVICE_UID, SERVICE_UID);
  mkdirSync(authDir, { recursive: true });
  if (isRoot) chownSync(authDir, SERVICE_UID, SERVICE_UID);
  const logPath = join(stateDir, 'logs', `${service.name}.log`);
  // The caller's options that this daemon declares (asked of its image) pass through; the
  // runner's own (state dir, NATS, TLS files it does not mount) and its settings above win.
  const passed = service.daemon
    ? declaredFrom(
        env,
        declaredOptions('podman', ['run', '--rm', '--network', 'none', ...ULIMITS, imageName(service)]),
        ['WEFT_STATE_DIR', 'WEFT_NATS_URL', 'WEFT_TLS_CERT', 'WEFT_TLS_KEY', 'WEFT_TLS_CA'],
      )
    : {};
  const envArgs = Object.entries({
    ...passed,
    ...(service.daemon ? { WEFT_LOG_LEVEL: logLevel, WEFT_NATS_URL: natsUrl } : {}),
    ...service.env,
  }).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
  const run = podman([
    'run',
    '--detach',
    '--name',
    name,
    '--label',
    `weft.stack=${stack}`,
    '--network',
    service.network ?? 'host',
    ...ULIMITS,
    '--log-driver',
    'k8s-file',
    '--log-opt',
    `path=${logPath}`,
    '--volume',
    `${dir}:${service.stateMount ?? '/var/lib/weft'}`,
    ...envArgs,
    ...(service.extra?.(dir) ?? []),
    imageName(service),
    ...(service.args ?? []),
  ]);
  if (run.status !== 0) throw new Error(`${service.name} did not start: ${run.stderr.trim()}`);
  started.push(name);
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (!(await answers200(service.ready))) {
    if (stopping) return;
    if (!isRunning(name)) throw new Error(`${service.name} exited; its log is ${logPath}`);
    if (Date.now() > deadline) throw new Error(`${service.name} was not ready within 90 s (${service.ready})`);
    await new Promise((next) => setTimeout(next, 250));
  }
  say(`${service.name.padEnd(17)} ${service.describe}  (container ${name}, log ${logPath})`);
}

/** Stops the stack when one of its containers ends on its own; the waiters also keep this process up. */
function watch(name) {
  const waiter = spawn('podman', ['wait', name], { stdio: 'ignore' });
  waiter.once('exit', () => {
    if (stopping) return;
    say(`${name} stopped unexpectedly; see its log under ${join(stateDir, 'logs')}. Stopping the stack.`);
    void stopAll(1);
  });
}

if (process.argv[2] === 'stop') {
  const names = stackContainers();
  removeContainers(names);
  say(`removed ${names.length} container(s) of stack "${stack}"`);
  process.exit(0);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
if (podman(['--version']).status !== 0) {
  say('podman is not installed: apt-get install -y podman runc');
  process.exit(1);
}
const leftovers = stackContainers();
if (leftovers.length > 0) {
  say(`stack "${stack}" already has containers (${leftovers.join(', ')}): stop that run, or "run.mjs stop"`);
  process.exit(1);
}
try {
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  for (const service of services) await start(service);
  for (const name of started) watch(name);
  say('ready; Ctrl-C stops everything');
} catch (error) {
  say(error instanceof Error ? error.message : String(error));
  await stopAll(1);
}
