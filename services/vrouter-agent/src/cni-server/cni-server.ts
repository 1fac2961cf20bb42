// The agent's local API for the CNI plugin (weft.agent.v1.Cni) on a unix socket, mode 0600:
// the pod's interfaces as config describes them, and the attachments of their host ends to the
// datapath, persisted so that a restarted agent re-attaches every port.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import type { Logger } from '@weft/kit';
import { loadCniProto } from '@weft/proto';
import type { Attachment } from '@weft/proto/gen/weft/agent/v1/Attachment.js';
import type { AttachRequest__Output } from '@weft/proto/gen/weft/agent/v1/AttachRequest.js';
import type { DetachRequest__Output } from '@weft/proto/gen/weft/agent/v1/DetachRequest.js';
import type { DetachResponse } from '@weft/proto/gen/weft/agent/v1/DetachResponse.js';
import type { GarbageCollectRequest__Output } from '@weft/proto/gen/weft/agent/v1/GarbageCollectRequest.js';
import type { GarbageCollectResponse } from '@weft/proto/gen/weft/agent/v1/GarbageCollectResponse.js';
import type { PodInterfaces } from '@weft/proto/gen/weft/agent/v1/PodInterfaces.js';
import type { PodInterfacesRequest__Output } from '@weft/proto/gen/weft/agent/v1/PodInterfacesRequest.js';
import type { StatusResponse } from '@weft/proto/gen/weft/agent/v1/StatusResponse.js';
import type { PortStatus } from '@weft/proto/gen/weft/control/v1/PortStatus.js';
import type { HostState } from '../host-state/host-state.js';
import type { PortDatapath } from '../ports/port-datapath.js';
import type { PortRecord, PortStore } from '../ports/port-store.js';
import { queuedDeletions, removeQueuedDeletion } from './delete-queue.js';
import { onNetwork, toPodInterface } from './pod-interfaces.js';

export interface CniServerOptions {
  socketPath: string;
  /** Where weft-cni queues the deletions it could not hand over (delete-queue.ts). */
  deleteQueue: string;
  state: HostState;
  ports: PortStore;
  /** Called after each attempt to record a port, so the agent can report a write error at once. */
  onStateWriteError?: () => void;
  datapath: PortDatapath;
  /** Tells control (every replica) that a port went up or down. */
  reportPort: (port: PortStatus) => void;
  underlayMtu: number;
  logger: Logger;
}

class CallError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/** Runs a handler and answers with its result, or with its error's gRPC status. */
function unary<Req, Res>(log: Logger, handler: (request: Req) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    handler(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => {
        if (error instanceof CallError) callback({ code: error.code, details: error.message });
        else {
          log.error({ err: error }, 'CNI request failed');
          callback({ code: status.INTERNAL, details: error instanceof Error ? error.message : String(error) });
        }
      },
    );
  };
}

/** The socket's mode is 0777 & ~umask: 0600, owner (root) only. */
export const SOCKET_UMASK = 0o177;

/**
 * How often a running agent looks after the host's side of the CNI: deletions queued while its
 * socket did not answer, and the socket file itself.
 */
const UPKEEP_INTERVAL_MS = 2_000;

export class CniServer {
  readonly #server = new Server();
  readonly #log: Logger;
  #draining: Promise<number> | undefined;
  #upkeepTimer: NodeJS.Timeout | undefined;
  #relistening = false;

