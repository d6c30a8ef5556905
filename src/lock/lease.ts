// The run lock: a coordination.k8s.io Lease with a TTL. Acquired with optimistic concurrency
// (create, or replace at the read resourceVersion), so of two executors exactly one wins; renewed
// while the run lives; released at the end. A lease whose holder stopped renewing is taken over
// only after its TTL has passed since the last renewal.
import * as k8s from '@kubernetes/client-node';
import { explainApiError, type KubeClients } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import { MANAGED_BY } from '../kube/labels.ts';

export interface LockOptions {
  namespace: string;
  name: string;
  /** Seconds without renewal after which another run may take the lock. */
  ttlSeconds: number;
  /** Who we are: shown to anyone refused the lock. */
  holder: string;
}

export class LockHeldError extends UserError {}

const asDate = (time: unknown): Date | undefined => (time ? new Date(time as string | Date) : undefined);

export class LeaseLock {
  private readonly kube: KubeClients;
  readonly options: LockOptions;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private lost: Error | undefined;

  constructor(kube: KubeClients, options: LockOptions) {
    this.kube = kube;
    this.options = options;
  }

  private get ref(): string {
    return `leases.coordination.k8s.io ${this.options.namespace}/${this.options.name}`;
  }

  private read(): Promise<k8s.V1Lease> {
    const { name, namespace } = this.options;
    return this.kube.coordination.readNamespacedLease({ name, namespace });
  }

  private replace(body: k8s.V1Lease): Promise<k8s.V1Lease> {
    const { name, namespace } = this.options;
    return this.kube.coordination.replaceNamespacedLease({ name, namespace, body });
  }

  private body(transitions: number, acquireTime: Date, resourceVersion?: string): k8s.V1Lease {
    const now = new k8s.V1MicroTime();
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.options.name,
        namespace: this.options.namespace,
        ...(resourceVersion ? { resourceVersion } : {}),
        labels: { ...MANAGED_BY },
      },
      spec: {
        holderIdentity: this.options.holder,
        leaseDurationSeconds: this.options.ttlSeconds,
        acquireTime: new k8s.V1MicroTime(acquireTime.getTime()),
        renewTime: now,
        leaseTransitions: transitions,
      },
    };
  }

  /** Takes the lock or throws LockHeldError naming the holder. */
  async acquire(): Promise<void> {
    const { namespace } = this.options;
    let existing: k8s.V1Lease | undefined;
    try {
      existing = await this.read();
    } catch (error) {
      if (!(error instanceof k8s.ApiException && error.code === 404))
        throw explainApiError(error, 'get', this.ref, this.kube.server);
    }
    try {
      if (!existing) {
        await this.kube.coordination.createNamespacedLease({ namespace, body: this.body(0, new Date()) });
      } else {
        await this.takeOver(existing);
      }
    } catch (error) {
      if (error instanceof k8s.ApiException && (error.code === 409 || error.code === 422)) {
        // Someone created or replaced it between our read and write: they won.
        const now = await this.read().catch(() => undefined);
        throw new LockHeldError(
          `another execution took the lock ${this.where} at the same moment: ` +
            (now?.spec?.holderIdentity ?? 'unknown'),
          { cause: error },
        );
      }
      if (error instanceof UserError) throw error;
      throw explainApiError(error, existing ? 'update' : 'create', this.ref, this.kube.server);
    }
    this.timer = setInterval(
      () => {
        this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
      },
      Math.max(1000, (this.options.ttlSeconds * 1000) / 3),
    );
    this.timer.unref();
  }

  private get where(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }

  /** Replaces an existing lease: ours, or another holder's expired one (else LockHeldError). */
  private async takeOver(existing: k8s.V1Lease): Promise<void> {
    const spec = existing.spec ?? {};
    const { holder } = this.options;
    const renewed = asDate(spec.renewTime) ?? asDate(spec.acquireTime);
    const ttl = spec.leaseDurationSeconds ?? this.options.ttlSeconds;
    const expiresAt = renewed ? renewed.getTime() + ttl * 1000 : 0;
    if (spec.holderIdentity && spec.holderIdentity !== holder && Date.now() < expiresAt) {
      throw new LockHeldError(
        `another execution holds the lock ${this.where}: ${spec.holderIdentity} ` +
          `(renewed ${renewed?.toISOString()}, expires ${new Date(expiresAt).toISOString()} unless renewed)`,
      );
    }
    const transitions = (spec.leaseTransitions ?? 0) + (spec.holderIdentity === holder ? 0 : 1);
    await this.replace(this.body(transitions, new Date(), existing.metadata?.resourceVersion));
  }

  private async renew(): Promise<void> {
    try {
      const current = await this.read();
      if (current.spec?.holderIdentity !== this.options.holder) {
        this.lost = new Error(`lost the lock ${this.where} to ${current.spec?.holderIdentity ?? 'nobody'}`);
        return;
      }
      const body = this.body(
        current.spec.leaseTransitions ?? 0,
        asDate(current.spec.acquireTime) ?? new Date(),
        current.metadata?.resourceVersion,
      );
      await this.replace(body);
    } catch {
      // A missed renewal is retried at the next tick; the TTL covers two more.
    }
  }

  /** Throws when the lock was lost (checked between steps: never act without it). */
  check(): void {
    if (this.lost) throw this.lost;
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // A renewal in flight would make our release a conflict: let it land first.
    await this.renewing;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const current = await this.read();
        if (current.spec?.holderIdentity !== this.options.holder) return;
        const released = { holderIdentity: undefined, renewTime: undefined, acquireTime: undefined };
        await this.replace(Object.assign({}, current, { spec: Object.assign({}, current.spec, released) }));
        return;
      } catch (error) {
        // Not releasing is safe: the lease expires after its TTL.
        if (!(error instanceof k8s.ApiException && error.code === 409)) return;
      }
    }
  }
}
