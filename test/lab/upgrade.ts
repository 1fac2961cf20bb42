// The lab's upgrade rollout (`npm run lab -- upgrade --from REF`): a lab whose daemons are an
// older commit's, upgraded to this checkout one daemon at a time in the charts' order —
// config-api, control, analytics, then the agents host by host — each stopped and started again
// from this checkout on the same state directory. All the while: a 20 ms ping between two pods on
// two hosts, REST writes at a steady rate, and pods added and deleted through weft-cni. The report
// says what was lost: packets (by sequence number), acknowledged writes (read back at the end),
// CNI ADDs that failed; and how long each step took.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@weft/kit/testing';
import { repoRoot } from '../support/stack.js';
import { PROJECT } from './config-client.js';
import { CniAddFailed, Lab, type LabOptions } from './lab.js';
import { isAlive } from './processes.js';
import { DEFAULT_REF_CACHE_KEEP, markUsed, pruneRefCache } from './ref-cache.js';
import { netnsPath } from './shell.js';
import { declaredOptions } from './trees.js';

/** Where built trees of other commits are kept, one folder per commit. */
export const DEFAULT_REF_CACHE = '/var/cache/weft/refs';

/** The full commit id of a ref of this repository. */
export function commitOf(ref: string): string {
  const answer = spawnSync('git', ['-C', repoRoot, 'rev-parse', '--verify', `${ref}^{commit}`], { encoding: 'utf8' });
  if (answer.status !== 0) throw new Error(`--from ${ref}: not a commit of this repository (${answer.stderr.trim()})`);
  return answer.stdout.trim();
}

/**
 * The commit before the newest one (on the first-parent line) that changed a service: what this
 * checkout's services were upgraded from last.
 */
export function previousServicesCommit(): string {
  const answer = spawnSync(
    'git',
    ['-C', repoRoot, 'log', '-1', '--first-parent', '--format=%H', 'HEAD', '--', 'services'],
    {
      encoding: 'utf8',
    },
  );
  if (answer.status !== 0 || !answer.stdout.trim()) throw new Error(`no commit changed services/: ${answer.stderr}`);
  return commitOf(`${answer.stdout.trim()}^1`);
}

/**
 * A built tree of `ref`, made once per commit under `cacheDir`: the commit's files (`git archive`,
 * so that the cache is a plain folder, not a worktree registered in this repository), then that
 * tree's own set-up (`node deploy/setup.mjs test`: its dependencies and build). A tree whose
 * set-up finished carries a stamp; one without is set up again. Each use marks the tree used;
 * after a build, only the `keep` most recently used trees stay (ref-cache.ts), this one always.
 */
export function builtTree(
  ref: string,
  {
    cacheDir = DEFAULT_REF_CACHE,
    keep = DEFAULT_REF_CACHE_KEEP,
    log = (_: string) => {},
  }: { cacheDir?: string; keep?: number; log?: (line: string) => void } = {},
): string {
  const commit = commitOf(ref);
  const tree = join(cacheDir, commit);
  const stamp = join(tree, '.weft-built');
  if (existsSync(stamp)) {
    markUsed(tree);
    return tree;
  }
  mkdirSync(cacheDir, { recursive: true });
  const release = lockTree(tree);
  let built = false;
  try {
    if (!existsSync(stamp)) {
      buildTree(commit, tree, stamp, log);
      built = true;
    }
    markUsed(tree);
  } finally {
    release();
  }
  if (built) pruneRefCache(cacheDir, { keep, current: tree, log });
  return tree;
}

/**
 * One build of a commit at a time (two runs may want the same tree): a lock file holding the
 * builder's pid, taken over when that process is gone.
 */
function lockTree(tree: string): () => void {
  const lock = `${tree}.lock`;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: number;
    try {
      holder = Number(readFileSync(lock, 'utf8'));
    } catch {
      continue; // released meanwhile
    }
    // An empty lock is being written; one whose holder is gone was left by a crash.
    if (holder > 0 && !isAlive(holder)) rmSync(lock, { force: true });
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}

function buildTree(commit: string, tree: string, stamp: string, log: (line: string) => void): void {
  if (!existsSync(join(tree, 'package.json'))) {
    log(`extracting ${commit} into ${tree}`);
    rmSync(tree, { recursive: true, force: true });
    mkdirSync(tree, { recursive: true });
    const extract = spawnSync('sh', ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'sh', repoRoot, commit, tree], {
      encoding: 'utf8',
    });
    if (extract.status !== 0) throw new Error(`could not extract ${commit}: ${extract.stderr}`);
  }
  log(`building ${commit} (node deploy/setup.mjs test, log in ${join(tree, 'setup.log')})`);
  const setup = spawnSync(process.execPath, ['deploy/setup.mjs', 'test'], {
    cwd: tree,
    encoding: 'utf8',
    // Its own pnpm and tools, not this checkout's.
    env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_'))),
    maxBuffer: 256 * 1024 * 1024,
  });
  writeFileSync(join(tree, 'setup.log'), `${setup.stdout}${setup.stderr}`);
  if (setup.status !== 0) throw new Error(`the set-up of ${commit} failed: see ${join(tree, 'setup.log')}`);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

