// weft-kube-manager benchmark: 1,000 pods created through the Kubernetes API (the stand-in API
// server; no real kube-apiserver runs here), and for each the time until its interface and
// address are in config — read as the moment the manager writes the pod's network-status, which
// it does once they exist — with p50 and p99, the whole burst's rate, and the manager's CPU.
// weft-config-api and weft-kube-manager each run in their own process, as deployed; the stand-in
// runs in this one and timestamps each pod's create and its network-status change.
//
// Baseline, in the same run and against the same config-api: the same objects (a
// virtual-machine, an interface, an instance-ip per pod) created by REST directly, as the lab's
// orchestrator does, by as many concurrent clients as the manager has workers, for a burst of
// the same 1,000 pods; each pod's time counts from the burst's start, as a pod's does from its
// create. Then the manager is restarted with the 1,000 pods in place: how long until it has gone
// over them all, and the config writes it made (there must be none).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, tempDir, waitFor } from '@weft/kit/testing';
import { NETWORK_STATUS_ANNOTATION } from '@weft/kube-manager';
import { startKubeApiServer } from '@weft/kube-manager/testing';

// biome-ignore lint/suspicious/noExplicitAny: API objects are arbitrary JSON, read by path
type Json = any;

const PODS = Number(process.env.BENCH_KUBE_PODS ?? 1000);
const WORKERS = 8;
const CREATORS = 32;
const PROJECT = ['default-domain', 'default-project'];

const mainOf = (pkg: string) => join(dirname(fileURLToPath(import.meta.resolve(pkg))), 'main.js');

