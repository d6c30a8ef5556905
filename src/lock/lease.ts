// The run lock: a coordination.k8s.io Lease with a TTL. Acquired with optimistic concurrency
// (create, or replace at the read resourceVersion), so of two executors exactly one wins; renewed
// while the run lives; released at the end. A lease whose holder stopped renewing is taken over
// only after its TTL has passed since the last renewal.
import * as k8s from '@kubernetes/client-node';
import { explainApiError, type KubeClients } from '../kube/client.ts';
import { UserError } from '../errors.ts';

export interface LockOptions {
  namespace: string;
  name: string;
  /** Seconds without renewal after which another run may take the lock. */
  ttlSeconds: number;
  /** Who we are: shown to anyone refused the lock. */
  holder: string;
}

export class LockHeldError extends UserError {}

const asDate = (t: unknown): Date | undefined => (t ? new Date(t as string | Date) : undefined);

export class LeaseLock {
  private readonly c: KubeClients;
  readonly o: LockOptions;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private lost: Error | undefined;

  constructor(c: KubeClients, o: LockOptions) {
    this.c = c;
    this.o = o;
  }

  private body(transitions: number, acquireTime: Date, resourceVersion?: string): k8s.V1Lease {
    const now = new k8s.V1MicroTime();
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.o.name,
        namespace: this.o.namespace,
        ...(resourceVersion ? { resourceVersion } : {}),
        labels: { 'app.kubernetes.io/managed-by': 'reboot-pilot' },
      },
      spec: {
        holderIdentity: this.o.holder,
        leaseDurationSeconds: this.o.ttlSeconds,
        acquireTime: new k8s.V1MicroTime(acquireTime.getTime()),
        renewTime: now,
        leaseTransitions: transitions,
      },
    };
  }

  /** Takes the lock or throws LockHeldError naming the holder. */
  async acquire(): Promise<void> {
    const { namespace, name } = this.o;
    let existing: k8s.V1Lease | undefined;
    try {
      existing = await this.c.coordination.readNamespacedLease({ name, namespace });
    } catch (e) {
      if (!(e instanceof k8s.ApiException && e.code === 404))
        throw explainApiError(e, 'get', `leases.coordination.k8s.io ${namespace}/${name}`, this.c.server);
    }
    try {
      if (!existing) {
        await this.c.coordination.createNamespacedLease({ namespace, body: this.body(0, new Date()) });
      } else {
        const s = existing.spec ?? {};
        const renewed = asDate(s.renewTime) ?? asDate(s.acquireTime);
        const ttl = s.leaseDurationSeconds ?? this.o.ttlSeconds;
        const expiresAt = renewed ? renewed.getTime() + ttl * 1000 : 0;
        if (s.holderIdentity && s.holderIdentity !== this.o.holder && Date.now() < expiresAt) {
          throw new LockHeldError(
            `another execution holds the lock ${namespace}/${name}: ${s.holderIdentity} (renewed ${renewed?.toISOString()}, expires ${new Date(expiresAt).toISOString()} unless renewed)`,
          );
        }
        await this.c.coordination.replaceNamespacedLease({
          name,
          namespace,
          body: this.body(
            (s.leaseTransitions ?? 0) + (s.holderIdentity === this.o.holder ? 0 : 1),
            new Date(),
            existing.metadata?.resourceVersion,
          ),
        });
      }
    } catch (e) {
      if (e instanceof k8s.ApiException && (e.code === 409 || e.code === 422)) {
        // Someone created or replaced it between our read and write: they won.
        const now = await this.c.coordination.readNamespacedLease({ name, namespace }).catch(() => undefined);
        throw new LockHeldError(
          `another execution took the lock ${namespace}/${name} at the same moment: ${now?.spec?.holderIdentity ?? 'unknown'}`,
        );
      }
      if (e instanceof UserError) throw e;
      throw explainApiError(
        e,
        existing ? 'update' : 'create',
        `leases.coordination.k8s.io ${namespace}/${name}`,
        this.c.server,
      );
    }
    this.timer = setInterval(
      () => {
        this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
      },
      Math.max(1000, (this.o.ttlSeconds * 1000) / 3),
    );
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    try {
      const cur = await this.c.coordination.readNamespacedLease({
        name: this.o.name,
        namespace: this.o.namespace,
      });
      if (cur.spec?.holderIdentity !== this.o.holder) {
        this.lost = new Error(
          `lost the lock ${this.o.namespace}/${this.o.name} to ${cur.spec?.holderIdentity ?? 'nobody'}`,
        );
        return;
      }
      const body = this.body(
        cur.spec.leaseTransitions ?? 0,
        asDate(cur.spec.acquireTime) ?? new Date(),
        cur.metadata?.resourceVersion,
      );
      await this.c.coordination.replaceNamespacedLease({
        name: this.o.name,
        namespace: this.o.namespace,
        body,
      });
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
        const cur = await this.c.coordination.readNamespacedLease({
          name: this.o.name,
          namespace: this.o.namespace,
        });
        if (cur.spec?.holderIdentity !== this.o.holder) return;
        await this.c.coordination.replaceNamespacedLease({
          name: this.o.name,
          namespace: this.o.namespace,
          body: {
            ...cur,
            spec: { ...cur.spec, holderIdentity: undefined, renewTime: undefined, acquireTime: undefined },
          },
        });
        return;
      } catch (e) {
        if (!(e instanceof k8s.ApiException && e.code === 409)) return; // Not releasing is safe: the lease expires after its TTL.
      }
    }
  }
}