/**
 * The daemons in the order a rollout upgrades them: the charts' order, config-api first, except
 * from a release whose control cannot send config-api a token (it predates authentication,
 * 0.1.0): this checkout's config-api would refuse it, and it would give the agents no new pods
 * until its own upgrade. From such a release control goes first (this checkout's control sends a
 * token, which the older config-api ignores): the migration the README gives for that release.
 */
export function rolloutOrder(lab: Lab): string[] {
  const agents = lab.topology.hosts.map((host) => `agent-${host.name}`);
  const control = lab.treeOf('control');
  const controlSendsToken = !control || declaredOptions('control', control).has('WEFT_CONFIG_API_TOKEN_FILE');
  return controlSendsToken
    ? ['config-api', 'control', 'analytics', ...agents]
    : ['control', 'config-api', 'analytics', ...agents];
}

/** Every daemon of a lab of `hosts` hosts run from `tree`. */
export function treesOf(tree: string, hostNames: string[]): Record<string, string> {
  return Object.fromEntries(
    ['config-api', 'control', 'analytics', ...hostNames.map((name) => `agent-${name}`)].map((name) => [name, tree]),
  );
}

export interface RolloutReport {
  from: string;
  steps: { daemon: string; seconds: number }[];
  ping: { answered: number; lost: number[] };
  writes: { acknowledged: number; refused: number; lost: string[] };
  /** ADDs that succeeded, that failed, that were answered "try again later" (and made again). */
  cni: { adds: number; failed: string[]; triedAgain: string[]; refusedConfig: number };
  /** Options the lab left out for the older daemons, which do not declare them. */
  dropped: Record<string, string[]>;
}

const NETWORK = 'upgrade';

/**
 * Pings every 20 ms until stopped. A packet counts as lost when a later one was answered and it
 * was not: the one in flight when ping is stopped is not a loss.
 */
function continuousPing(netns: string, address: string) {
  const child = spawn('nsenter', [`--net=${netnsPath(netns)}`, 'ping', '-i', '0.02', '-W', '1', address], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const answered = new Set<number>();
  child.stdout.on('data', (chunk: Buffer) => {
    for (const match of chunk.toString().matchAll(/icmp_seq=(\d+)/g)) answered.add(Number(match[1]));
  });
  return {
    answered: () => answered.size,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
      const last = Math.max(0, ...answered);
      const lost = Array.from({ length: last }, (_, index) => index + 1).filter((seq) => !answered.has(seq));
      return { answered: answered.size, lost };
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** REST writes every 100 ms (address groups, which nothing else reads); the acknowledged ones are kept. */
function steadyWrites(lab: Lab) {
  const acknowledged: string[] = [];
  let refused = 0;
  let running = true;
  const done = (async () => {
    for (let index = 0; running; index++) {
      try {
        const ref = await lab.config.create('address-group', {
          fq_name: [...PROJECT, `upgrade-write-${index}`],
          parent_type: 'project',
        });
        acknowledged.push(ref.uuid);
      } catch {
        refused++;
      }
      await pause(100);
    }
  })();
  return {
    acknowledged: () => acknowledged.length,
    stop: async () => {
      running = false;
      await done;
      const lost: string[] = [];
      for (const uuid of acknowledged) {
        try {
          await lab.config.read('address-group', uuid);
        } catch {
          lost.push(uuid);
        }
      }
      return { acknowledged: acknowledged.length, refused, lost };
    },
  };
}

/** CNI's "try again later": the runtime (the kubelet) calls ADD again. */
const TRY_AGAIN_LATER = 11;
const ADD_ATTEMPTS = 5;

/**
 * Pods added and deleted through weft-cni, on each host in turn, one at a time. An ADD answered
 * "try again later" is made again as a kubelet does (after a second, up to 5 times) and counted
 * apart; a failed ADD is one that any other error ended, or that never succeeded.
 */
function podChurn(lab: Lab) {
  const hosts = lab.topology.hosts;
  const failed: string[] = [];
  const triedAgain: string[] = [];
  let adds = 0;
  let refusedConfig = 0;
  /** The last thing that kept a pod from being added, for a rollout that stalls. */
  let lastError = '';
  let running = true;
  const add = async (name: string, host: string): Promise<boolean> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await lab.addPod(name, host, [NETWORK]);
        adds++;
        return true;
      } catch (error) {
        if (!(error instanceof CniAddFailed)) {
          // The config the lab writes first may be refused while config-api restarts: that is no CNI ADD.
          refusedConfig++;
          lastError = `${name}: ${error instanceof Error ? error.message : String(error)}`;
          return false;
        }
        if (error.code !== TRY_AGAIN_LATER || attempt === ADD_ATTEMPTS) {
          failed.push(`${name}: ${error.message}`);
          lastError = failed.at(-1)!;
          return false;
        }
        triedAgain.push(`${name}: ${error.message}`);
        await pause(1000);
      }
    }
  };
  const done = (async () => {
    for (let index = 0; running; index++) {
      const name = `churn${index}`;
      if (!(await add(name, hosts[index % hosts.length]!.name))) {
        await pause(200);
        continue;
      }
      await waitFor(
        async () => {
          try {
            await lab.deletePod(name);
            return true;
          } catch {
            return false;
          }
        },
        { timeoutMs: 60_000, intervalMs: 500, what: `pod ${name} to be deleted` },
      );
      await pause(200);
    }
  })();
  return {
    adds: () => adds,
    lastError: () => lastError,
    stop: async () => {
      running = false;
      await done;
      return { adds, failed, triedAgain, refusedConfig };
    },
  };
}

