#!/usr/bin/env node
// A newcomer on a fresh machine, run inside the fresh-machine container by ./check.mjs: in a
// clean checkout, the README's commands in order, each timed.
//
//   1. `npm start` (cold): set-up installs everything, then every daemon answers /readyz, a
//      virtual network created by REST reads back, a DELETE that says content-type JSON with no
//      body (as Tungsten Fabric's clients send it) is served, and the weft-cni the build made
//      is an executable a runtime can exec; Ctrl-C stops it all.
//      With it running, the README's tour, pasted into bash.
//   2. `npm start` again: ready within seconds, printing where each part listens and logs.
//   3. The README's lab (pods on two hosts), pasted into bash, from `up` to `down`.
//   4. `npm test`: set-up (the test tools) and build, through to the first test's result.
//
// Plain JavaScript on Node.js alone: nothing is installed when it starts.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { stackServices } from '../stack-services.mjs';

const STACK_HOST = '127.0.0.1';
const COLD_DEADLINE_MS = 20 * 60_000;
const WARM_DEADLINE_MS = 2 * 60_000;
const STOP_DEADLINE_MS = 60_000;
const timings = [];

function say(message) {
  process.stdout.write(`newcomer: ${message}\n`);
}

/** Runs an npm command in a process group of its own, as a terminal would, echoing its output. */
function npm(args, label) {
  const child = spawn('npm', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const waiters = [];
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const take = (chunk) => {
    for (const line of chunk.toString().split('\n')) {
      if (line === '') continue;
      lines.push(line);
      process.stdout.write(`  ${label} | ${line}\n`);
      for (const waiter of [...waiters]) waiter(line);
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  return {
    lines,
    exited,
    /** Resolves with the first line (seen or to come) that matches; rejects on exit or deadline. */
    waitForLine(pattern, deadlineMs, what) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what}: not within ${deadlineMs / 1000} s`)), deadlineMs);
        const waiter = (line) => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(waiter), 1);
          resolve(line);
        };
        waiters.push(waiter);
        exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`${what}: npm ${args.join(' ')} exited first (${signal ?? `code ${code}`})`));
        });
      });
    },
    /** Ends the whole process group at once (the run was only needed up to a point). */
    async kill() {
      process.kill(-child.pid, 'SIGKILL');
      await exited;
    },
    /** Ctrl-C: SIGINT to the whole process group, then the exit, within a deadline. */
    async interrupt() {
      process.kill(-child.pid, 'SIGINT');
      const timer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), STOP_DEADLINE_MS);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

async function timed(what, step) {
  const started = Date.now();
  const result = await step();
  const seconds = (Date.now() - started) / 1000;
  timings.push([what, seconds]);
  say(`${what}: ${seconds.toFixed(1)} s`);
  return result;
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Where each daemon of the stack answers /readyz, from the stack's own table of services. */
function readyUrls() {
  return stackServices.map((service) => ({
    name: service.name,
    url: service.readyUrl({ ...process.env, ...service.env({ stateDir: '', host: STACK_HOST }) }),
  }));
}

/** Each service's banner line names where it listens and where its log is; none is left out. */
function checkBanner(lines) {
  for (const { name } of stackServices) {
    const line = lines.find((text) => new RegExp(`^weft: ${name}\\s`).test(text));
    check(line, `npm start printed nothing about ${name}`);
    check(!line.includes('not started'), `npm start left ${name} out: ${line}`);
    check(/\(log \S+\.log\)/.test(line), `npm start did not say where ${name} logs: ${line}`);
  }
}

async function checkEveryDaemonReady() {
  for (const { name, url } of readyUrls()) {
    const response = await fetch(url);
    check(response.status === 200, `${name} at ${url} answered ${response.status}: ${await response.text()}`);
  }
}

async function checkRestRoundTrip() {
  const rest = readyUrls()
    .find(({ name }) => name === 'config-api')
    .url.replace(/\/readyz$/, '');
  // The admin token npm start made, where the README's tour takes it from.
  const token = { 'x-auth-token': readFileSync('.weft/admin.token', 'utf8').trim() };
  const fqName = ['default-domain', 'default-project', `newcomer-${process.pid}`];
  const created = await fetch(`${rest}/virtual-networks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...token },
    body: JSON.stringify({
      'virtual-network': {
        fq_name: fqName,
        parent_type: 'project',
        network_ipam_refs: [
          {
            to: ['default-domain', 'default-project', 'default-network-ipam'],
            attr: { ipam_subnets: [{ subnet: { ip_prefix: '10.1.0.0', ip_prefix_len: 24 } }] },
          },
        ],
      },
    }),
  });
  const body = await created.json();
  check(created.status === 200, `POST /virtual-networks answered ${created.status}: ${JSON.stringify(body)}`);
  const { uuid } = body['virtual-network'];
  const read = await (await fetch(`${rest}/virtual-network/${uuid}`, { headers: token })).json();
  check(
    JSON.stringify(read['virtual-network']?.fq_name) === JSON.stringify(fqName),
    `GET /virtual-network/${uuid} did not return what was created: ${JSON.stringify(read)}`,
  );
  const deleted = await fetch(`${rest}/virtual-network/${uuid}`, {
    method: 'DELETE',
    headers: { 'content-type': 'application/json', ...token },
  });
  check(deleted.status === 200, `DELETE with content-type JSON and no body answered ${deleted.status}`);
}

