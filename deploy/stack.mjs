#!/usr/bin/env node
// The local all-in-one stack that `npm start` runs: nats-server with JetStream, then every Weft
// daemon that has been built, each a child process on this machine with its state under
// WEFT_STATE_DIR (default .weft/ in the checkout) and its log in <state>/logs/<service>.log.
// A daemon (or NATS) that exits once the stack is up is restarted with a capped backoff, the
// reason in its log and on the console, while the others keep serving (deploy/supervisor.mjs).
// Ctrl-C (or SIGTERM) stops the daemons in reverse order, then NATS, and leaves no process.
//
// Options (environment): WEFT_STATE_DIR, WEFT_NATS_PORT (default 4222), WEFT_STACK_HOST
// (default 127.0.0.1), and every service's own WEFT_* options: each daemon gets those it
// declares (asked of it with --options-json), and no other WEFT_* variable.
//
// The internal links (gRPC, NATS) run mutual TLS: a local certificate authority and an identity
// per daemon (the agent's named by its host) are made under <state>/tls on the first start
// (deploy/certificates.mjs), and one for weftctl. REST on loopback stays plain HTTP. NATS knows
// each daemon by its certificate and lets it publish and subscribe only on its own subjects
// (@weft/kit's nats-permissions.ts renders nats-server's configuration).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NATS_PERMISSIONS, natsServerConfig, natsUserOf } from '../services/kit/dist/nats-permissions.js';
import { ensureIdentity, tlsOptions } from './certificates.mjs';
import { declaredFrom, declaredOptions, withoutWeft } from './daemon-options.mjs';
import { stackServices } from './stack-services.mjs';
import { SupervisedDaemon } from './supervisor.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stateDir = resolve(root, process.env.WEFT_STATE_DIR ?? '.weft');
const host = process.env.WEFT_STACK_HOST ?? '127.0.0.1';
const natsPort = Number(process.env.WEFT_NATS_PORT ?? 4222);
const tlsDir = join(stateDir, 'tls');
/**
 * An identity of the stack's authority, for a daemon answering on loopback and the stack's
 * address; a service that talks over NATS carries its NATS user too.
 */
const identityOf = (name, service) =>
  ensureIdentity(tlsDir, name, [
    'localhost',
    '127.0.0.1',
    host,
    ...(service in NATS_PERMISSIONS ? [natsUserOf(service)] : []),
  ]);
const isRoot = process.getuid?.() === 0;
// What the datapath needs beyond uid 0: a container runs as root without most of these.
const DATAPATH_CAPABILITIES = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_BPF: 39 };
const STOP_DEADLINE_MS = 15_000;

/** Supervised daemons, in start order. */
const running = [];
let stopping = false;

function say(message) {
  process.stdout.write(`weft: ${message}\n`);
}

function portAccepts(port) {
  return new Promise((done) => {
    const socket = connect({ port, host }, () => {
      socket.destroy();
      done(true);
    });
    socket.on('error', () => done(false));
  });
}

// A cold start of the agent (BPF objects, first sync) took over 20 s on a busy two-core machine.
const READY_TIMEOUT_MS = 60_000;