function startDaemon(main: string, env: Record<string, string>) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WEFT_')));
  const child = spawn(process.execPath, [main], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function json(url: string, method = 'GET', body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, Json>;
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).status === 200;
  } catch {
    return false;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function inParallel(count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

const state = tempDir('weft-bench-kube-');
const configPort = await freePort();
const configUrl = `http://127.0.0.1:${configPort}`;
const configApi = startDaemon(mainOf('@weft/config-api'), {
  WEFT_STATE_DIR: join(state.path, 'config-api'),
  WEFT_LOG_LEVEL: 'warn',
  WEFT_NATS_URL: 'nats://127.0.0.1:1',
  WEFT_CONFIG_API_HOST: '127.0.0.1',
  WEFT_CONFIG_API_REST_PORT: String(configPort),
  WEFT_CONFIG_API_GRPC_PORT: String(await freePort()),
});
const kube = await startKubeApiServer({ bookmarkIntervalMs: 5_000, changeLogKeep: 100_000 });
const managerPort = await freePort();
const managerEnv = {
  WEFT_STATE_DIR: join(state.path, 'kube-manager'),
  WEFT_LOG_LEVEL: 'warn',
  WEFT_KUBE_API_URL: kube.url,
  WEFT_CONFIG_API_URL: configUrl,
  WEFT_KUBE_POD_NETWORK: [...PROJECT, 'pod-network'].join(':'),
  WEFT_KUBE_MANAGER_HTTP_HOST: '127.0.0.1',
  WEFT_KUBE_MANAGER_HTTP_PORT: String(managerPort),
  WEFT_KUBE_MANAGER_WORKERS: String(WORKERS),
  WEFT_KUBE_MANAGER_IDENTITY: 'bench',
};
const storeRevision = async () =>
  Number(/^weft_config_api_store_revision (\d+)/m.exec(await (await fetch(`${configUrl}/metrics`)).text())?.[1]);

try {
  // Its /readyz also asks for NATS, which this benchmark does not run: alive is enough here.
  await waitFor(() => ready(`${configUrl}/healthz`), { timeoutMs: 30_000, what: 'config-api' });
  for (const [name, prefix] of [
    ['pod-network', '10.100.0.0'],
    ['baseline-network', '10.101.0.0'],
  ] as const) {
    await json(`${configUrl}/virtual-networks`, 'POST', {
      'virtual-network': {
        fq_name: [...PROJECT, name],
        parent_type: 'project',
        network_ipam_refs: [
          {
            to: [...PROJECT, 'default-network-ipam'],
            attr: { ipam_subnets: [{ subnet: { ip_prefix: prefix, ip_prefix_len: 16 } }] },
          },
        ],
      },
    });
  }
  const loadBefore = loadavg()
    .map((value) => value.toFixed(1))
    .join(', ');

  // ── baseline: the same objects by REST ───────────────────────────────────────────────────
  const baselineCpuBefore = process.cpuUsage();
  const baselineLatencies: number[] = [];
  const baselineStart = performance.now();
  await inParallel(PODS, WORKERS, async (index) => {
    const name = `default/base-${index}`;
    const vm = (
      await json(`${configUrl}/virtual-machines`, 'POST', {
        'virtual-machine': { fq_name: [name], display_name: name },
      })
    )['virtual-machine'];
    const vmi = (
      await json(`${configUrl}/virtual-machine-interfaces`, 'POST', {
        'virtual-machine-interface': {
          fq_name: [...PROJECT, `base-${index}-eth0`],
          parent_type: 'project',
          virtual_network_refs: [{ to: [...PROJECT, 'baseline-network'] }],
          virtual_machine_refs: [{ to: vm.fq_name, uuid: vm.uuid }],
          virtual_machine_interface_bindings: { key_value_pair: [{ key: 'host_id', value: 'bench-node' }] },
        },
      })
    )['virtual-machine-interface'];
    await json(`${configUrl}/instance-ips`, 'POST', {
      'instance-ip': {
        fq_name: [`base-${index}-eth0`],
        virtual_network_refs: [{ to: [...PROJECT, 'baseline-network'] }],
        virtual_machine_interface_refs: [{ to: vmi.fq_name, uuid: vmi.uuid }],
      },
    });
    baselineLatencies.push(performance.now() - baselineStart);
  });
  const baselineSeconds = (performance.now() - baselineStart) / 1000;
  const baselineCpu = process.cpuUsage(baselineCpuBefore);
  const baselineCpuSeconds = (baselineCpu.user + baselineCpu.system) / 1e6;
  baselineLatencies.sort((a, b) => a - b);

  // ── the manager: pods through the Kubernetes API ─────────────────────────────────────────
  let manager = startDaemon(mainOf('@weft/kube-manager'), managerEnv);
  await waitFor(() => ready(`http://127.0.0.1:${managerPort}/readyz`), { timeoutMs: 30_000, what: 'kube-manager' });
  const created = new Map<string, number>();
  const readyAt = new Map<string, number>();
  const unsubscribe = kube.store.subscribe((event) => {
    const name = event.object.metadata.name;
    if (event.resource.plural !== 'pods' || readyAt.has(name) || !created.has(name)) return;
    if (event.object.metadata.annotations?.[NETWORK_STATUS_ANNOTATION]) readyAt.set(name, performance.now());
  }, kube.store.revision);
  const managerCpuBefore = cpuSeconds(manager.pid);
  const burstStart = performance.now();
  await inParallel(PODS, CREATORS, async (index) => {
    const name = `pod-${index}`;
    created.set(name, performance.now());
    await json(`${kube.url}/api/v1/namespaces/default/pods`, 'POST', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { nodeName: 'bench-node', containers: [{ name: 'c', image: 'x' }] },
    });
  });
  await waitFor(() => readyAt.size === PODS, { timeoutMs: 600_000, intervalMs: 100, what: `${PODS} pods ready` });
  const managerSeconds = (performance.now() - burstStart) / 1000;
  const managerCpuSeconds = cpuSeconds(manager.pid) - managerCpuBefore;
  unsubscribe();
  const latencies = [...readyAt].map(([name, at]) => at - created.get(name)!).sort((a, b) => a - b);

  // ── a restart with the pods in place ─────────────────────────────────────────────────────
  const metric = async (pattern: RegExp) =>
    Number(pattern.exec(await (await fetch(`http://127.0.0.1:${managerPort}/metrics`)).text())?.[1] ?? Number.NaN);
  await manager.stop();
  const revisionBefore = await storeRevision();
  const restartStart = performance.now();
  manager = startDaemon(mainOf('@weft/kube-manager'), managerEnv);
  await waitFor(() => ready(`http://127.0.0.1:${managerPort}/readyz`), {
    timeoutMs: 30_000,
    what: 'kube-manager again',
  });
  await waitFor(
    async () =>
      (await metric(/^weft_kube_manager_reconciles_total\{kind="pod",result="ok"\} (\d+)/m)) >= PODS &&
      (await metric(/^weft_kube_manager_queue_depth (\d+)/m)) === 0,
    { timeoutMs: 600_000, intervalMs: 200, what: 'the restarted manager to go over every pod' },
  );
  const resyncSeconds = (performance.now() - restartStart) / 1000;
  const restartWrites = (await storeRevision()) - revisionBefore;
  await manager.stop();

  const ms = (value: number) => value.toFixed(0);
  const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const b50 = percentile(baselineLatencies, 50);
  const b99 = percentile(baselineLatencies, 99);
  console.log(
    `${PODS} pods in one burst (${CREATORS} concurrent creates); the manager with ${WORKERS} workers, the baseline with ${WORKERS} REST clients; ${availableParallelism()} cores, load average before ${loadBefore}, after ${loadavg()
      .map((value) => value.toFixed(1))
      .join(', ')}.\n`,
  );
  console.log('| measure | kube-manager | baseline (REST by hand) | ratio |');
  console.log('| --- | ---: | ---: | ---: |');
  console.log(`| p50 time to interfaces ready in config (ms) | ${ms(p50)} | ${ms(b50)} | ${ratio(p50, b50)} |`);
  console.log(`| p99 time to interfaces ready in config (ms) | ${ms(p99)} | ${ms(b99)} | ${ratio(p99, b99)} |`);
  console.log(
    `| whole burst (pods/s) | ${(PODS / managerSeconds).toFixed(0)} | ${(PODS / baselineSeconds).toFixed(0)} | ${ratio(PODS / managerSeconds, PODS / baselineSeconds)} |`,
  );
  console.log(
    `| CPU per pod (ms): the manager's process / the baseline's REST client | ${((managerCpuSeconds * 1000) / PODS).toFixed(2)} | ${((baselineCpuSeconds * 1000) / PODS).toFixed(2)} | ${ratio(managerCpuSeconds, baselineCpuSeconds)} |`,
  );
  console.log(
    `\nRestart with ${PODS} pods in place: ready and every pod gone over in ${resyncSeconds.toFixed(1)} s; config writes made: ${restartWrites}.`,
  );
  if (restartWrites !== 0) throw new Error(`a restarted manager wrote ${restartWrites} changes`);
} finally {
  await kube.close();
  await configApi.stop();
  state.remove();
}
