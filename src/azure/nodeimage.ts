// AKS node image upgrade, the update for what a reboot cannot fix: planned (Windows pools; pools
// on the SecurityPatch/NodeImage channels with an older image) and the fallback when a node's
// in-place reboot fails. It is pool-wide: AKS surges, cordons, drains and reimages every node
// of the pool (local disk data is lost) following the pool's upgradeSettings (max surge,
// drain timeout, soak). One upgrade per pool per run: the pool's other nodes share its result.
// The operation is polled to its end while the run lock is held (checked between polls), then
// the pool's node image version and every node of the pool are verified.
import type * as k8s from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors.ts';
import type { KubeClients } from '../kube/client.ts';
import { listAll } from '../cluster/snapshot.ts';
import { NODE_IMAGE_LABEL } from '../kube/labels.ts';
import { poolOf, isReady } from '../cluster/node.ts';
import type { PlanNode } from '../plan/types.ts';
import type { NodeImageRequest, NodeImageResult, NodeImageUpgrade } from '../execute/types.ts';
import type { AgentPool } from '@azure/arm-containerservice';
import { explainAzureError, type AzureClients } from './clients.ts';

export interface UpgradeSettingsText {
  maxSurge?: string | undefined;
  maxUnavailable?: string | undefined;
  drainTimeoutInMinutes?: number | undefined;
  nodeSoakDurationInMinutes?: number | undefined;
}

