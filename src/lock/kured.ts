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
    .filter((l) => l.nodeID && !(l.TTL && l.created && Date.parse(l.created) + l.TTL / 1e6 < now))
    .map((l) => l.nodeID!);
}

export interface KuredLockOptions {
  namespace: string;
  daemonSet: string;
  take: boolean;
  holder: string;
  ttlSeconds: number;
}

export class KuredLock {
  private readonly c: KubeClients;
  private readonly o: KuredLockOptions;
  private taken = false;

  constructor(c: KubeClients, o: KuredLockOptions) {
    this.c = c;
    this.o = o;
  }

  private ref = () => `daemonsets.apps ${this.o.namespace}/${this.o.daemonSet}`;

  private async read(): Promise<k8s.V1DaemonSet | undefined> {
    try {
      return await this.c.apps.readNamespacedDaemonSet({
        name: this.o.daemonSet,
        namespace: this.o.namespace,
      });
    } catch (e) {
      if (e instanceof k8s.ApiException && e.code === 404) return undefined; // kured is not installed
      throw explainApiError(e, 'get', this.ref(), this.c.server);
    }
  }

  private value(): string {
    return JSON.stringify({
      nodeID: `reboot-pilot:${this.o.holder}`,
      metadata: { unschedulable: false },
      created: new Date().toISOString(),
      TTL: this.o.ttlSeconds * 1e9,
    });
  }

  /** Refuses while kured holds its lock; takes it when configured. */
  async acquire(): Promise<void> {
    const ds = await this.read();
    if (!ds) return;
    const holders = kuredHolders(ds.metadata?.annotations?.[KURED_LOCK_ANNOTATION]);
    if (holders.length)
      throw new LockHeldError(
        `kured holds its reboot lock (${KURED_LOCK_ANNOTATION} on ${this.ref()}): ${holders.join(', ')}; try again when kured has finished`,
      );
    if (!this.o.take) return;
    try {
      // The resourceVersion makes this a compare-and-swap against kured taking it meanwhile.
      await this.c.apps.patchNamespacedDaemonSet(
        {
          name: this.o.daemonSet,
          namespace: this.o.namespace,
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
    } catch (e) {
      if (e instanceof k8s.ApiException && e.code === 409)
        throw new LockHeldError(`kured took its lock at the same moment (${this.ref()})`);
      throw explainApiError(e, 'patch', this.ref(), this.c.server);
    }
  }

  async renew(): Promise<void> {
    if (!this.taken) return;
    await this.c.apps
      .patchNamespacedDaemonSet(
        {
          name: this.o.daemonSet,
          namespace: this.o.namespace,
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
    if (holders.length === 1 && holders[0] === `reboot-pilot:${this.o.holder}`) {
      await this.c.apps
        .patchNamespacedDaemonSet(
          {
            name: this.o.daemonSet,
            namespace: this.o.namespace,
            body: { metadata: { annotations: { [KURED_LOCK_ANNOTATION]: null } } },
          },
          MERGE,
        )
        .catch(() => undefined);
    }
    this.taken = false;
  }
}
