// kured's lock: the annotation weave.works/kured-node-lock on kured's DaemonSet. While kured holds
// it (a node is being rebooted by kured), Reboot Pilot does not start. When asked to, Reboot Pilot
// takes the same lock for its run, so kured cannot reboot a node at the same time; it writes a
// TTL and refreshes `created`, so a run that dies leaves a lock kured ignores after the TTL.
import * as k8s from '@kubernetes/client-node';
import { MERGE_PATCH as MERGE, explainApiError, type KubeClients } from '../kube/client.ts';
import { KURED_LOCK_ANNOTATION } from '../kube/labels.ts';
import { LockHeldError } from './lease.ts';

interface KuredLockEntry {
  nodeID?: string;
  created?: string;
  /** Go time.Duration in nanoseconds; 0 = no expiry. */
  TTL?: number;
}

/** The holders of a kured lock value (single or multi-owner form) that have not expired. */
export function kuredHolders(value: string | undefined, now = Date.now()): string[] {
  if (!value) return [];
  let parsed: KuredLockEntry & { locks?: KuredLockEntry[] };
  try {
    parsed = JSON.parse(value) as typeof parsed;
  } catch {
    return ['(unreadable lock value)'];
  }
  const entries = parsed.locks ?? [parsed];
  return entries
    .filter(
      (lock) => lock.nodeID && !(lock.TTL && lock.created && Date.parse(lock.created) + lock.TTL / 1e6 < now),
    )
    .map((lock) => lock.nodeID!);
}

export interface KuredLockOptions {
  namespace: string;
  daemonSet: string;
  take: boolean;
  holder: string;
  ttlSeconds: number;
}

export class KuredLock {
  private readonly kube: KubeClients;
  private readonly options: KuredLockOptions;
  private taken = false;

  constructor(kube: KubeClients, options: KuredLockOptions) {
    this.kube = kube;
    this.options = options;
  }

  private ref = () => `daemonsets.apps ${this.options.namespace}/${this.options.daemonSet}`;

  private async read(): Promise<k8s.V1DaemonSet | undefined> {
    try {
      return await this.kube.apps.readNamespacedDaemonSet({
        name: this.options.daemonSet,
        namespace: this.options.namespace,
      });
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return undefined; // kured is not installed
      throw explainApiError(error, 'get', this.ref(), this.kube.server);
    }
  }

  private value(): string {
    return JSON.stringify({
      nodeID: `reboot-pilot:${this.options.holder}`,
      metadata: { unschedulable: false },
      created: new Date().toISOString(),
      TTL: this.options.ttlSeconds * 1e9,
    });
  }

  /** Refuses while kured holds its lock; takes it when configured. */
  async acquire(): Promise<void> {
    const ds = await this.read();
    if (!ds) return;
    const holders = kuredHolders(ds.metadata?.annotations?.[KURED_LOCK_ANNOTATION]);
    if (holders.length)
      throw new LockHeldError(
        `kured holds its reboot lock (${KURED_LOCK_ANNOTATION} on ${this.ref()}): ${holders.join(', ')}; ` +
          'try again when kured has finished',
      );
    if (!this.options.take) return;
    try {
      // The resourceVersion makes this a compare-and-swap against kured taking it meanwhile.
      await this.kube.apps.patchNamespacedDaemonSet(
        {
          name: this.options.daemonSet,
          namespace: this.options.namespace,
          body: {
            metadata: {
              resourceVersion: ds.metadata?.resourceVersion,
              annotations: { [KURED_LOCK_ANNOTATION]: this.value() },
            },
          },
        },
        MERGE,
      );
      this.taken = true;
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 409)
        throw new LockHeldError(`kured took its lock at the same moment (${this.ref()})`, { cause: error });
      throw explainApiError(error, 'patch', this.ref(), this.kube.server);
    }
  }

  async renew(): Promise<void> {
    if (!this.taken) return;
    await this.kube.apps
      .patchNamespacedDaemonSet(
        {
          name: this.options.daemonSet,
          namespace: this.options.namespace,
          body: { metadata: { annotations: { [KURED_LOCK_ANNOTATION]: this.value() } } },
        },
        MERGE,
      )
      .catch(() => undefined);
  }

  async release(): Promise<void> {
    if (!this.taken) return;
    const ds = await this.read().catch(() => undefined);
    const holders = kuredHolders(ds?.metadata?.annotations?.[KURED_LOCK_ANNOTATION]);
    if (holders.length === 1 && holders[0] === `reboot-pilot:${this.options.holder}`) {
      await this.kube.apps
        .patchNamespacedDaemonSet(
          {
            name: this.options.daemonSet,
            namespace: this.options.namespace,
            body: { metadata: { annotations: { [KURED_LOCK_ANNOTATION]: null } } },
          },
          MERGE,
        )
        .catch(() => undefined);
    }
    this.taken = false;
  }
}