/** "max surge 33%, drain timeout 30 min, soak 0 min" with AKS's defaults for what is unset. */
export function describeUpgradeSettings(settings: UpgradeSettingsText | undefined): string {
  return [
    `max surge ${settings?.maxSurge ?? 'AKS default'}`,
    ...(settings?.maxUnavailable ? [`max unavailable ${settings.maxUnavailable}`] : []),
    `drain timeout ${settings?.drainTimeoutInMinutes ?? 30} min`,
    `soak ${settings?.nodeSoakDurationInMinutes ?? 0} min`,
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

export class NodeImageUpgrader implements NodeImageUpgrade {
  private readonly kube: KubeClients;
  private readonly azure: AzureClients;
  private readonly options: NodeImageOptions;
  private readonly pools = new Map<string, Promise<PoolResult>>();
  /** Pools upgraded by this run, in order (for reports and tests). */
  readonly upgraded: { pool: string; from: string; to: string; trigger: string }[] = [];

  constructor(kube: KubeClients, azure: AzureClients, options: NodeImageOptions) {
    this.kube = kube;
    this.azure = azure;
    this.options = options;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** Upgrades the node image of the node's pool once per run; the pool's other nodes share it. */
  async upgrade(planned: PlanNode, request: NodeImageRequest): Promise<NodeImageResult> {
    if (request.failedReboot && !this.options.onFailedReboot)
      return {
        result: 'unavailable',
        detail: 'the node image upgrade fallback is off (azure-node-image-fallback)',
      };
    if (!planned.providerID.toLowerCase().startsWith('azure://'))
      return {
        result: 'unavailable',
        detail: `${planned.name} is not an AKS node (providerID ${planned.providerID || 'none'})`,
      };
    let pending = this.pools.get(planned.pool);
    const first = !pending;
    if (!pending) {
      pending = this.upgradePool(planned, request);
      this.pools.set(planned.pool, pending);
    }
    const pool = await pending;
    if (pool.result !== 'handled') {
      const detail = first ? pool.detail : `${pool.detail} (found for ${pool.trigger})`;
      return { result: pool.result, detail };
    }
    await this.verifyNode(planned, pool.image!);
    const shared = `the node image upgrade of pool ${planned.pool} to ${pool.image} earlier in this run`;
    return { result: 'handled', detail: first ? pool.detail : `${shared} (for ${pool.trigger})` };
  }

  private async upgradePool(planned: PlanNode, request: NodeImageRequest): Promise<PoolResult> {
    const name = planned.pool;
    const trigger = planned.name;
    const { pool, latest: to } = await this.readPool(name);
    const type = pool.typePropertiesType;
    if (type && type !== 'VirtualMachineScaleSets') {
      const need = 'AKS node image upgrades need a VirtualMachineScaleSets pool';
      const detail = `pool ${name} is a ${type} pool; ${need}`;
      return { result: 'unavailable', detail, trigger };
    }
    const from = pool.nodeImageVersion ?? '';
    if (!to) throw new Error(`${this.what(name)}: AKS reports no latest node image version for the pool`);
    if (from === to && !request.failedReboot) {
      this.log(`pool ${name} already runs the latest node image ${to}: nothing to upgrade`);
      const detail = `pool ${name} already runs the latest node image ${to}; nothing to upgrade`;
      return { result: 'up-to-date', detail, trigger };
    }
    const settings = describeUpgradeSettings(pool.upgradeSettings);
    this.log(
      `${name}: ${request.reason}: upgrading the node image of pool ${name} ${from} -> ${to}; ` +
        'pool-wide, every node is reimaged (local disk data is lost), ' +
        `following its upgradeSettings (${settings})`,
    );
    await this.runUpgrade(name, request.checkLock);
    await this.checkPoolImage(name, to);
    await this.verifyPool(name, to);
    this.upgraded.push({ pool: name, from, to, trigger });
    return {
      result: 'handled',
      image: to,
      trigger,
      detail:
        `a node image upgrade of pool ${name} (${from} -> ${to}; ` +
        `pool-wide, every node reimaged, local disk data lost; ${settings})`,
    };
  }

  private what(pool: string): string {
    const { resourceGroup, name } = this.azure.cluster;
    return `node image upgrade of pool ${pool} in AKS cluster ${resourceGroup}/${name}`;
  }

  /** The pool and the latest node image AKS offers it. */
  private async readPool(name: string): Promise<{ pool: AgentPool; latest: string }> {
    const { resourceGroup, name: cluster } = this.azure.cluster;
    try {
      const pool = await this.azure.aks.agentPools.get(resourceGroup, cluster, name);
      const profile = await this.azure.aks.agentPools.getUpgradeProfile(resourceGroup, cluster, name);
      return { pool, latest: profile.latestNodeImageVersion ?? '' };
    } catch (error) {
      throw explainAzureError(error, `read pool ${name} for its node image upgrade`);
    }
  }

  /**
   * Starts the upgrade and polls it to its end, while the run lock is held (checked between
   * polls) and within azure-node-image-timeout.
   */
  private async runUpgrade(name: string, checkLock?: () => void): Promise<void> {
    const { resourceGroup, name: cluster } = this.azure.cluster;
    const what = this.what(name);
    const abort = new AbortController();
    let why = '';
    const timeout = this.options.timeoutSeconds;
    const deadline = Date.now() + timeout * 1000;
    const watch = setInterval(() => {
      try {
        checkLock?.();
        if (Date.now() > deadline)
          throw new Error(
            `it did not finish within ${timeout}s (azure-node-image-timeout); ` +
              'it may still be running in Azure',
          );
      } catch (error) {
        why = error instanceof Error ? error.message : String(error);
        abort.abort(new Error(why));
      }
    }, 500);
    const poller = this.azure.aks.agentPools.upgradeNodeImageVersion(resourceGroup, cluster, name, {
      abortSignal: abort.signal,
      ...(this.azure.pollMs ? { updateIntervalInMs: this.azure.pollMs } : {}),
    });
    try {
      try {
        await poller.submitted();
      } catch (error) {
        throw explainAzureError(error, `${what} was not accepted (nothing was upgraded)`);
      }
      this.log(`${name}: AKS accepted the node image upgrade; waiting for it to finish`);
      try {
        await poller.pollUntilDone({ abortSignal: abort.signal });
      } catch (error) {
        // Some of the pool's nodes may already run the new image: say where to look.
        const look = this.whereToLook(name);
        if (why) throw new Error(`${what} was started, but ${why}${look}`, { cause: error });
        const explained = explainAzureError(error, `${what} was started, but did not succeed`);
        explained.message += look;
        throw explained;
      }
    } finally {
      clearInterval(watch);
    }
  }

  private whereToLook(name: string): string {
    const { resourceGroup, name: cluster } = this.azure.cluster;
    return (
      '. The pool may be partly upgraded: see ' +
      `\`az aks nodepool show -g ${resourceGroup} --cluster-name ${cluster} -n ${name} ` +
      '--query "[nodeImageVersion, provisioningState]"` and ' +
      '`kubectl get nodes -L kubernetes.azure.com/node-image-version`'
    );
  }

  /** The operation said it succeeded: the pool must say so too. */
  private async checkPoolImage(name: string, image: string): Promise<void> {
    const { resourceGroup, name: cluster } = this.azure.cluster;
    let after;
    try {
      after = await this.azure.aks.agentPools.get(resourceGroup, cluster, name);
    } catch (error) {
      throw explainAzureError(error, `read pool ${name} after its node image upgrade`);
    }
    if (after.nodeImageVersion !== image)
      throw new Error(
        `${this.what(name)} reported success, ` +
          `but the pool runs node image ${after.nodeImageVersion ?? 'unknown'}, not ${image}`,
      );
  }

  /** Every node of the pool shows the new image and is Ready. */
  private async verifyPool(pool: string, image: string): Promise<void> {
    const deadline = Date.now() + (this.options.verifyTimeoutMs ?? 10 * 60_000);
    for (;;) {
      const nodes = await listAll((page) => this.kube.core.listNode(page));
      const behind = nodes
        .filter((node) => poolOf(node) === pool)
        .filter((node) => node.metadata?.labels?.[NODE_IMAGE_LABEL] !== image || !isReady(node))
        .map((node) => node.metadata!.name!);
      if (!behind.length) return;
      if (Date.now() > deadline)
        throw new Error(
          `after the node image upgrade of pool ${pool}, ` +
            `these nodes do not show image ${image} and Ready: ${behind.join(', ')}`,
        );
      await sleep(1000);
    }
  }

  private async verifyNode(planned: PlanNode, image: string): Promise<void> {
    const { name, pool } = planned;
    let node: k8s.V1Node;
    try {
      node = await this.kube.core.readNode({ name });
    } catch {
      throw new UserError(
        `${name} is gone after the node image upgrade of pool ${pool} (AKS may have replaced it)`,
      );
    }
    const label = node.metadata?.labels?.[NODE_IMAGE_LABEL];
    if (label !== image)
      throw new Error(
        `${name} shows node image ${label ?? 'none'} after the upgrade of pool ${pool} to ${image}`,
      );
    if (node.status?.nodeInfo?.bootID === planned.bootID)
      throw new Error(`${name} has the boot ID it had before the node image upgrade: it was not reimaged`);
  }
}
