// What every podman user in deploy/ shares on a machine like the project's (no registry to pull
// from, no systemd cgroups, no CAP_SYS_RESOURCE): the podman settings such a machine needs, the
// limits it can grant, and a Debian bookworm root filesystem made with debootstrap, from which
// the local base images are built. Plain JavaScript without dependencies, like the scripts that
// import it: they run before anything else is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// podman's defaults ask for more open files and processes than this kind of machine may grant
// (raising a limit needs CAP_SYS_RESOURCE); these are plenty for a build or a daemon.
export const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

const CONTAINERS_CONF = '/etc/containers/containers.conf';
const CONTAINERS_CONF_TEXT = `# Written by Weft's deploy/images for a machine without systemd cgroups or
# CAP_SYS_RESOURCE: runc with the cgroupfs manager, and no default ulimits to raise.
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
`;

/** Runs a command; prints its output and stops the process with `fail` when it fails. */
export function runOrFail(command, argv, fail, options = {}) {
  const result = spawnSync(command, argv, { stdio: 'inherit', ...options });
  if (result.status !== 0) fail(`"${command} ${argv.join(' ')}" failed (${result.status ?? result.signal})`);
  return result;
}

/** The trimmed stdout of a command, or undefined when it fails. */
export function capture(command, argv, options = {}) {
  const result = spawnSync(command, argv, { encoding: 'utf8', ...options });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** podman here needs runc, cgroupfs and no default ulimits; a machine without the file gets it. */
export function checkPodman({ say, fail }) {
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

/** The Debian mirror apt uses here, so debootstrap downloads from where apt does. */
export function debianMirror() {
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

/**
 * Debootstraps a minimal bookworm into `rootfs` (about a minute), unless the tarball of one
 * is cached in `cacheDir`; the tarball holds nothing but Debian's minbase.
 */
export function debootstrapMinbase(rootfs, cacheDir, { say, fail }) {
  const tarball = join(cacheDir, 'debian-bookworm-minbase.tar');
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true });
  if (existsSync(tarball)) {
    runOrFail('tar', ['-C', rootfs, '-xf', tarball], fail);
    return;
  }
  if (!capture('debootstrap', ['--version'])) fail('debootstrap is not installed: apt-get install -y debootstrap');
  const mirror = debianMirror();
  say(`debootstrap bookworm from ${mirror} (about a minute)`);
  runOrFail('debootstrap', ['--variant=minbase', 'bookworm', rootfs, mirror], fail, {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  rmSync(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
  mkdirSync(cacheDir, { recursive: true });
  runOrFail('tar', ['-C', rootfs, '-cf', `${tarball}.tmp`, '.'], fail);
  renameSync(`${tarball}.tmp`, tarball);
}

/** Imports a root filesystem folder as `image`, labelled with the key of what it was made from. */
export function importRootfs(rootfs, image, { key, changes = [] }, { say, fail }) {
  say(`importing ${image}`);
  const tarball = `${rootfs}.tar`;
  runOrFail('tar', ['-C', rootfs, '-cf', tarball, '.'], fail);
  runOrFail(
    'podman',
    [
      'import',
      '--change',
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change',
      `LABEL weft.base.key=${key}`,
      ...changes.flatMap((change) => ['--change', change]),
      tarball,
      image,
    ],
    fail,
  );
  rmSync(tarball, { force: true });
}

/** Whether `image` exists with the given weft.base.key label (made from the same inputs). */
export function imageHasKey(image, key) {
  return capture('podman', ['image', 'inspect', '--format', '{{index .Labels "weft.base.key"}}', image]) === key;
}