async function waitUntil(what, condition, timeoutMs = READY_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return false;
    if (await condition()) return true;
    await new Promise((next) => setTimeout(next, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

function startChild(name, command, args, env, ready) {
  const daemon = new SupervisedDaemon({
    name,
    command,
    args,
    env,
    cwd: root,
    logPath: join(stateDir, 'logs', `${name}.log`),
    say,
    afterRestart: () => waitUntil(`${name} after its restart`, ready),
    failedStart: (reason) => {
      if (stopping) return;
      say(`${name} ${reason} while the stack was starting; see ${daemon.logPath}. Stopping the stack.`);
      void stopAll(1);
    },
  });
  daemon.start();
  running.push(daemon);
  return daemon;
}

async function startNats() {
  if (spawnSync('nats-server', ['--version']).status !== 0) {
    throw new Error(
      'nats-server is not installed: run `npm start` as root once, or `sudo apt-get install -y nats-server`',
    );
  }
  if (await portAccepts(natsPort)) {
    throw new Error(`port ${natsPort} is already in use: stop what listens there or set WEFT_NATS_PORT`);
  }
  mkdirSync(join(stateDir, 'nats'), { recursive: true });
  const configFile = join(stateDir, 'nats', 'nats.conf');
  writeFileSync(configFile, natsServerConfig({ tls: identityOf('nats-server') }));
  const ready = () => portAccepts(natsPort);
  startChild(
    'nats-server',
    'nats-server',
    ['-c', configFile, '-js', '-sd', join(stateDir, 'nats'), '-a', host, '-p', String(natsPort)],
    withoutWeft(process.env),
    ready,
  );
  await waitUntil('nats-server', ready);
  say(
    `nats-server       nats://${host}:${natsPort}  (JetStream, mutual TLS, a user per service, data in ${join(stateDir, 'nats')})`,
  );
}

/** The datapath's capabilities this process lacks (all of them when it is not root). */
function missingDatapathCapabilities() {
  if (!isRoot) return Object.keys(DATAPATH_CAPABILITIES);
  const line = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  const effective = BigInt(`0x${line?.[1] ?? '0'}`);
  return Object.entries(DATAPATH_CAPABILITIES)
    .filter(([, bit]) => (effective & (1n << BigInt(bit))) === 0n)
    .map(([name]) => name);
}

async function startService(service) {
  const entry = join(root, service.main);
  if (!existsSync(entry)) return;
  if (service.needsRoot) {
    const missing = missingDatapathCapabilities();
    if (missing.length > 0) {
      say(`${service.name.padEnd(17)} not started: ${service.needsRoot} (missing ${missing.join(', ')})`);
      return;
    }
  }
  const declared = declaredOptions(process.execPath, [entry]);
  const given = {
    // WEFT_STATE_DIR is the stack's own; each daemon gets a folder under it.
    ...declaredFrom(process.env, declared, ['WEFT_STATE_DIR']),
    WEFT_NATS_URL: `nats://${host}:${natsPort}`,
    ...service.env({ stateDir: join(stateDir, service.name), host }),
  };
  // The daemon's identity: its own name, or what its options say it is (an agent's host name).
  const settings = { ...Object.fromEntries(declared.map((item) => [item.env, item.default])), ...given };
  const tls = tlsOptions(identityOf(service.identity?.(settings) ?? service.name, service.name));
  const env = { ...withoutWeft(process.env), ...tls, ...given };
  mkdirSync(join(stateDir, service.name), { recursive: true });
  const ready = async () => {
    try {
      return (await fetch(service.readyUrl(env))).status === 200;
    } catch {
      return false;
    }
  };
  const started = startChild(service.name, process.execPath, [entry], env, ready);
  if (service.cleanupArgs) started.cleanup = { command: process.execPath, args: [entry, ...service.cleanupArgs], env };
  await waitUntil(service.name, ready);
  say(`${service.name.padEnd(17)} ${service.describe(env)}  (log ${started.logPath})`);
}

async function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  say('stopping');
  for (const daemon of running) daemon.release();
  for (const daemon of [...running].reverse()) await daemon.stop(STOP_DEADLINE_MS);
  for (const entry of running) {
    if (!entry.cleanup) continue;
    const { command, args, env } = entry.cleanup;
    const result = spawnSync(command, args, {
      cwd: root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: STOP_DEADLINE_MS,
    });
    if (result.status !== 0) say(`${entry.name} cleanup failed: ${result.stderr?.toString().trim()}`);
  }
  say('stopped');
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  await startNats();
  for (const service of stackServices) await startService(service);
  say(`weftctl           ${join(root, '.weft', 'bin', 'weftctl')} (or npx weftctl): try \`weftctl status\``);
  const weftctl = ensureIdentity(tlsDir, 'weftctl');
  say(
    `                  its gRPC (watch) needs: WEFT_CTL_TLS_CA=${weftctl.caFile} ` +
      `WEFT_CTL_TLS_CERT=${weftctl.certFile} WEFT_CTL_TLS_KEY=${weftctl.keyFile}`,
  );
  for (const daemon of running) daemon.supervising = true;
  say('ready; a daemon that exits is restarted; Ctrl-C stops everything');
} catch (error) {
  say(error instanceof Error ? error.message : String(error));
  await stopAll(1);
}
