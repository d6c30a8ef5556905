// AKS node image upgrade, the method for what a reboot cannot fix: planned (Windows pools; pools
// on the SecurityPatch/NodeImage channels with an older image) and the fallback when a node's
// in-place reboot fails. It is pool-wide: AKS surges, cordons, drains and reimages every node
// of the pool (local disk data is lost) following the pool's upgradeSettings (max surge,
// drain timeout, soak). One upgrade per pool per run: the pool's other nodes share its result.
// The operation is polled to its end while the run lock is held (checked between polls), then
// the pool's node image version and every node of the pool are verified.
import type * as k8s from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClients } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import { listAll } from '../cluster/snapshot.ts';
import { poolOf, isReady } from '../cluster/node.ts';
import type { PlanNode } from '../plan/types.ts';
import type { FallbackContext, FallbackResult } from '../execute/executor.ts';
import { NODE_IMAGE_LABEL } from '../kube/labels.ts';
import { explainAzureError, type AzureClients } from './clients.ts';

export interface UpgradeSettingsText {
  maxSurge?: string | undefined;
  maxUnavailable?: string | undefined;
  drainTimeoutInMinutes?: number | undefined;
  nodeSoakDurationInMinutes?: number | undefined;
}

/** "max surge 33%, drain timeout 30 min, soak 0 min" with AKS's defaults for what is unset. */
export function describeUpgradeSettings(u: UpgradeSettingsText | undefined): string {
  return [
    `max surge ${u?.maxSurge ?? 'AKS default'}`,
    ...(u?.maxUnavailable ? [`max unavailable ${u.maxUnavailable}`] : []),
    `drain timeout ${u?.drainTimeoutInMinutes ?? 30} min`,
    `soak ${u?.nodeSoakDurationInMinutes ?? 0} min`,
  ].join(', ');
}

interface PoolResult {
  result: 'handled' | 'unavailable' | 'up-to-date';
  detail: string;
  image?: string;
  trigger: string;
}

export interface NodeImageOptions {
  timeoutSeconds: number;
  /** Also act as the fallback for failed in-place reboots (azure-node-image-fallback). */
  onFailedReboot: boolean;
  log?: (line: string) => void;
  /** How long to wait for the pool's nodes to show the new image and be Ready after the operation. */
  verifyTimeoutMs?: number;
}

export class NodeImageUpgrader {
  private readonly c: KubeClients;
  private readonly az: AzureClients;
  private readonly o: NodeImageOptions;
  private readonly pools = new Map<string, Promise<PoolResult>>();
  /** Pools upgraded by this run, in order (for reports and tests). */
  readonly upgraded: { pool: string; from: string; to: string; trigger: string }[] = [];

