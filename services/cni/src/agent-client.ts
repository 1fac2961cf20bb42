// The plugin's side of weft.agent.v1.Cni: gRPC on the agent's unix socket. An agent that is
// unreachable, not yet synced, or not yet told about the pod is retried with backoff until the
// configured limit, then reported as CNI error 11 so that the runtime tries again later.
import { credentials, type ServiceError, status } from '@grpc/grpc-js';
import { loadCniProto } from '@weft/proto';
import type { Attachment__Output } from '@weft/proto/gen/weft/agent/v1/Attachment.js';
import type { DetachResponse__Output } from '@weft/proto/gen/weft/agent/v1/DetachResponse.js';
import type { GarbageCollectResponse__Output } from '@weft/proto/gen/weft/agent/v1/GarbageCollectResponse.js';
import type { PodInterfaces__Output } from '@weft/proto/gen/weft/agent/v1/PodInterfaces.js';
import type { PodInterfacesRequest } from '@weft/proto/gen/weft/agent/v1/PodInterfacesRequest.js';
import type { StatusResponse__Output } from '@weft/proto/gen/weft/agent/v1/StatusResponse.js';
import { CniCode, CniError } from './errors.js';

export type { Attachment__Output as Attachment, PodInterfaces__Output as PodInterfaces };

const RETRYABLE = new Set([status.UNAVAILABLE, status.NOT_FOUND, status.DEADLINE_EXCEEDED]);

type Call<Req, Res> = (
  request: Req,
  options: { deadline: number },
  callback: (error: ServiceError | null, response?: Res) => void,
) => void;

export class AgentClient {
  readonly #client;

  constructor(
    private readonly socketPath: string,
    private readonly callTimeoutMs: number,
  ) {
    const { Cni } = loadCniProto().weft.agent.v1;
    this.#client = new Cni(`unix://${socketPath}`, credentials.createInsecure());
  }

  close(): void {
    this.#client.close();
  }

  #call<Req, Res>(method: Call<Req, Res>, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      method.call(this.#client, request, { deadline: Date.now() + this.callTimeoutMs }, (error, response) =>
        error ? reject(error) : resolve(response as Res),
      );
    });
  }

  /** Calls once; an agent that cannot answer is error 11, a refusal keeps its reason. */
  async #once<Req, Res>(method: Call<Req, Res>, request: Req, what: string): Promise<Res> {
    try {
      return await this.#call(method, request);
    } catch (error) {
      throw this.#asCniError(error as ServiceError, what);
    }
  }

  #asCniError(error: ServiceError, what: string): CniError {
    if (RETRYABLE.has(error.code)) {
      return new CniError(
        CniCode.TRY_AGAIN_LATER,
        `the Weft agent could not ${what}`,
        `${error.details || error.message} (agent socket ${this.socketPath})`,
        { cause: error },
      );
    }
    if (error.code === status.INVALID_ARGUMENT) {
      return new CniError(CniCode.INVALID_CONFIG, `the Weft agent refused to ${what}`, error.details, { cause: error });
    }
    return new CniError(CniCode.IO_FAILURE, `the Weft agent failed to ${what}`, error.details || error.message, {
      cause: error,
    });
  }

  /**
   * Calls until answered, with backoff up to `waitMs`, while the agent cannot answer yet: not
   * listening (restarting, or upgraded), not synced, or not yet told about the pod.
   */
  async #retrying<Req, Res>(method: Call<Req, Res>, request: Req, what: string, waitMs: number): Promise<Res> {
    const deadline = Date.now() + waitMs;
    let delay = 100;
    for (;;) {
      try {
        return await this.#call(method, request);
      } catch (error) {
        const serviceError = error as ServiceError;
        if (!RETRYABLE.has(serviceError.code) || Date.now() + delay > deadline) {
          throw this.#asCniError(serviceError, what);
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 2_000);
      }
    }
  }

  /** The pod's interfaces, waiting with backoff up to `waitMs` while config is on its way. */
  podInterfaces(request: PodInterfacesRequest, waitMs: number): Promise<PodInterfaces__Output> {
    return this.#retrying(
      this.#client.GetPodInterfaces,
      request,
      `list the interfaces of pod ${request.namespace}/${request.name}`,
      waitMs,
    );
  }

  /**
   * Attaches, riding out an agent that restarts between the pod's lookup and its attach (an
   * upgrade, say) for up to `waitMs`. Safe to repeat: the agent keys a port by container and
   * interface name, and an attach of the same port again replaces it.
   */
  attach(request: Attachment__Output & { netns: string }, waitMs: number): Promise<Attachment__Output> {
    return this.#retrying(this.#client.Attach, request, `attach ${request.host_ifname}`, waitMs);
  }

  async detach(containerId: string, ifname = ''): Promise<Attachment__Output[]> {
    const response = await this.#once<object, DetachResponse__Output>(
      this.#client.Detach,
      { container_id: containerId, ifname },
      'detach',
    );
    return response.detached;
  }

  status(): Promise<StatusResponse__Output> {
    return this.#once(this.#client.Status, {}, 'report its status');
  }

  async garbageCollect(valid: { container_id: string; ifname: string }[]): Promise<Attachment__Output[]> {
    const response = await this.#once<object, GarbageCollectResponse__Output>(
      this.#client.GarbageCollect,
      { valid },
      'collect stale attachments',
    );
    return response.removed;
  }
}
