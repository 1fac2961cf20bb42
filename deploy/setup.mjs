#!/usr/bin/env node
// Installs what `npm start`, `npm test` and `npm run bench` need on a fresh machine, then builds.
// It is plain JavaScript with no dependencies because it runs before anything is installed.
// Every step checks first and does nothing when its work is already done, so a second run
// reaches the tests within seconds.
//
//   node deploy/setup.mjs start|test|bench|lab
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM_VERSION = '12.4.2';
const mode = process.argv[2] ?? 'test';

// Debian packages by purpose. Each service adds what it needs here as it lands.
const all = ['start', 'test', 'bench', 'lab'];
const debianPackages = {
  // Compilers for the native addons: better-sqlite3 builds SQLite from source here (its prebuilt
  // download cannot be reached), and the datapath has an N-API addon over libbpf.
  python3: all,
  make: all,
  'g++': all,
  // The message bus every daemon talks over; tests start their own on loopback ports.
  'nats-server': all,
  // The BPF datapath: clang compiles the C programs for the BPF target, libbpf loads them from
  // the native addon, bpftool inspects what is pinned.
  'clang-16': all,
  'llvm-16': all,
  'libbpf-dev': all,
  bpftool: all,
  // The network lab: namespaces, veth pairs, and the tools that prove packets flow.
  iproute2: all,
  // The README's tour and lab talk to the daemons' REST APIs with curl.
  curl: all,
  'iputils-ping': ['test', 'bench', 'lab'],
  ethtool: all,
  iperf3: ['test', 'bench'],
  // The distributed config store of config-api's HA mode: its contract suite, failover tests
  // and benchmark start their own 3-member clusters on loopback ports.
  'etcd-server': ['test', 'bench'],
  'etcd-client': ['test', 'bench'],
  // The datapath benchmark: TCP request/response latency (sockperf; Debian has no netperf) and
  // nftables, the baseline of the denied-flood drop rate.
  sockperf: ['bench'],
  nftables: ['bench'],
  // The local certificate authority of npm start and the lab (deploy/certificates.mjs), and the
  // TLS tests' certificates.
  openssl: all,
  // pgrep, with which tests check that nothing is left running.
  procps: ['test'],
  // The CNI reference plugins, which prove that the test harness speaks the CNI spec.
  'containernetworking-plugins': ['test'],
  // Chart rendering without helm: Go's text/template with sprig, the engine helm uses, and the
  // JSON Schema check of values (charts/tools/render).
  'golang-go': ['test'],
  'golang-github-masterminds-sprig-dev': ['test'],
  'golang-k8s-sigs-yaml-dev': ['test'],
  'golang-github-xeipuuv-gojsonschema-dev': ['test'],
  // The lab's gateway router (`npm run lab -- up --gateway`): FRR's bgpd and zebra peer with
  // control's BGP speaker, Debian's gobgpd, which control drives over gRPC.
  frr: ['test', 'lab'],
  gobgpd: ['test', 'lab'],
  // Images without a Docker engine: a debootstrap base and podman on runc (deploy/images).
  podman: ['test'],
  runc: ['test'],
  debootstrap: ['test'],
};

function log(message) {
  process.stderr.write(`setup: ${message}\n`);
}

/** Debian packages this mode needs that are not installed (set-up without root cannot). */
let missingPackages = [];

function run(command, args, options = {}) {
  // Everything set-up prints goes to stderr, so that the stdout of the command it runs before
  // (a lab command in a script, say) holds only that command's answer.
  const result = spawnSync(command, args, { stdio: ['inherit', 2, 2], cwd: root, ...options });
  if (result.status !== 0) {
    log(`"${command} ${args.join(' ')}" failed with exit code ${result.status ?? result.signal}`);
    if (missingPackages.length > 0) {
      log(`it may need the Debian packages that are missing: sudo apt-get install -y ${missingPackages.join(' ')}`);
    }
    process.exit(1);
  }
}

function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20) {
    log(`Weft needs Node.js 20 (found ${process.versions.node}); install Node.js 20 and run again`);
    process.exit(1);
  }
}

