#!/usr/bin/env node
// Builds the datapath: the BPF programs in ../bpf (clang for the BPF target) into
// build/bpf/*.o, and the N-API addon over libbpf (node-gyp) into build/Release/weft_bpf.node.
// On a machine without clang-16 or libbpf-dev it says so and exits 0, so that the rest of the
// workspace still builds; the datapath tests then skip and say why. Up-to-date outputs are
// left alone, so a second build takes no time.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bpfDir = join(here, '..', 'bpf');
const outDir = join(here, 'build', 'bpf');
const addon = join(here, 'build', 'Release', 'weft_bpf.node');
const CLANG = process.env.WEFT_CLANG ?? 'clang-16';
const DEBIAN_PACKAGES = 'clang-16 llvm-16 libbpf-dev';

function log(message) {
  process.stderr.write(`vrouter-agent build:native: ${message}\n`);
}

function missingTools() {
  const missing = [];
  if (spawnSync(CLANG, ['--version'], { stdio: 'ignore' }).status !== 0) missing.push(`${CLANG} not found`);
  if (!existsSync('/usr/include/bpf/libbpf.h')) missing.push('libbpf headers not found (/usr/include/bpf/libbpf.h)');
  return missing;
}

function newest(paths) {
  return Math.max(...paths.map((path) => statSync(path).mtimeMs));
}

function sources(dir) {
  return readdirSync(dir).map((name) => join(dir, name));
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    log(`failed: ${command} ${args.join(' ')}`);
    process.exit(1);
  }
}

function buildAddon() {
  const inputs = [join(here, 'weft_bpf.c'), join(here, 'binding.gyp')];
  if (existsSync(addon) && statSync(addon).mtimeMs >= newest(inputs)) return;
  const env = { ...process.env };
  // node-gyp would download the Node.js headers, which this machine cannot reach; Debian's
  // nodejs ships them under /usr.
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h')) env.npm_config_nodedir = '/usr';
  const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  log('building the libbpf addon');
  run(process.execPath, [nodeGyp, 'rebuild', '--loglevel=warn'], { cwd: here, env });
}

function buildPrograms() {
  mkdirSync(outDir, { recursive: true });
  const headers = sources(join(bpfDir, 'lib'));
  for (const source of sources(bpfDir).filter((path) => path.endsWith('.c'))) {
    const object = join(outDir, `${basename(source, '.c')}.o`);
    if (existsSync(object) && statSync(object).mtimeMs >= newest([source, ...headers])) continue;
    log(`compiling ${basename(source)}`);
    run(CLANG, [
      '-O2',
      '-g',
      '-Wall',
      '-Werror',
      '-target',
      'bpf',
      // asm/types.h lives under the multiarch directory on Debian.
      `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
      '-c',
      source,
      '-o',
      object,
    ]);
  }
}

const missing = missingTools();
if (missing.length > 0) {
  log(`skipped: ${missing.join('; ')}. Install the Debian packages ${DEBIAN_PACKAGES} to build the datapath.`);
  process.exit(0);
}
// node-gyp rebuild empties build/, so the addon goes first and the programs after it.
buildAddon();
buildPrograms();