/**
 * Upgrades every daemon of `lab` (run from an older tree) to this checkout, in the charts' order,
 * under the workload; returns what was lost and how long each step took.
 */
export async function rollout(lab: Lab, from: string, log = (_: string) => {}): Promise<RolloutReport> {
  const [first, second] = lab.topology.hosts;
  if (!first || !second) throw new Error('the rollout needs two hosts');
  await lab.config.createNetwork(NETWORK, '10.77.0.0/22');
  await lab.addPod('up-a', first.name, [NETWORK]);
  await lab.addPod('up-b', second.name, [NETWORK]);
  const a = lab.pods.find((pod) => pod.name === 'up-a')!;
  const target = lab.podAddress('up-b', NETWORK);
  await waitFor(
    () => spawnSync('nsenter', [`--net=${netnsPath(a.netns)}`, 'ping', '-c', '1', '-W', '1', target]).status === 0,
    {
      timeoutMs: 30_000,
      what: 'the two pods to reach each other',
    },
  );
  const ping = continuousPing(a.netns, target);
  const writes = steadyWrites(lab);
  const churn = podChurn(lab);
  const steady = async () => {
    // Each mix of versions runs a while: pings, writes and at least one pod added and deleted.
    const [pinged, written, added] = [ping.answered(), writes.acknowledged(), churn.adds()];
    try {
      await waitFor(
        () => ping.answered() >= pinged + 50 && writes.acknowledged() >= written + 5 && churn.adds() >= added + 1,
        { timeoutMs: 120_000, intervalMs: 200, what: 'the workload to go on' },
      );
    } catch (error) {
      // Which part stalled, and why the last pod could not be added.
      throw new Error(
        `${error instanceof Error ? error.message : error}: pings answered ${ping.answered() - pinged}, ` +
          `writes acknowledged ${writes.acknowledged() - written}, pods added ${churn.adds() - added}` +
          (churn.lastError() ? `; last pod not added: ${churn.lastError()}` : ''),
      );
    }
  };
  const steps: RolloutReport['steps'] = [];
  let failure: unknown;
  try {
    await steady();
    for (const daemon of rolloutOrder(lab)) {
      const started = performance.now();
      await lab.upgrade(daemon, undefined);
      const seconds = (performance.now() - started) / 1000;
      steps.push({ daemon, seconds });
      log(`upgraded ${daemon} in ${seconds.toFixed(1)} s`);
      await steady();
    }
  } catch (error) {
    failure = error;
  }
  // The workload stops either way, so that nothing outlives a failed rollout.
  const cni = await churn.stop();
  const written = await writes.stop();
  const pinged = await ping.stop();
  if (failure) throw failure;
  return { from, steps, ping: pinged, writes: written, cni, dropped: lab.droppedOptions };
}

/** The report as the CLI prints it. */
export function formatReport(report: RolloutReport): string {
  const lines = [
    `rollout from ${report.from} to this checkout`,
    ...report.steps.map((step) => `  ${step.daemon.padEnd(20)} ${step.seconds.toFixed(1)} s`),
    `packets lost (20 ms ping between pods on two hosts): ${report.ping.lost.length} of ${report.ping.answered + report.ping.lost.length}${report.ping.lost.length ? ` (icmp_seq ${report.ping.lost.join(', ')})` : ''}`,
    `acknowledged writes lost: ${report.writes.lost.length} of ${report.writes.acknowledged} (${report.writes.refused} refused while config-api restarted)`,
    `failed CNI ADDs: ${report.cni.failed.length} of ${report.cni.adds + report.cni.failed.length} pods (${report.cni.refusedConfig} pods whose config was refused before the ADD)`,
    ...report.cni.failed.map((line) => `  ${line}`),
    `CNI ADDs answered "try again later" and made again, as a kubelet does: ${report.cni.triedAgain.length}`,
    ...report.cni.triedAgain.map((line) => `  ${line}`),
    ...Object.entries(report.dropped).map(
      ([daemon, options]) => `options left out for ${daemon} (its tree does not declare them): ${options.join(', ')}`,
    ),
  ];
  return lines.join('\n');
}

/** A lab whose daemons are all `tree`'s. */
export function upLabOf(tree: string, options: LabOptions): Promise<Lab> {
  const hosts = options.hosts ?? 2;
  const names = Array.from({ length: hosts }, (_, index) => `${options.name ?? 'wfl'}-h${index + 1}`);
  return Lab.up({ ...options, hosts, trees: treesOf(tree, names) });
}
