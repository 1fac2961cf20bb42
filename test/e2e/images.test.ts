// The container images as an operator builds and runs them on one machine: every image builds
// with podman (the base made with debootstrap and cached), carries its labels, healthcheck and
// user, and the stack started from the images — in the chart's HA shape: two config-api
// containers on a 3-member etcd, with control and an agent — serves one data set through both
// replicas, reports every service ready, and leaves no container behind when stopped.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { etcdMissing, startEtcdCluster } from '@weft/config-api/testing';
import { freePort, tempDir, waitFor } from '@weft/kit/testing';
import { repoRoot } from '../support/stack.js';

const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version as string;
// The debootstrap base and podman's layer cache are kept between runs, in the checkout's state.
const buildState = join(repoRoot, '.weft');
const services = ['config-api', 'control', 'analytics', 'vrouter-agent'];

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'building and running images here needs root (podman, debootstrap)';
  for (const tool of ['podman', 'debootstrap']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return etcdMissing();
}

function podman(args: string[]) {
  return spawnSync('podman', args, { encoding: 'utf8' });
}

function inspectImage(image: string) {
  const result = podman(['image', 'inspect', image]);
  assert.equal(result.status, 0, `${image} exists: ${result.stderr}`);
  return JSON.parse(result.stdout)[0];
}

const imageOf = (name: string) => `localhost/weft-${name}:${version}`;
const serviceBuilt = (name: string) => podman(['image', 'exists', imageOf(name)]).status === 0;

