// Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection does:
// take the Lease when it is free or its holder has not renewed it for leaseDuration, renew it
// every third of that, and give it up on a clean stop. Every write carries the resourceVersion
// it read, so two replicas cannot both take it. A leader that cannot renew in time stops leading.
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import type { Logger } from '@weft/kit';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
}

const statusOf = (error: unknown) => (error as { code?: number }).code;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class LeaderElection {
  #leading = false;
  #stopped = false;
  #renewer: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: CoordinationV1Api,
    private readonly options: LeaderElectionOptions,
    private readonly logger: Logger,
  ) {}

  get leading(): boolean {
    return this.#leading;
  }

  /** Resolves once this replica holds the Lease; then renews it and calls onLost if it cannot. */
  async acquire(onLost: () => void): Promise<void> {
    const retryMs = Math.max(100, Math.floor(this.options.leaseDurationMs / 5));
    while (!this.#stopped && !(await this.#tryAcquireOrRenew())) await sleep(retryMs);
    if (this.#stopped) return;
    this.#leading = true;
    this.logger.info({ lease: `${this.options.namespace}/${this.options.name}` }, 'leading');
    let lastRenew = Date.now();
    const renew = async () => {
      if (this.#stopped) return;
      if (await this.#tryAcquireOrRenew()) lastRenew = Date.now();
      else if (Date.now() - lastRenew >= this.options.leaseDurationMs) {
        this.#leading = false;
        this.logger.error('lost the Lease');
        onLost();
        return;
      }
      this.#renewer = setTimeout(renew, this.options.leaseDurationMs / 3);
    };
    this.#renewer = setTimeout(renew, this.options.leaseDurationMs / 3);
  }

  /** Stops renewing; a leader hands the Lease back so that the next replica need not wait. */
  async release(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#renewer);
    if (!this.#leading) return;
    this.#leading = false;
    try {
      const lease = await this.api.readNamespacedLease({ name: this.options.name, namespace: this.options.namespace });
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: '', renewTime: new Date(0) as never };
      await this.api.replaceNamespacedLease({
        name: this.options.name,
        namespace: this.options.namespace,
        body: lease,
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'could not hand the Lease back; the next leader waits for it to expire');
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity, leaseDurationMs } = this.options;
    const now = new Date();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      renewTime: now as never,
    };
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (statusOf(error) !== 404) {
        this.logger.warn({ err: error }, 'could not read the Lease');
        return false;
      }
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: { ...spec, acquireTime: now as never, leaseTransitions: 0 } },
        });
        return true;
      } catch {
        return false;
      }
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime as never).getTime() : 0;
    const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== identity && renewed + duration > now.getTime()) return false;
    const changed = holder !== identity;
    lease.spec = {
      ...lease.spec,
      ...spec,
      ...(changed ? { acquireTime: now as never, leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 } : {}),
    };
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body: lease });
      return true;
    } catch (error) {
      if (statusOf(error) !== 409) this.logger.warn({ err: error }, 'could not write the Lease');
      return false;
    }
  }
}