  constructor(private readonly options: CniServerOptions) {
    this.#log = options.logger.child({ component: 'cni-server' });
    this.#server.addService(loadCniProto().weft.agent.v1.Cni.service, {
      GetPodInterfaces: unary(this.#log, (request: PodInterfacesRequest__Output) => this.podInterfaces(request)),
      Attach: unary(this.#log, (request: AttachRequest__Output) => this.attach(request)),
      Detach: unary(this.#log, (request: DetachRequest__Output) => this.detach(request)),
      Status: unary(this.#log, async () => this.status()),
      GarbageCollect: unary(this.#log, (request: GarbageCollectRequest__Output) => this.garbageCollect(request)),
    });
  }

  async listen(): Promise<void> {
    const { socketPath } = this.options;
    mkdirSync(dirname(socketPath), { recursive: true });
    // A socket file left by an agent that died would make the bind fail.
    rmSync(socketPath, { force: true });
    // The socket is born private (0600): bound under a umask that leaves only the owner's read
    // and write, so that no one else can connect, not even between the bind and a chmod. The
    // umask is the process's; it is put back as soon as the bind is done, and the agent binds
    // before its sessions and exports start, so nothing else is created meanwhile.
    const previous = process.umask(SOCKET_UMASK);
    try {
      await new Promise<void>((resolve, reject) =>
        this.#server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (error) =>
          error ? reject(error) : resolve(),
        ),
      );
    } finally {
      process.umask(previous);
    }
    this.#log.info({ socketPath }, 'CNI socket listening');
  }

  close(): Promise<void> {
    clearInterval(this.#upkeepTimer);
    return new Promise((resolve) => this.#server.tryShutdown(() => resolve()));
  }

  /**
   * Carries out the deletions weft-cni queued while it could not reach this agent: at start,
   * before the socket answers, and then every few seconds (a stopped agent, or a socket that
   * went missing, is unreachable while this process runs). Returns how many were carried out.
   */
  drainDeleteQueue(): Promise<number> {
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  /**
   * Every UPKEEP_INTERVAL_MS: carries out queued deletions (a stopped agent, or one whose socket
   * went missing, is unreachable while this process runs), and listens again when the socket
   * file was removed (a cleanup of /run, a careless rm), since the plugin cannot reach an agent
   * that answers on a path nobody can open.
   */
  startUpkeep(): void {
    this.#upkeepTimer = setInterval(() => {
      void this.drainDeleteQueue().catch((error: unknown) =>
        this.#log.error({ err: error }, 'could not carry out queued deletions'),
      );
      if (!this.#relistening && !existsSync(this.options.socketPath)) {
        this.#relistening = true;
        this.#log.warn({ socketPath: this.options.socketPath }, 'the CNI socket was removed; listening again');
        this.#server.unbind(`unix://${this.options.socketPath}`);
        void this.listen()
          .catch((error: unknown) => this.#log.error({ err: error }, 'could not listen on the CNI socket again'))
          .finally(() => {
            this.#relistening = false;
          });
      }
    }, UPKEEP_INTERVAL_MS);
    this.#upkeepTimer.unref();
  }

  async #drain(): Promise<number> {
    const queued = queuedDeletions(this.options.deleteQueue, (file, reason) =>
      this.#log.error({ file, reason }, 'a queued deletion is unreadable; renamed to .rejected'),
    );
    for (const deletion of queued) {
      const { detached } = await this.detach(deletion.request);
      removeQueuedDeletion(deletion);
      this.#log.info({ ...deletion.request, detached: detached?.length ?? 0 }, 'queued deletion carried out');
    }
    return queued.length;
  }

  status(): StatusResponse {
    if (!this.options.state.synced) return { ready: false, reason: 'not yet synced with control' };
    const datapathProblem = this.options.datapath.unavailable();
    return datapathProblem ? { ready: false, reason: datapathProblem } : { ready: true, reason: '' };
  }

  async podInterfaces(request: PodInterfacesRequest__Output): Promise<PodInterfaces> {
    const notReady = this.status();
    if (!notReady.ready) throw new CallError(status.UNAVAILABLE, notReady.reason ?? 'not ready');
    const found = this.options.state.podInterfaces(request);
    const pod = request.uid || `${request.namespace}/${request.name}`;
    if (found.length === 0) throw new CallError(status.NOT_FOUND, `no interfaces of pod ${pod} on this host yet`);
    const view = this.options.state.view();
    const network = request.network;
    const chosen = network ? found.filter((item) => onNetwork(item, network)) : found;
    if (chosen.length === 0)
      throw new CallError(status.NOT_FOUND, `pod ${pod} has no interface on network ${request.network}`);
    return {
      pod_uuid: found[0]!.virtual_machine_uuid,
      interfaces: chosen.map((item) => toPodInterface(item, item === found[0], view, this.options.underlayMtu)),
    };
  }

  async attach(request: AttachRequest__Output): Promise<Attachment> {
    for (const field of ['container_id', 'ifname', 'interface_uuid', 'host_ifname'] as const) {
      if (!request[field]) throw new CallError(status.INVALID_ARGUMENT, `${field} is required`);
    }
    const iface = this.options.state.view().interfaces.get(request.interface_uuid);
    if (!iface) throw new CallError(status.NOT_FOUND, `interface ${request.interface_uuid} is not bound to this host`);
    const record: PortRecord = {
      container_id: request.container_id,
      ifname: request.ifname,
      interface_uuid: request.interface_uuid,
      host_ifname: request.host_ifname,
      netns: request.netns,
      mac: iface.mac,
      addresses: iface.addresses,
    };
    // Persisted first: an agent that crashes right after the attach still knows to re-adopt it.
    // A port it could not record is not attached: after a restart it would be forgotten.
    try {
      this.options.ports.save(record);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOSPC' && code !== 'EDQUOT') throw error;
      this.#log.error(
        { err: error, container_id: record.container_id, ifname: record.ifname },
        'the disk is full: cannot record the port in the state directory, so it is not attached',
      );
      this.options.onStateWriteError?.();
      throw new CallError(
        status.RESOURCE_EXHAUSTED,
        `the agent's disk is full: cannot record port ${record.container_id}/${record.ifname} (${(error as Error).message}); nothing attached`,
      );
    }
    this.options.onStateWriteError?.();
    await this.options.datapath.attachPort(record, iface);
    this.options.reportPort(portStatus(record, 'PORT_STATE_UP'));
    this.#log.info({ port: record }, 'port attached');
    return {
      container_id: record.container_id,
      ifname: record.ifname,
      interface_uuid: record.interface_uuid,
      host_ifname: record.host_ifname,
    };
  }

  async detach(request: DetachRequest__Output): Promise<DetachResponse> {
    const records = request.ifname
      ? [this.options.ports.get(request.container_id, request.ifname)].filter((record) => record !== undefined)
      : this.options.ports.ofContainer(request.container_id);
    for (const record of records) await this.#detachOne(record);
    return { detached: records };
  }

  async garbageCollect(request: GarbageCollectRequest__Output): Promise<GarbageCollectResponse> {
    const valid = new Set(request.valid.map((item) => `${item.container_id}/${item.ifname}`));
    const stale = this.options.ports.all().filter((record) => !valid.has(`${record.container_id}/${record.ifname}`));
    for (const record of stale) await this.#detachOne(record);
    return { removed: stale };
  }

  async #detachOne(record: PortRecord): Promise<void> {
    await this.options.datapath.detachPort(record);
    this.options.ports.remove(record);
    this.options.reportPort(portStatus(record, 'PORT_STATE_DOWN'));
    this.#log.info({ port: record }, 'port detached');
  }
}

export function portStatus(record: PortRecord, state: 'PORT_STATE_UP' | 'PORT_STATE_DOWN'): PortStatus {
  return {
    interface_uuid: record.interface_uuid,
    state,
    mac: record.mac,
    addresses: record.addresses,
    host_ifname: record.host_ifname,
  };
}
