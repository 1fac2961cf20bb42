#!/usr/bin/env node
// Builds every Weft image with podman: weft-config-api, weft-control, weft-analytics, weft-kube-manager,
// weft-vrouter-agent (from services/<name>/Containerfile) and weft-nats (for the one-machine
// stack), each tagged <prefix>/weft-<name>:<version>.
//
//   node deploy/images/build.mjs [--base local|IMAGE] [--only a,b] [--prefix localhost]
//
// --base local (the default): a machine that cannot pull images. The base is made here: a
//   Debian bookworm root filesystem from debootstrap, with this machine's Node.js 20 copied
//   in as the node:20 image lays it out, imported as localhost/weft-node-base:20. It is cached
//   under <WEFT_STATE_DIR>/images and made again only when Node.js changes, so a second build
//   takes seconds. Podman's own settings for such a machine are checked (and written to
//   /etc/containers/containers.conf when that file is missing).
// --base IMAGE: any machine that pulls from a registry, e.g. --base node:20-bookworm-slim.
//
// Plain JavaScript without dependencies, like deploy/setup.mjs: it runs before anything else.
// Environment: WEFT_STATE_DIR (default .weft in the checkout), WEFT_IMAGE_BASE (as --base),
// WEFT_IMAGE_PREFIX (as --prefix).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { capture, checkPodman, debootstrapMinbase, imageHasKey, importRootfs, runOrFail, ULIMITS } from './podman.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: args } = parseArgs({
  options: {
    base: { type: 'string', default: process.env.WEFT_IMAGE_BASE ?? 'local' },
    only: { type: 'string' },
    prefix: { type: 'string', default: process.env.WEFT_IMAGE_PREFIX ?? 'localhost' },
  },
});
const stateDir = resolve(root, process.env.WEFT_STATE_DIR ?? '.weft');
const cacheDir = join(stateDir, 'images');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const LOCAL_BASE = 'localhost/weft-node-base:20';

/** The images, in build order: the services share one build stage, so the first pays for it. */
const images = [
  { name: 'config-api', containerfile: 'services/config-api/Containerfile', main: 'services/config-api/src/main.ts' },
  { name: 'control', containerfile: 'services/control/Containerfile', main: 'services/control/src/main.ts' },
  { name: 'analytics', containerfile: 'services/analytics/Containerfile', main: 'services/analytics/src/main.ts' },
  {
    name: 'vrouter-agent',
    containerfile: 'services/vrouter-agent/Containerfile',
    main: 'services/vrouter-agent/src/main.ts',
  },
  {
    name: 'kube-manager',
    containerfile: 'services/kube-manager/Containerfile',
    main: 'services/kube-manager/src/main.ts',
  },
  { name: 'nats', containerfile: 'deploy/images/nats/Containerfile' },
];

function say(message) {
  process.stderr.write(`images: ${message}\n`);
}

function fail(message) {
  say(message);
  process.exit(1);
}

const report = { say, fail };

function run(command, argv, options = {}) {
  return runOrFail(command, argv, fail, { cwd: root, ...options });
}

/** What decides the local base's contents: the Node.js it carries and this recipe. */
function localBaseKey() {
  const node = readFileSync(process.execPath);
  return createHash('sha256').update('bookworm minbase v2').update(node).digest('hex').slice(0, 16);
}

/** Debian's minbase with this Node.js laid out as the node:20 image lays it out. */
function ensureLocalBase() {
  const key = localBaseKey();
  if (imageHasKey(LOCAL_BASE, key)) return;
  const rootfs = join(cacheDir, 'node-base.rootfs');
  debootstrapMinbase(rootfs, cacheDir, report);
  // node:20 keeps Node.js under /usr/local: the binary, npm and corepack, and the headers that
  // node-gyp compiles native addons against.
  const nodePrefix = dirname(dirname(process.execPath));
  cpSync(process.execPath, join(rootfs, 'usr/local/bin/node'));
  for (const tool of ['npm', 'corepack']) {
    const from = [join(nodePrefix, 'lib/node_modules', tool), join('/usr/lib/node_modules', tool)].find(existsSync);
    if (!from) continue;
    cpSync(from, join(rootfs, 'usr/local/lib/node_modules', tool), { recursive: true });
  }
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx'));
  const headers = [join(nodePrefix, 'include/node'), '/usr/include/node'].find(existsSync);
  if (headers) cpSync(headers, join(rootfs, 'usr/local/include/node'), { recursive: true });
  importRootfs(rootfs, LOCAL_BASE, { key, changes: ['CMD ["node"]'] }, report);
  rmSync(rootfs, { recursive: true, force: true });
}

/**
 * The CA bundle npm trusts here, when it names one (a machine whose egress re-signs TLS): the
 * build stage gets it mounted read-only, so pnpm reaches the registry from inside the build.
 */
function buildCaFile() {
  const file = process.env.npm_config_cafile || capture('npm', ['config', 'get', 'cafile']);
  return file && file !== 'null' && file !== 'undefined' && existsSync(file) ? file : undefined;
}

function build(image, base) {
  const tag = `${args.prefix}/weft-${image.name}:${version}`;
  const revision = capture('git', ['rev-parse', 'HEAD'], { cwd: root }) ?? 'unknown';
  const source = capture('git', ['config', '--get', 'remote.origin.url'], { cwd: root }) ?? `file://${root}`;
  const started = Date.now();
  const ca = buildCaFile();
  const caArgs = ca
    ? ['--volume', `${ca}:/run/weft-build-ca.crt:ro`, '--build-arg', 'BUILD_CA_FILE=/run/weft-build-ca.crt']
    : [];
  say(`building ${tag}`);
  run('podman', [
    'build',
    ...ULIMITS,
    // HEALTHCHECK is part of the docker image format only; OCI images drop it.
    '--format',
    'docker',
    // The build stage reaches the npm registry and Debian's mirror.
    '--network',
    'host',
    '--layers',
    '--ignorefile',
    'deploy/images/containerignore',
    ...caArgs,
    '--build-arg',
    `BASE=${base}`,
    '--build-arg',
    `VERSION=${version}`,
    '--build-arg',
    `REVISION=${revision}`,
    '--build-arg',
    `SOURCE=${source}`,
    '-f',
    image.containerfile,
    '-t',
    tag,
    '.',
  ]);
  say(`built ${tag} in ${Math.round((Date.now() - started) / 1000)} s`);
}

const selected = args.only ? args.only.split(',') : images.map((i) => i.name);
for (const name of selected) {
  if (!images.some((i) => i.name === name)) fail(`--only: no image "${name}"; images: ${images.map((i) => i.name)}`);
}
checkPodman(report);
const base = args.base === 'local' ? LOCAL_BASE : args.base;
if (args.base === 'local') ensureLocalBase();
for (const image of images.filter((i) => selected.includes(i.name))) {
  if (image.main && !existsSync(join(root, image.main))) {
    say(`skipping weft-${image.name}: ${image.main} does not exist yet`);
    continue;
  }
  build(image, base);
}
say('done');