/** The plugin as a container runtime finds it: mode 755, a shebang, exec'd directly. */
async function checkCniExecutable() {
  const plugin = 'services/cni/dist/main.js';
  const mode = statSync(plugin).mode & 0o777;
  check(mode === 0o755, `${plugin} has mode ${mode.toString(8)}, not 755`);
  check(readFileSync(plugin, 'utf8').startsWith('#!'), `${plugin} has no shebang`);
  const child = spawn(plugin, [], {
    env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(JSON.stringify({ cniVersion: '1.0.0' }));
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  check(code === 0, `weft-cni VERSION exited ${code}: ${output}`);
  check(JSON.parse(output).supportedVersions?.includes('1.0.0'), `weft-cni VERSION answered ${output}`);
}

/** Ctrl-C stops everything: the stack says so, and no daemon answers any more. */
async function stop(run, what) {
  await timed(`${what}: Ctrl-C until stopped`, () => run.interrupt());
  check(
    run.lines.some((line) => /^weft: stopped/.test(line)),
    `${what} did not say it stopped everything on Ctrl-C`,
  );
  for (const { name, url } of readyUrls()) {
    const answered = await fetch(url).then(
      () => true,
      () => false,
    );
    check(!answered, `${name} still answers ${url} after Ctrl-C`);
  }
}

/** The first sh block under a README heading, as a user copies it. */
function readmeBlock(heading) {
  const section = readFileSync('README.md', 'utf8')
    .split(/^## /m)
    .find((part) => part.startsWith(heading));
  const block = /```sh\n([\s\S]*?)```/.exec(section ?? '');
  check(block, `README.md has no sh block under "## ${heading}"`);
  return block[1];
}

/**
 * Pastes a README block into bash, as a user would, stopping at the first command that fails.
 * curl fails on an HTTP error here (a user would see the error body; this run must stop).
 */
async function runReadmeBlock(heading) {
  const script = [
    'set -euo pipefail',
    'curl() { command curl --fail-with-body --show-error "$@"; }',
    readmeBlock(heading),
  ].join('\n');
  const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const label = `readme: ${heading.slice(0, 12)}`;
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      for (const line of chunk.toString().split('\n')) if (line) process.stdout.write(`  ${label} | ${line}\n`);
    });
  }
  const code = await new Promise((resolve) => child.once('exit', resolve));
  check(code === 0, `the README's "${heading}" block failed (exit ${code}); its output is above`);
}

// The banner's last line, however it goes on to describe the stack before "Ctrl-C stops everything".
const READY = /^weft: ready;.*Ctrl-C stops everything/;

async function main() {
  const cold = npm(['start'], 'start');
  await timed('npm start, cold: installs, build, every daemon ready', () =>
    cold.waitForLine(READY, COLD_DEADLINE_MS, 'npm start (cold)'),
  );
  checkBanner(cold.lines);
  await checkEveryDaemonReady();
  await timed('REST round trip of a virtual network', checkRestRoundTrip);
  await checkCniExecutable();
  await timed("the README's tour, with npm start running", () => runReadmeBlock('A short tour'));
  await stop(cold, 'npm start');

  const warm = npm(['start'], 'start again');
  await timed('npm start, second run: every daemon ready', () =>
    warm.waitForLine(READY, WARM_DEADLINE_MS, 'npm start (second run)'),
  );
  checkBanner(warm.lines);
  await checkEveryDaemonReady();
  await stop(warm, 'npm start (second run)');

  await timed("the README's lab, pasted in order", () => runReadmeBlock('The lab'));

  const tests = npm(['test'], 'test');
  await timed('npm test: set-up and build, to the first test result', () =>
    tests.waitForLine(/^\s*(✔|✖) /, COLD_DEADLINE_MS, 'npm test (first test)'),
  );
  await tests.kill();
}

main()
  .then(() => {
    say('every step passed');
    for (const [what, seconds] of timings) say(`  ${seconds.toFixed(1).padStart(7)} s  ${what}`);
    process.exit(0);
  })
  .catch((error) => {
    say(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