  constructor(c: KubeClients, az: AzureClients, o: NodeImageOptions) {
    this.c = c;
    this.az = az;
    this.o = o;
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  /** The executor's fallback hook. */
  readonly fallback = async (n: PlanNode, reason: string, ctx?: FallbackContext): Promise<FallbackResult> => {
    const failedReboot = ctx?.failedReboot ?? n.method !== 'node-image-upgrade';
    if (failedReboot && !this.o.onFailedReboot)
      return {
        result: 'unavailable',
        detail: 'the node image upgrade fallback is off (azure-node-image-fallback)',
      };
    if (!n.providerID.toLowerCase().startsWith('azure://'))
      return {
        result: 'unavailable',
        detail: `${n.name} is not an AKS node (providerID ${n.providerID || 'none'})`,
      };
    let p = this.pools.get(n.pool);
    const first = !p;
    if (!p) {
      p = this.upgradePool(n, reason, failedReboot, ctx?.checkLock);
      this.pools.set(n.pool, p);
    }
    const r = await p;
    if (r.result !== 'handled')
      return { result: r.result, detail: first ? r.detail : `${r.detail} (found for ${r.trigger})` };
    await this.verifyNode(n, r.image!);
    return {
      result: 'handled',
      detail: first
        ? r.detail
        : `the node image upgrade of pool ${n.pool} to ${r.image} earlier in this run (for ${r.trigger})`,
    };
  };

  private async upgradePool(
    n: PlanNode,
    reason: string,
    failedReboot: boolean,
    checkLock?: () => void,
  ): Promise<PoolResult> {
    const { resourceGroup: rg, name: cluster } = this.az.cluster;
    const name = n.pool;
    const what = `node image upgrade of pool ${name} in AKS cluster ${rg}/${cluster}`;
    let pool, profile;
    try {
      pool = await this.az.aks.agentPools.get(rg, cluster, name);
      profile = await this.az.aks.agentPools.getUpgradeProfile(rg, cluster, name);
    } catch (e) {
      throw explainAzureError(e, `read pool ${name} for its ${what.split(' of ')[0]}`);
    }
    if (pool.typePropertiesType && pool.typePropertiesType !== 'VirtualMachineScaleSets') {
      return {
        result: 'unavailable',
        detail: `pool ${name} is a ${pool.typePropertiesType} pool; AKS node image upgrades need a VirtualMachineScaleSets pool`,
        trigger: n.name,
      };
    }
    const from = pool.nodeImageVersion ?? '';
    const to = profile.latestNodeImageVersion ?? '';
    if (!to) throw new Error(`${what}: AKS reports no latest node image version for the pool`);
    if (from === to && !failedReboot) {
      this.log(`pool ${name} already runs the latest node image ${to}: nothing to upgrade`);
      return {
        result: 'up-to-date',
        detail: `pool ${name} already runs the latest node image ${to}; nothing to upgrade`,
        trigger: n.name,
      };
    }
    const settings = describeUpgradeSettings(pool.upgradeSettings);
    this.log(
      `${name}: ${reason}: upgrading the node image of pool ${name} ${from} -> ${to}; pool-wide, every node is reimaged (local disk data is lost), following its upgradeSettings (${settings})`,
    );

    const abort = new AbortController();
    let why = '';
    const deadline = Date.now() + this.o.timeoutSeconds * 1000;
    const watch = setInterval(() => {
      try {
        checkLock?.();
        if (Date.now() > deadline)
          throw new Error(
            `it did not finish within ${this.o.timeoutSeconds}s (azure-node-image-timeout); it may still be running in Azure`,
          );
      } catch (e) {
        why = e instanceof Error ? e.message : String(e);
        abort.abort(new Error(why));
      }
    }, 500);
    const poller = this.az.aks.agentPools.upgradeNodeImageVersion(rg, cluster, name, {
      abortSignal: abort.signal,
      ...(this.az.pollMs ? { updateIntervalInMs: this.az.pollMs } : {}),
    });
    try {
      try {
        await poller.submitted();
      } catch (e) {
        throw explainAzureError(e, `${what} was not accepted (nothing was upgraded)`);
      }
      this.log(`${name}: AKS accepted the node image upgrade; waiting for it to finish`);
      try {
        await poller.pollUntilDone({ abortSignal: abort.signal });
      } catch (e) {
        // Some of the pool's nodes may already run the new image: say where to look.
        const look = `. The pool may be partly upgraded: see \`az aks nodepool show -g ${rg} --cluster-name ${cluster} -n ${name} --query "[nodeImageVersion, provisioningState]"\` and \`kubectl get nodes -L kubernetes.azure.com/node-image-version\``;
        if (why) throw new Error(`${what} was started, but ${why}${look}`);
        const err = explainAzureError(e, `${what} was started, but did not succeed`);
        err.message += look;
        throw err;
      }
    } finally {
      clearInterval(watch);
    }
    let after;
    try {
      after = await this.az.aks.agentPools.get(rg, cluster, name);
    } catch (e) {
      throw explainAzureError(e, `read pool ${name} after its node image upgrade`);
    }
    if (after.nodeImageVersion !== to)
      throw new Error(
        `${what} reported success, but the pool runs node image ${after.nodeImageVersion ?? 'unknown'}, not ${to}`,
      );
    await this.verifyPool(name, to);
    this.upgraded.push({ pool: name, from, to, trigger: n.name });
    return {
      result: 'handled',
      image: to,
      trigger: n.name,
      detail: `a node image upgrade of pool ${name} (${from} -> ${to}; pool-wide, every node reimaged, local disk data lost; ${settings})`,
    };
  }

  /** Every node of the pool shows the new image and is Ready. */
  private async verifyPool(pool: string, image: string): Promise<void> {
    const deadline = Date.now() + (this.o.verifyTimeoutMs ?? 10 * 60_000);
    for (;;) {
      const nodes = (await listAll((page) => this.c.core.listNode(page))).filter((x) => poolOf(x) === pool);
      const behind = nodes
        .filter((x) => x.metadata?.labels?.[NODE_IMAGE_LABEL] !== image || !isReady(x))
        .map((x) => x.metadata!.name!);
      if (!behind.length) return;
      if (Date.now() > deadline)
        throw new Error(
          `after the node image upgrade of pool ${pool}, these nodes do not show image ${image} and Ready: ${behind.join(', ')}`,
        );
      await sleep(1000);
    }
  }

  private async verifyNode(n: PlanNode, image: string): Promise<void> {
    let node: k8s.V1Node;
    try {
      node = await this.c.core.readNode({ name: n.name });
    } catch {
      throw new UserError(
        `${n.name} is gone after the node image upgrade of pool ${n.pool} (AKS may have replaced it)`,
      );
    }
    const label = node.metadata?.labels?.[NODE_IMAGE_LABEL];
    if (label !== image)
      throw new Error(
        `${n.name} shows node image ${label ?? 'none'} after the upgrade of pool ${n.pool} to ${image}`,
      );
    if (node.status?.nodeInfo?.bootID === n.bootID)
      throw new Error(`${n.name} has the boot ID it had before the node image upgrade: it was not reimaged`);
  }
}
