#!/usr/bin/env node
// Builds every Weft image with podman: weft-config-api, weft-control, weft-analytics,
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
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

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
// podman's defaults ask for more open files and processes than this kind of machine may grant
// (raising a limit needs CAP_SYS_RESOURCE); these are plenty for a build or a daemon.
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

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
  { name: 'nats', containerfile: 'deploy/images/nats/Containerfile' },
];

function say(message) {
  process.stderr.write(`images: ${message}\n`);
}

function fail(message) {
  say(message);
  process.exit(1);
}

function run(command, argv, options = {}) {
  const result = spawnSync(command, argv, { stdio: 'inherit', cwd: root, ...options });
  if (result.status !== 0) fail(`"${command} ${argv.join(' ')}" failed (${result.status ?? result.signal})`);
  return result;
}

function capture(command, argv) {
  const result = spawnSync(command, argv, { cwd: root, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

const CONTAINERS_CONF = '/etc/containers/containers.conf';
const CONTAINERS_CONF_TEXT = `# Written by Weft's deploy/images/build.mjs for a machine without systemd cgroups or
# CAP_SYS_RESOURCE: runc with the cgroupfs manager, and no default ulimits to raise.
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
`;

/** podman here needs runc, cgroupfs and no default ulimits; a machine without the file gets it. */
function checkPodman() {
  if (!capture('podman', ['--version'])) {
    fail('podman is not installed: apt-get install -y podman buildah runc debootstrap (as root)');
  }
  if (!existsSync(CONTAINERS_CONF)) {
    if (process.getuid?.() !== 0) fail(`${CONTAINERS_CONF} is missing; as root, write:\n${CONTAINERS_CONF_TEXT}`);
    mkdirSync(dirname(CONTAINERS_CONF), { recursive: true });
    writeFileSync(CONTAINERS_CONF, CONTAINERS_CONF_TEXT);
    say(`wrote ${CONTAINERS_CONF} (runc, cgroupfs, no default ulimits)`);
    return;
  }
  const text = readFileSync(CONTAINERS_CONF, 'utf8');
  const missing = [/default_ulimits\s*=\s*\[\s*\]/, /cgroup_manager\s*=\s*"cgroupfs"/, /runtime\s*=\s*"runc"/].filter(
    (setting) => !setting.test(text),
  );
  if (missing.length > 0) {
    say(`warning: ${CONTAINERS_CONF} lacks ${missing.map(String).join(', ')}; on a machine like the`);
    say('  project machines, builds fail without them (see deploy/images/README.md)');
  }
}

/** What decides the local base's contents: the Node.js it carries and this recipe. */
function localBaseKey() {
  const node = readFileSync(process.execPath);
  return createHash('sha256').update('bookworm minbase v1').update(node).digest('hex').slice(0, 16);
}

function debianMirror() {
  const sources = ['/etc/apt/sources.list', '/etc/apt/sources.list.d/debian.sources'];
  for (const file of sources) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const deb822 = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text);
    if (deb822) return deb822[1];
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+bookworm\s/m.exec(text);
    if (line) return line[1];
  }
  return 'http://deb.debian.org/debian';
}

/** Debootstraps bookworm with this Node.js, as the node:20 image lays it out, into a tarball. */
function makeLocalBaseTarball(tarball) {
  if (!capture('debootstrap', ['--version'])) fail('debootstrap is not installed: apt-get install -y debootstrap');
  const rootfs = join(cacheDir, 'rootfs.tmp');
  rmSync(rootfs, { recursive: true, force: true });
  const mirror = debianMirror();
  say(`debootstrap bookworm from ${mirror} (about a minute)`);
  run('debootstrap', ['--variant=minbase', 'bookworm', rootfs, mirror], { stdio: ['ignore', 'ignore', 'inherit'] });
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
  rmSync(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
  run('tar', ['-C', rootfs, '-cf', `${tarball}.tmp`, '.']);
  renameSync(`${tarball}.tmp`, tarball);
  rmSync(rootfs, { recursive: true, force: true });
}

function ensureLocalBase() {
  const key = localBaseKey();
  if (capture('podman', ['image', 'inspect', '--format', '{{index .Labels "weft.base.key"}}', LOCAL_BASE]) === key) {
    return;
  }
  mkdirSync(cacheDir, { recursive: true });
  const tarball = join(cacheDir, `node-base-${key}.tar`);
  if (!existsSync(tarball)) makeLocalBaseTarball(tarball);
  say(`importing ${LOCAL_BASE}`);
  run('podman', [
    'import',
    '--change',
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    '--change',
    `LABEL weft.base.key=${key}`,
    '--change',
    'CMD ["node"]',
    tarball,
    LOCAL_BASE,
  ]);
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
  const revision = capture('git', ['rev-parse', 'HEAD']) ?? 'unknown';
  const source = capture('git', ['config', '--get', 'remote.origin.url']) ?? `file://${root}`;
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
checkPodman();
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
