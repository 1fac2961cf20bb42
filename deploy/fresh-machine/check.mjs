#!/usr/bin/env node
// The fresh-machine check that CI runs before `npm test`: a clean Debian 12 container with only
// Node.js 20 (./Containerfile) receives a clean clone of this checkout and runs the README's
// commands as a newcomer would (./newcomer.mjs, inside the container). A missing install step
// fails here even when the machine running CI has the tool already.
//
//   node deploy/fresh-machine/check.mjs        needs root (podman, apt-get)
//
// What may carry over from one run to the next is only downloads: Debian's .deb archives, the
// pnpm store and npm's cache, kept under WEFT_FRESH_MACHINE_CACHE (default
// /var/cache/weft/fresh-machine) and mounted into the container. Nothing installed is kept: the
// container starts from the image every time and is removed at the end.
//
// The container is privileged and has a network namespace of its own (podman's bridge), so the
// datapath's vrouter-agent loads its BPF programs there, on the container's eth0, and never on
// this machine's own devices. Where egress re-signs TLS (these machines), the CA bundle this
// machine's npm and Node.js trust is mounted read-only and named to them, as the machine's own
// configuration does; nothing else of the host's reaches the container.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  capture,
  checkPodman,
  debootstrapMinbase,
  imageHasKey,
  importRootfs,
  runOrFail,
  ULIMITS,
} from '../images/podman.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const MINBASE = 'localhost/weft-debian-minbase:12';
const FRESH = 'localhost/weft-fresh-machine:debian12-node20';
const HOST_TOOLS = { podman: 'podman', runc: 'runc', debootstrap: 'debootstrap', 'dpkg-repack': 'dpkg-repack' };
const cacheRoot = resolve(process.env.WEFT_FRESH_MACHINE_CACHE ?? '/var/cache/weft/fresh-machine');
const imageCache = join(root, '.weft', 'images');

function say(message) {
  process.stderr.write(`fresh-machine: ${message}\n`);
}

function fail(message) {
  say(message);
  process.exit(1);
}

const report = { say, fail };