/** Runs a command to its end, keeping its output; fails with that output when it fails. */
function runToEnd(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  const result = spawnSync(command, args, { cwd: repoRoot, env, encoding: 'utf8', timeout: timeoutMs });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed:\n${output.slice(-6000)}`);
  return output;
}

/** A network namespace with a veth to the host, link-local addresses on both ends. */
function agentNamespace() {
  const tag = String(process.pid % 100000);
  const name = `wimg-${tag}`;
  const hostDevice = `wimg${tag}h`;
  const agentDevice = `wimg${tag}a`;
  const subnet = `169.254.${(process.pid % 250) + 1}`;
  const ip = (...args: string[]) => {
    const result = spawnSync('ip', args, { encoding: 'utf8' });
    assert.equal(result.status, 0, `ip ${args.join(' ')}: ${result.stderr}`);
  };
  const remove = () => {
    spawnSync('ip', ['netns', 'del', name]);
    spawnSync('ip', ['link', 'del', hostDevice]);
  };
  remove();
  ip('netns', 'add', name);
  ip('link', 'add', hostDevice, 'type', 'veth', 'peer', 'name', agentDevice);
  ip('link', 'set', agentDevice, 'netns', name);
  ip('addr', 'add', `${subnet}.1/30`, 'dev', hostDevice);
  ip('link', 'set', hostDevice, 'up');
  ip('-n', name, 'addr', 'add', `${subnet}.2/30`, 'dev', agentDevice);
  ip('-n', name, 'link', 'set', agentDevice, 'up');
  ip('-n', name, 'link', 'set', 'lo', 'up');
  return {
    path: `/var/run/netns/${name}`,
    hostAddress: `${subnet}.1`,
    agentAddress: `${subnet}.2`,
    agentDevice,
    remove,
  };
}

/**
 * The DaemonSet's init container, run as the chart runs it: weft-cni and its config land in
 * the host's CNI folders, and the runtime, calling the installed plugin on the host, gets an
 * answer from it.
 */
function checkCniInstall(image: string) {
  const host = tempDir('weft-cni-install-');
  try {
    mkdirSync(join(host.path, 'bin'));
    mkdirSync(join(host.path, 'net.d'));
    const conflist = '{"cniVersion":"1.0.0","name":"weft","plugins":[{"type":"weft-cni"}]}';
    writeFileSync(join(host.path, '10-weft.conflist'), conflist);
    const install = podman([
      'run',
      '--rm',
      '--network',
      'none',
      '--ulimit',
      'nofile=1024:1024',
      '--ulimit',
      'nproc=1024:1024',
      '--volume',
      `${join(host.path, 'bin')}:/host/opt/cni/bin`,
      '--volume',
      `${join(host.path, 'net.d')}:/host/etc/cni/net.d`,
      '--volume',
      `${join(host.path, '10-weft.conflist')}:/etc/weft/cni/10-weft.conflist:ro`,
      // Where the host sees its CNI bin folder (here the temp folder, on a node /opt/cni/bin).
      '--env',
      `HOST_CNI_BIN_DIR=${join(host.path, 'bin')}`,
      '--entrypoint',
      '/opt/weft/cni/install-cni.sh',
      image,
    ]);
    assert.equal(install.status, 0, `install-cni: ${install.stdout}${install.stderr}`);
    assert.equal(readFileSync(join(host.path, 'net.d', '10-weft.conflist'), 'utf8'), conflist);
    const version = spawnSync(join(host.path, 'bin', 'weft-cni'), [], {
      env: { CNI_COMMAND: 'VERSION', PATH: process.env.PATH },
      input: '{"cniVersion":"1.0.0"}',
      encoding: 'utf8',
    });
    assert.equal(version.status, 0, `weft-cni VERSION: ${version.stdout}${version.stderr}`);
    assert.ok(JSON.parse(version.stdout).supportedVersions.includes('1.0.0'), version.stdout);
  } finally {
    host.remove();
  }
}

test('the images build with podman; the HA stack from them serves one data set, is ready, and stops clean', {
  skip: whyNot(),
  timeout: 40 * 60_000,
}, async (t) => {
  const started = Date.now();
  const built = runToEnd(
    process.execPath,
    ['deploy/images/build.mjs'],
    { ...process.env, WEFT_STATE_DIR: buildState },
    35 * 60_000,
  );
  t.diagnostic(`image build took ${Math.round((Date.now() - started) / 1000)} s`);
  for (const skipped of built.matchAll(/skipping (weft-\S+): (.*)/g))
    t.diagnostic(`not built: ${skipped[1]}: ${skipped[2]}`);
  const present = services.filter(serviceBuilt);
  assert.ok(present.includes('config-api'), 'config-api is built');
  assert.ok(serviceBuilt('nats'), 'the stack has its NATS image');

  // What each image says about itself.
  for (const name of present) {
    const image = inspectImage(imageOf(name));
    const labels = image.Config.Labels ?? image.Labels;
    assert.equal(labels['org.opencontainers.image.version'], version, `${name}: version label`);
    assert.equal(labels['org.opencontainers.image.title'], `weft-${name}`);
    assert.match(
      labels['org.opencontainers.image.revision'],
      /^[0-9a-f]{40}$/,
      `${name}: the commit it was built from`,
    );
    assert.ok(labels['org.opencontainers.image.source'], `${name}: source label`);
    assert.ok((image.Healthcheck ?? image.Config.Healthcheck)?.Test?.length > 0, `${name}: has a HEALTHCHECK`);
    if (name === 'vrouter-agent') {
      assert.equal(image.Config.User, '0:0', 'the agent runs as root for BPF');
      const listing = podman([
        'run',
        '--rm',
        '--network',
        'none',
        ...['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'],
        '--entrypoint',
        'sh',
        imageOf(name),
        '-c',
        'ls native/build/bpf/*.o native/build/Release/weft_bpf.node /opt/weft/cni/app/dist/main.js /opt/weft/cni/install-cni.sh',
      ]);
      assert.equal(listing.status, 0, `the agent image carries its BPF objects and the CNI plugin:\n${listing.stderr}`);
      checkCniInstall(imageOf(name));
    } else {
      assert.equal(image.Config.User, '10001:10001', `${name}: not root`);
    }
    // Production dependencies only: no compiler, no TypeScript in the runtime image.
    const devTools = podman([
      'run',
      '--rm',
      '--network',
      'none',
      '--ulimit',
      'nofile=1024:1024',
      '--ulimit',
      'nproc=1024:1024',
      '--entrypoint',
      'sh',
      imageOf(name),
      '-c',
      'ls node_modules/typescript node_modules/.bin/tsc 2>/dev/null; command -v gcc clang-16; true',
    ]);
    assert.equal(devTools.stdout.trim(), '', `${name}: build tools in the runtime image`);
  }

  // A second build finds everything cached.
  const again = Date.now();
  runToEnd(
    process.execPath,
    ['deploy/images/build.mjs', '--only', 'config-api'],
    { ...process.env, WEFT_STATE_DIR: buildState },
    5 * 60_000,
  );
  const rebuildSeconds = (Date.now() - again) / 1000;
  t.diagnostic(`cached rebuild of config-api took ${rebuildSeconds.toFixed(1)} s`);
  assert.ok(rebuildSeconds < 60, `a cached rebuild took ${rebuildSeconds} s`);

  // The stack from the images, on free ports, with its state in a temp folder.
  const state = tempDir('weft-images-stack-');
  const stackName = `weft-test-${process.pid}`;
  const ports: Record<string, string> = {};
  for (const name of [
    'WEFT_NATS_PORT',
    'WEFT_NATS_MONITOR_PORT',
    'WEFT_CONFIG_API_REST_PORT',
    'WEFT_CONFIG_API_GRPC_PORT',
    'WEFT_CONTROL_AGENT_PORT',
    'WEFT_CONTROL_HTTP_PORT',
    'WEFT_ANALYTICS_REST_PORT',
    'WEFT_AGENT_HTTP_PORT',
    'WEFT_CONFIG_API_REST_PORT_2',
    'WEFT_CONFIG_API_GRPC_PORT_2',
  ]) {
    ports[name] = String(await freePort());
  }
  // The HA shape of the chart: config-api on etcd, two replicas. etcd runs as three host
  // processes on loopback, which the containers (host network) reach.
  const etcd = await startEtcdCluster({ size: 3 });
  // The agent runs in a network namespace of this test's own, its underlay a veth to the host,
  // so its datapath (XDP programs, the VXLAN device) never touches this machine's interfaces.
  // The rest of the stack listens on the host end of that veth.
  const lab = agentNamespace();
  const stackHost = lab.hostAddress;
  const env = {
    ...process.env,
    ...ports,
    WEFT_STATE_DIR: state.path,
    WEFT_STACK_NAME: stackName,
    WEFT_STACK_HOST: stackHost,
    WEFT_AGENT_NETNS: lab.path,
    WEFT_AGENT_HTTP_HOST: lab.agentAddress,
    WEFT_AGENT_UNDERLAY_DEVICE: lab.agentDevice,
    WEFT_AGENT_HOST_NAME: stackName,
    WEFT_AGENT_BPFFS_DIR: `/sys/fs/bpf/weft/${stackName}`,
    WEFT_STACK_CONFIG_API_REPLICAS: '2',
    WEFT_STORE: 'etcd',
    WEFT_ETCD_ENDPOINTS: etcd.endpoints.join(','),
    WEFT_ETCD_PREFIX: `/${stackName}/`,
  };
  let stack: ChildProcess | undefined;
  let output = '';
  try {
    stack = spawn(process.execPath, ['deploy/images/run.mjs'], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stack.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    stack.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => stack!.once('exit', resolve));
    await waitFor(() => output.includes('weft: ready') || stack!.exitCode !== null, {
      timeoutMs: 5 * 60_000,
      what: 'the stack from images to be ready',
    });
    assert.match(output, /weft: ready/, output);
    for (const line of output.split('\n').filter((l) => l.includes('not started'))) t.diagnostic(line);

    // One data set through both replicas: what one writes, the other reads, lists and looks up,
    // each with the admin token the first replica made.
    const token = readFileSync(join(state.path, 'auth', 'admin.token'), 'utf8').trim();
    const rest = `http://${stackHost}:${ports.WEFT_CONFIG_API_REST_PORT}`;
    const rest2 = `http://${stackHost}:${ports.WEFT_CONFIG_API_REST_PORT_2}`;
    const post = async (base: string, type: string, object: unknown) => {
      const response = await fetch(`${base}/${type}s`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': token },
        body: JSON.stringify({ [type]: object }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: a VNC API reply, read by path
      const body: any = await response.json();
      assert.equal(response.status, 200, JSON.stringify(body));
      return body[type];
    };
    const domain = await post(rest, 'domain', { fq_name: ['images-test'] });
    const project = await post(rest2, 'project', { fq_name: ['images-test', 'from-images'] });
    for (const base of [rest, rest2]) {
      // biome-ignore lint/suspicious/noExplicitAny: a VNC API reply, read by path
      const read: any = await (
        await fetch(`${base}/project/${project.uuid}`, { headers: { 'x-auth-token': token } })
      ).json();
      assert.deepEqual(read.project.fq_name, ['images-test', 'from-images']);
      assert.equal(read.project.parent_uuid, domain.uuid);
      // biome-ignore lint/suspicious/noExplicitAny: a VNC API reply, read by path
      const listed: any = await (
        await fetch(`${base}/projects?parent_id=${domain.uuid}`, { headers: { 'x-auth-token': token } })
      ).json();
      assert.deepEqual(
        listed.projects.map((p: { uuid: string }) => p.uuid),
        [project.uuid],
      );
    }
    // control follows the first replica; a network written through the second reaches it.
    const network = await post(rest2, 'virtual-network', {
      fq_name: ['default-domain', 'default-project', 'images-net'],
      network_ipam_refs: [
        {
          to: ['default-domain', 'default-project', 'default-network-ipam'],
          attr: { ipam_subnets: [{ subnet: { ip_prefix: '10.150.0.0', ip_prefix_len: 24 } }] },
        },
      ],
    });
    await waitFor(
      async () => {
        const text = await (
          await fetch(`http://${stackHost}:${ports.WEFT_CONTROL_HTTP_PORT}/routing-instances`)
        ).text();
        return text.includes(network.uuid) || text.includes('images-net');
      },
      { timeoutMs: 30_000, what: 'control to compile the network written through the second replica' },
    );

    // Every service that started reports ready, and its container's HEALTHCHECK passes.
    const readiness: Record<string, string> = {
      'config-api': `${rest}/readyz`,
      'config-api-2': `${rest2}/readyz`,
      control: `http://${stackHost}:${ports.WEFT_CONTROL_HTTP_PORT}/readyz`,
      analytics: `http://${stackHost}:${ports.WEFT_ANALYTICS_REST_PORT}/readyz`,
      'vrouter-agent': `http://${lab.agentAddress}:${ports.WEFT_AGENT_HTTP_PORT}/readyz`,
    };
    const running = podman(['ps', '--filter', `label=weft.stack=${stackName}`, '--format', '{{.Names}}'])
      .stdout.split('\n')
      .filter(Boolean);
    assert.ok(running.includes(`${stackName}-nats`), running.join(' '));
    assert.ok(running.includes(`${stackName}-config-api-2`), `two config-api replicas: ${running.join(' ')}`);
    for (const name of [...present, 'config-api-2']) {
      if (!running.includes(`${stackName}-${name}`)) {
        assert.match(output, new RegExp(`${name}\\s+not started`), `${name} neither runs nor says why`);
        continue;
      }
      const response = await fetch(readiness[name]!);
      assert.equal(response.status, 200, `${name} /readyz: ${await response.text()}`);
      const health = podman(['healthcheck', 'run', `${stackName}-${name}`]);
      assert.equal(health.status, 0, `${name} HEALTHCHECK: ${health.stdout}${health.stderr}`);
    }
    const natsHealth = podman(['healthcheck', 'run', `${stackName}-nats`]);
    assert.equal(natsHealth.status, 0, `nats HEALTHCHECK: ${natsHealth.stdout}${natsHealth.stderr}`);

    // Ctrl-C stops and removes every container of the stack.
    stack.kill('SIGINT');
    assert.equal(await exited, 0, output);
    assert.match(output, /weft: stopped/);
    const left = podman(['ps', '-a', '--filter', `label=weft.stack=${stackName}`, '--format', '{{.Names}}']);
    assert.equal(left.stdout.trim(), '', 'containers left behind');
  } finally {
    if (stack && stack.exitCode === null) stack.kill('SIGKILL');
    // Whatever happened above, no container of this test outlives it.
    spawnSync(process.execPath, ['deploy/images/run.mjs', 'stop'], { cwd: repoRoot, env });
    // The agent leaves its datapath pinned on stop (a restart must not drop packets): remove it.
    lab.remove();
    rmSync(`/sys/fs/bpf/weft/${stackName}`, { recursive: true, force: true });
    state.remove();
    await etcd.dispose();
  }
});
