// A real etcd cluster for tests and benchmarks: three members (or any number) of Debian's
// etcd-server on free loopback ports, each with its data in a temp dir, which a test can kill
// (SIGKILL, as a crash) and start again. Elections are quicker than etcd's defaults (50 ms
// heartbeats, 500 ms election timeout) so that failover tests wait less; everything else is
// etcd as deployed, fsync included.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, tempDir, waitFor } from '@weft/kit/testing';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  running: boolean;
  /** Kills the member with SIGKILL (no clean shutdown) and waits for it to be gone. */
  kill(): Promise<void>;
  /** Starts it again on its ports and data, rejoining the cluster. */
  start(): Promise<void>;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** Client URLs of every member. */
  endpoints: string[];
  /** The member that leads now (asked of the running members). */
  leader(): Promise<EtcdMember>;
  /** Waits until the running members have a leader. */
  waitForLeader(timeoutMs?: number): Promise<EtcdMember>;
  dispose(): Promise<void>;
}

/** Why etcd cannot run here, or undefined when it can; a test skips with this reason. */
export function etcdMissing(): string | undefined {
  const probe = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : 'etcd is not installed (npm test installs etcd-server when run as root)';
}

interface Status {
  header: { member_id: string };
  leader: string;
}

async function statusOf(clientUrl: string): Promise<Status | undefined> {
  try {
    const response = await fetch(`${clientUrl}/v3/maintenance/status`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(1_000),
    });
    return response.ok ? ((await response.json()) as Status) : undefined;
  } catch {
    return undefined;
  }
}

export interface EtcdClusterOptions {
  size?: number;
  /**
   * Clients speak TLS and must present a certificate signed by this one (self-signed, so it is
   * its own CA); health is then asked on a plain metrics port.
   */
  tls?: { certFile: string; keyFile: string };
}

export async function startEtcdCluster({ size = 3, tls }: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const data = tempDir('weft-etcd-');
  const token = `weft-test-${process.pid}-${Date.now()}`;
  const specs: { name: string; clientPort: number; peerPort: number; metricsPort: number }[] = [];
  for (let i = 0; i < size; i++) {
    specs.push({
      name: `m${i}`,
      clientPort: await freePort(),
      peerPort: await freePort(),
      metricsPort: await freePort(),
    });
  }
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');

  const members = specs.map((spec) => {
    let child: ChildProcess | undefined;
    const clientUrl = `${tls ? 'https' : 'http'}://127.0.0.1:${spec.clientPort}`;
    const member: EtcdMember & { metricsUrl: string } = {
      name: spec.name,
      clientUrl,
      metricsUrl: `http://127.0.0.1:${spec.metricsPort}`,
      get running() {
        return child !== undefined && child.exitCode === null && child.signalCode === null;
      },
      async start() {
        if (member.running) return;
        child = spawn(
          'etcd',
          [
            '--name',
            spec.name,
            '--data-dir',
            join(data.path, spec.name),
            '--listen-client-urls',
            clientUrl,
            '--advertise-client-urls',
            clientUrl,
            '--listen-peer-urls',
            `http://127.0.0.1:${spec.peerPort}`,
            '--initial-advertise-peer-urls',
            `http://127.0.0.1:${spec.peerPort}`,
            '--initial-cluster',
            initialCluster,
            '--initial-cluster-state',
            'new',
            '--initial-cluster-token',
            token,
            '--heartbeat-interval',
            '50',
            '--election-timeout',
            '500',
            // One object's keys, references and log entry in one transaction (etcd's default is 128).
            '--max-txn-ops',
            '1024',
            '--listen-metrics-urls',
            `http://127.0.0.1:${spec.metricsPort}`,
            ...(tls
              ? [
                  '--cert-file',
                  tls.certFile,
                  '--key-file',
                  tls.keyFile,
                  '--trusted-ca-file',
                  tls.certFile,
                  '--client-cert-auth',
                ]
              : []),
            '--logger',
            'zap',
            '--log-level',
            'error',
          ],
          { stdio: 'ignore' },
        );
      },
      async kill() {
        const running = child;
        if (!running || running.exitCode !== null || running.signalCode !== null) return;
        const exited = new Promise((resolve) => running.once('exit', resolve));
        running.kill('SIGKILL');
        await exited;
      },
    };
    return member;
  });

  const waitForLeader = async (timeoutMs = 20_000): Promise<EtcdMember> => {
    let found: EtcdMember | undefined;
    await waitFor(
      async () => {
        for (const member of members.filter((m) => m.running)) {
          const status = await statusOf(member.clientUrl);
          if (!status || status.leader === '0' || !status.leader) continue;
          for (const candidate of members.filter((m) => m.running)) {
            if ((await statusOf(candidate.clientUrl))?.header.member_id === status.leader) {
              found = candidate;
              return true;
            }
          }
        }
        return false;
      },
      { timeoutMs, what: 'an etcd leader' },
    );
    return found!;
  };

  try {
    await Promise.all(members.map((member) => member.start()));
    // The status API sits on the client URL, which TLS keeps from a plain fetch; /health (on the
    // metrics URL) says there is a leader too.
    if (!tls) await waitForLeader(30_000);
    await waitFor(
      async () => {
        for (const member of members) {
          const health = await fetch(`${member.metricsUrl}/health`).then(
            (r) => r.json() as Promise<{ health: string }>,
            () => undefined,
          );
          if (health?.health !== 'true') return false;
        }
        return true;
      },
      { timeoutMs: 30_000, what: 'every etcd member healthy' },
    );
  } catch (error) {
    await Promise.all(members.map((member) => member.kill()));
    data.remove();
    throw error;
  }

  return {
    members,
    endpoints: members.map((member) => member.clientUrl),
    leader: () => waitForLeader(),
    waitForLeader,
    async dispose() {
      await Promise.all(members.map((member) => member.kill()));
      data.remove();
    },
  };
}