function isDebianPackageInstalled(name) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

/** Returns the names of the packages this mode needs that are still missing after the step. */
function installDebianPackages() {
  const wanted = Object.entries(debianPackages)
    .filter(([, modes]) => modes.includes(mode))
    .map(([name]) => name);
  const missing = wanted.filter((name) => !isDebianPackageInstalled(name));
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0) {
    log(`missing Debian packages: ${missing.join(' ')}`);
    log(`install them with: sudo apt-get install -y ${missing.join(' ')}`);
    return missing;
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  return [];
}

/**
 * Makes the pinned pnpm the one every later step finds as `pnpm`: the global one when it is that
 * version, else a copy under .weft/tools whose bin folder goes first on this process's PATH.
 * Children inherit the PATH, so a bare `pnpm` in a package script (the root `build`) finds it
 * on a machine that never had a global pnpm.
 */
function usePinnedPnpm() {
  const global = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (global.status === 0 && global.stdout.trim() === PNPM_VERSION) return;
  const prefix = join(root, '.weft', 'tools');
  const bin = join(prefix, 'node_modules', '.bin');
  if (!existsSync(join(bin, 'pnpm'))) {
    log(`installing pnpm ${PNPM_VERSION} into ${prefix}`);
    mkdirSync(prefix, { recursive: true });
    run('npm', ['install', '--prefix', prefix, '--no-save', '--loglevel=error', `pnpm@${PNPM_VERSION}`]);
  }
  process.env.PATH = `${bin}${delimiter}${process.env.PATH ?? ''}`;
}

/** Hash of everything that decides what `pnpm install` puts into node_modules. */
function dependencyFingerprint() {
  const hash = createHash('sha256');
  const files = ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml'];
  for (const group of ['services']) {
    for (const name of readdirSync(join(root, group))) files.push(join(group, name, 'package.json'));
  }
  files.push(join('proto', 'package.json'), join('test', 'package.json'));
  for (const file of files) {
    const path = join(root, file);
    if (existsSync(path)) hash.update(file).update(readFileSync(path));
  }
  return hash.digest('hex');
}

function installNodeDependencies() {
  const stamp = join(root, 'node_modules', '.weft-install-stamp');
  const fingerprint = dependencyFingerprint();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === fingerprint) return;
  log('installing workspace dependencies');
  run('pnpm', ['install', '--frozen-lockfile', '--reporter=append-only']);
  writeFileSync(stamp, fingerprint);
}

function build() {
  log('building');
  run('pnpm', ['run', '--silent', 'build']);
}

/** weftctl on hand after set-up: .weft/bin/weftctl (the README names it); `npx weftctl` works too. */
function linkWeftctl() {
  const target = join(root, 'services', 'weftctl', 'dist', 'main.js');
  if (!existsSync(target)) return;
  const bin = join(root, '.weft', 'bin');
  mkdirSync(bin, { recursive: true });
  rmSync(join(bin, 'weftctl'), { force: true });
  symlinkSync(relative(bin, target), join(bin, 'weftctl'));
}

/**
 * Native addons (better-sqlite3, the datapath's libbpf addon) compile against the headers that
 * came with this Node.js (/usr/include/node from Debian's packages, /usr/local/include/node in
 * the node images); without this, node-gyp would try to download them, which these machines
 * cannot reach. Set on this process, so every step inherits it.
 */
function useLocalNodeHeaders() {
  if (process.env.npm_config_nodedir) return;
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node.h'))) process.env.npm_config_nodedir = prefix;
}

if (!all.includes(mode)) {
  log(`unknown mode "${mode}": one of ${all.join(', ')}`);
  process.exit(2);
}
checkNode();
useLocalNodeHeaders();
missingPackages = installDebianPackages();
usePinnedPnpm();
installNodeDependencies();
build();
linkWeftctl();
if (missingPackages.length > 0) {
  log(`not installed (needs root): ${missingPackages.join(' ')}; the parts that need them will say so`);
}