function timed(what, step) {
  const started = Date.now();
  const result = step();
  say(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/** podman, runc, debootstrap and dpkg-repack on this machine, from Debian. */
function installHostTools() {
  const missing = Object.entries(HOST_TOOLS)
    .filter(([command]) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status !== 0)
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) fail(`needs root to install ${missing.join(' ')} (or install them and run again)`);
  say(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  runOrFail('apt-get', ['update', '-qq'], fail, { env });
  runOrFail('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], fail, { env });
}

/** This machine's Node.js 20 as a Debian package (dpkg-repack rebuilds it from what dpkg has), and its npm. */
function nodejsPackage(into) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format
  const version = capture('dpkg-query', ['-W', '-f=${Version}', 'nodejs']);
  if (!version?.startsWith('20.')) {
    fail(`this machine's Debian package nodejs is ${version ?? 'not installed'}; the check needs Node.js 20 from it`);
  }
  const cached = join(cacheRoot, `nodejs_${version}.deb`);
  if (!existsSync(cached)) {
    const work = mkdtempSync(join(tmpdir(), 'weft-repack-'));
    runOrFail('dpkg-repack', ['nodejs'], fail, { cwd: work, stdio: 'ignore' });
    const deb = spawnSync('sh', ['-c', 'ls nodejs_*.deb'], { cwd: work, encoding: 'utf8' }).stdout.trim();
    mkdirSync(cacheRoot, { recursive: true });
    cpSync(join(work, deb), cached);
    rmSync(work, { recursive: true, force: true });
  }
  cpSync(cached, join(into, 'nodejs.deb'));
  // These machines upgrade the package's npm when they boot (to npm 11), so dpkg no longer has
  // all of the npm it installed: the container gets npm as this machine has it now.
  const npmDir = join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm');
  cpSync(npmDir, join(into, 'npm'), { recursive: true });
  const npmVersion = JSON.parse(readFileSync(join(npmDir, 'package.json'), 'utf8')).version;
  return `${version} npm ${npmVersion}`;
}

/** The fresh machine's image: Debian's minbase plus the nodejs package; remade when either changes. */
function ensureFreshImage() {
  if (!imageHasKey(MINBASE, 'minbase v1')) {
    const rootfs = join(imageCache, 'minbase.rootfs');
    debootstrapMinbase(rootfs, imageCache, report);
    importRootfs(rootfs, MINBASE, { key: 'minbase v1' }, report);
    rmSync(rootfs, { recursive: true, force: true });
  }
  const context = mkdtempSync(join(tmpdir(), 'weft-fresh-image-'));
  const nodeVersion = nodejsPackage(context);
  const recipe = readFileSync(join(here, 'Containerfile'));
  const key = createHash('sha256').update(recipe).update(nodeVersion).digest('hex').slice(0, 16);
  if (!imageHasKey(FRESH, key)) {
    say(`building ${FRESH} (Node.js ${nodeVersion})`);
    runOrFail(
      'podman',
      [
        'build',
        ...ULIMITS,
        '--network',
        'host',
        '--label',
        `weft.base.key=${key}`,
        '--build-arg',
        `BASE=${MINBASE}`,
        '-f',
        join(here, 'Containerfile'),
        '-t',
        FRESH,
        context,
      ],
      fail,
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  rmSync(context, { recursive: true, force: true });
}

/** A clean clone of what is committed here: no node_modules, no build output, no .weft. */
function cleanClone() {
  const dir = mkdtempSync(join(tmpdir(), 'weft-fresh-clone-'));
  runOrFail('git', ['clone', '--quiet', '--no-hardlinks', root, join(dir, 'weft')], fail);
  return dir;
}

/** The CA bundle this machine's npm and Node.js are told to trust, when they are told. */
function trustedCaFile() {
  const named = process.env.NODE_EXTRA_CA_CERTS || capture('npm', ['config', 'get', 'cafile']);
  return named && named !== 'null' && named !== 'undefined' && existsSync(named) ? named : undefined;
}

function runNewcomer(cloneDir) {
  const caches = {
    'apt-archives': '/var/cache/apt/archives',
    'pnpm-store': '/root/.local/share/pnpm/store',
    'npm-cache': '/root/.npm',
  };
  const volumes = [`${join(cloneDir, 'weft')}:/root/weft`];
  for (const [name, target] of Object.entries(caches)) {
    mkdirSync(join(cacheRoot, name), { recursive: true });
    volumes.push(`${join(cacheRoot, name)}:${target}`);
  }
  const ca = trustedCaFile();
  const caArgs = ca
    ? [
        '--volume',
        `${ca}:/run/weft-trusted-ca.crt:ro`,
        '--env',
        'NODE_EXTRA_CA_CERTS=/run/weft-trusted-ca.crt',
        '--env',
        'npm_config_cafile=/run/weft-trusted-ca.crt',
      ]
    : [];
  const result = spawnSync(
    'podman',
    [
      'run',
      '--rm',
      ...ULIMITS,
      '--privileged',
      '--hostname',
      'fresh-machine',
      ...volumes.flatMap((volume) => ['--volume', volume]),
      ...caArgs,
      '--workdir',
      '/root/weft',
      FRESH,
      'node',
      'deploy/fresh-machine/newcomer.mjs',
    ],
    { stdio: 'inherit' },
  );
  return result.status ?? 1;
}

if (process.getuid?.() !== 0) fail('run as root: the check installs podman and runs a privileged container');
timed('host tools', installHostTools);
checkPodman(report);
timed('fresh machine image', ensureFreshImage);
const cloneDir = timed('clean clone', cleanClone);
let status = 1;
try {
  status = timed('newcomer run in the container', () => runNewcomer(cloneDir));
} finally {
  rmSync(cloneDir, { recursive: true, force: true });
}
say(status === 0 ? 'passed' : `FAILED (exit ${status})`);
process.exit(status);
