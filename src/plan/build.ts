// The planner, pure: (cluster snapshot, detector findings, options) -> Plan. No I/O, no clock.
import type * as k8s from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { isAksNode } from '../cluster/snapshot.ts';
import { isControlPlane, isReady, osOf, poolOf } from '../cluster/node.ts';
import { parseHistoryItem } from '../detect/probe-script.ts';
import type { Findings } from '../detect/types.ts';
import { compareKernelVersions, newestKernel } from '../detect/kernel.ts';
import type { DrainOptions } from '../drain/filters.ts';
import { parseSelector, matches } from '../kube/selector.ts';
import { NODE_IMAGE_LABEL } from '../kube/labels.ts';
import { preflight, cmp } from './preflight.ts';
import { fixesFromProbe } from './fixes.ts';
import { readDurations } from '../estimate/history.ts';
import {
  PLAN_VERSION,
  type AksFacts,
  type AksPoolFacts,
  type Evidence,
  type Plan,
  type PlanNode,
  type Risk,
} from './types.ts';

export type PlanOrder = 'pool' | 'risk' | 'name';

export interface PlanOptions {
  order: PlanOrder;
  drain: DrainOptions;
  /** kured's --blocking-pod-selector: pods that hold their node's reboot. */
  blockingPodSelector: string;
  /** Only nodes matching this label selector are considered. */
  nodeSelector: string;
  /** A newer kernel installed than the one running counts as needing a reboot, with no sentinel. */
  rebootOnNewerKernel: boolean;
  /** Host probes ran: a Linux node without an outcome is then unknown, not up to date. */
  probeEnabled: boolean;
}

/** The warning for the cluster's only control-plane node (kubeadm's usual set-up). */
function apiOutageRisk(): Risk {
  return {
    kind: 'api-server-outage',
    blocking: false,
    detail:
      'this is the only control-plane node: while it reboots the Kubernetes API server is down ' +
      '(typically a minute or two). Running pods keep running, but nothing is scheduled, scaled or ' +
      'repaired meanwhile; the run waits for the API to come back (up to reboot-timeout), then ' +
      'verifies the node. Exclude it with node-selector to reboot it by hand',
  };
}

/** Nodes the planner looks at (node selector applied), and which of them to probe. */
export function candidateNodes(
  s: ClusterSnapshot,
  o: Pick<PlanOptions, 'nodeSelector'>,
): { considered: k8s.V1Node[]; probe: string[] } {
  const sel = parseSelector(o.nodeSelector, 'node selector');
  const considered = s.nodes.filter((n) => matches(sel, n.metadata?.labels));
  const probe = considered.filter((n) => osOf(n) === 'linux' && isReady(n)).map((n) => n.metadata!.name!);
  return { considered, probe };
}

/** "linux-image-5.15.0-1081-azure" -> "5.15.0-1081-azure" (Debian/Ubuntu kernel packages). */
function kernelFromPackage(pkg: string): string | undefined {
  const m = pkg.match(/^linux-image-(?:unsigned-)?(\d+\.\d+[^:]*)$/);
  return m?.[1];
}

/** AKS node OS upgrade channels on which AKS patches by reimaging: no reboot sentinel ever appears. */
export const REIMAGE_CHANNELS = ['SecurityPatch', 'NodeImage'];

function upgradeSettingsText(u: AksPoolFacts['upgradeSettings']): string {
  return `max surge ${u.maxSurge ?? 'AKS default'}${u.maxUnavailable ? `, max unavailable ${u.maxUnavailable}` : ''}, drain timeout ${u.drainTimeoutInMinutes ?? 30} min, soak ${u.nodeSoakDurationInMinutes ?? 0} min`;
}

function reimageRisk(pool: string, facts: AksPoolFacts | undefined): Risk {
  return {
    kind: 'reimage-data-loss',
    blocking: false,
    detail: `a node image upgrade is pool-wide: every node of pool ${pool} is reimaged (local disk data is lost), following the pool's upgradeSettings (${facts ? upgradeSettingsText(facts.upgradeSettings) : 'max surge, drain timeout, soak'})`,
  };
}

/** `found`: what the configured detectors found (src/plan/inspect.ts); nothing else is evidence. */
export function buildPlan(s: ClusterSnapshot, found: Findings, o: PlanOptions, aks?: AksFacts): Plan {
  const blocking = parseSelector(o.blockingPodSelector, 'blocking pod selector');
  const { considered } = candidateNodes(s, o);
  const podsByNode = new Map<string, k8s.V1Pod[]>();
  for (const p of s.pods) {
    const n = p.spec?.nodeName;
    if (!n) continue;
    let list = podsByNode.get(n);
    if (!list) podsByNode.set(n, (list = []));
    list.push(p);
  }

  const controlPlanes = s.nodes.filter(isControlPlane);
  const soleControlPlane = controlPlanes.length === 1 ? controlPlanes[0]!.metadata!.name! : undefined;
  const unavailable = s.nodes
    .filter((n) => !isReady(n) || n.spec?.unschedulable)
    .map((n) => n.metadata!.name!)
    .sort(cmp);
  const nodes: Omit<PlanNode, 'order'>[] = [];
  const upToDate: string[] = [];
  const unknown: Plan['unknown'] = [];

  for (const n of considered) {
    const name = n.metadata!.name!;
    const pool = poolOf(n);
    const info = n.status?.nodeInfo;
    const running = info?.kernelVersion ?? '';
    const base = {
      name,
      providerID: n.spec?.providerID ?? '',
      pool,
      bootID: info?.bootID ?? '',
      nodeImageVersion: n.metadata?.labels?.[NODE_IMAGE_LABEL] ?? '',
      osImage: info?.osImage ?? '',
      ...(readDurations(n) ? { history: readDurations(n)! } : {}),
      ...(isControlPlane(n) ? { role: 'control-plane' as const } : {}),
    };
    const others = s.nodes.filter((x) => x !== n && osOf(x) === 'linux');
    const pf = () =>
      preflight({
        node: n,
        podsByNode,
        pdbs: s.pdbs,
        otherNodes: others,
        drain: o.drain,
        blockingPodSelector: blocking,
      });
    // AKS: the pool's node image against the latest AKS offers (only when the integration is on).
    const poolFacts = aks?.pools[pool];
    const image = base.nodeImageVersion || poolFacts?.nodeImageVersion || '';
    const latest = poolFacts?.latestNodeImageVersion ?? '';
    const imageBehind = poolFacts !== undefined && latest !== '' && image !== latest;

    if (osOf(n) === 'windows') {
      if (!isAksNode(n)) {
        unknown.push({
          name,
          pool,
          reason:
            'Windows node outside AKS: it has no sentinel to read and no node image upgrade to fall back on',
        });
        continue;
      }
      if (poolFacts && latest && !imageBehind) {
        upToDate.push(name);
        continue;
      }
      const { evictions, risks } = pf();
      risks.push(reimageRisk(pool, poolFacts));
      nodes.push({
        ...base,
        os: 'windows',
        kernel: { running, next: running },
        method: 'node-image-upgrade',
        evidence: [
          {
            source: 'windows',
            detail: `Windows nodes are never rebooted in place; patches arrive with a new node image (current ${base.nodeImageVersion || 'unknown'}${latest ? `, latest ${latest}` : ''})`,
          },
        ],
        packages: { requiringReboot: [], requiringRebootTotal: 0, sinceBoot: [], sinceBootTotal: 0 },
        evictions,
        risks: sortRisks(risks),
      });
      continue;
    }

    if (aks && REIMAGE_CHANNELS.includes(aks.nodeOSUpgradeChannel) && imageBehind && isAksNode(n)) {
      const { evictions, risks } = pf();
      risks.push(reimageRisk(pool, poolFacts));
      nodes.push({
        ...base,
        os: 'linux',
        kernel: { running, next: running },
        method: 'node-image-upgrade',
        evidence: [
          {
            source: 'node-image',
            detail: `pool ${pool} runs node image ${image || 'unknown'}, AKS's latest is ${latest}; on the ${aks.nodeOSUpgradeChannel} channel AKS patches by reimaging and no reboot sentinel appears`,
          },
        ],
        packages: { requiringReboot: [], requiringRebootTotal: 0, sinceBoot: [], sinceBootTotal: 0 },
        evictions,
        risks: sortRisks(risks),
      });
      continue;
    }

    const kured = found.evidence.get(name) ?? [];
    const outcome = found.probes.get(name);
    if (!outcome && o.probeEnabled) {
      if (kured.length === 0) {
        unknown.push({
          name,
          pool,
          reason: isReady(n) ? 'not probed' : 'the node is not Ready, so it could not be probed',
        });
        continue;
      }
    } else if (outcome && !outcome.ok) {
      unknown.push({ name, pool, reason: outcome.reason });
      continue;
    }
    const r = outcome?.ok ? outcome.result : undefined;
    if (r && r.bootId && base.bootID && r.bootId !== base.bootID) {
      unknown.push({
        name,
        pool,
        reason: `the probe ran in boot ${r.bootId} but the node reports boot ${base.bootID}: the node rebooted during inspection`,
      });
      continue;
    }

    const evidence: Evidence[] = [...kured];
    if (r?.sentinel.present) {
      evidence.unshift(
        r.sentinel.via === 'command'
          ? { source: 'sentinel-command', detail: `the sentinel command exited 0` }
          : { source: 'sentinel', detail: `${r.sentinel.path} exists` },
      );
    }
    const candidates = [
      ...(r?.kernels.items ?? []),
      ...(r?.pkgs.items ?? []).map(kernelFromPackage).filter((k): k is string => !!k),
    ];
    const newest = newestKernel(candidates);
    const newerInstalled =
      newest !== undefined && running !== '' && compareKernelVersions(newest, running) > 0;
    if (newerInstalled)
      evidence.push({
        source: 'installed-kernel',
        detail: `kernel ${newest} is installed; ${running} is running`,
      });

    const needs =
      evidence.some((e) => e.source !== 'installed-kernel') || (o.rebootOnNewerKernel && newerInstalled);
    if (!needs) {
      upToDate.push(name);
      continue;
    }
    const next = newerInstalled ? newest! : running;
    const { evictions, risks } = pf();
    if (soleControlPlane === name) risks.push(apiOutageRisk());
    if (!newerInstalled) {
      risks.push({
        kind: 'kernel-unchanged',
        blocking: false,
        detail: `no newer kernel is installed: the node reboots into ${running} (user-space updates only)`,
      });
    }
    nodes.push({
      ...base,
      os: 'linux',
      kernel: { running, next },
      method: 'reboot',
      evidence,
      ...(r && r.sentinel.mtime > 0 ? { pendingSince: new Date(r.sentinel.mtime * 1000).toISOString() } : {}),
      packages: {
        requiringReboot: r?.pkgs.items ?? [],
        requiringRebootTotal: r?.pkgs.total ?? 0,
        sinceBoot: (r?.history.items ?? []).map(parseHistoryItem),
        sinceBootTotal: r?.history.total ?? 0,
      },
      ...(fixesFromProbe(r) ? { fixes: fixesFromProbe(r)! } : {}),
      evictions,
      risks: sortRisks(risks),
    });
  }

  return {
    version: PLAN_VERSION,
    cluster: s.identity,
    ...(aks
      ? {
          aks: {
            nodeOSUpgradeChannel: aks.nodeOSUpgradeChannel,
            ...(aks.maintenance ? { maintenance: aks.maintenance } : {}),
          },
        }
      : {}),
    options: {
      order: o.order,
      deleteEmptyDirData: o.drain.deleteEmptyDirData,
      force: o.drain.force,
      blockingPodSelector: o.blockingPodSelector,
    },
    nodes: order(nodes, o.order),
    upToDate: upToDate.sort(cmp),
    unknown: unknown.sort((a, b) => cmp(a.name, b.name)),
    ...(unavailable.length ? { unavailable } : {}),
  };
}

function sortRisks(r: Risk[]): Risk[] {
  return [...r].sort(
    (a, b) => Number(b.blocking) - Number(a.blocking) || cmp(a.kind, b.kind) || cmp(a.detail, b.detail),
  );
}

/**
 * One node at a time. pool: pool by pool (pools with fewer risks first), fewest risks first within
 * a pool; risk: fewest risks first across pools; name: by name. Reboots come before node image
 * upgrades, which are pool-wide and go last, pool by pool. Control-plane nodes are the last reboots.
 */
export function order(nodes: Omit<PlanNode, 'order'>[], how: PlanOrder): PlanNode[] {
  const riskCount = (n: Omit<PlanNode, 'order'>) =>
    n.risks.length + n.risks.filter((r) => r.blocking).length * 100;
  const poolRisk = new Map<string, number>();
  for (const n of nodes) poolRisk.set(n.pool, (poolRisk.get(n.pool) ?? 0) + riskCount(n));
  const byName = (a: Omit<PlanNode, 'order'>, b: Omit<PlanNode, 'order'>) => cmp(a.name, b.name);
  const byRisk = (a: Omit<PlanNode, 'order'>, b: Omit<PlanNode, 'order'>) =>
    riskCount(a) - riskCount(b) || byName(a, b);
  const byPool = (a: Omit<PlanNode, 'order'>, b: Omit<PlanNode, 'order'>) =>
    poolRisk.get(a.pool)! - poolRisk.get(b.pool)! || cmp(a.pool, b.pool) || byRisk(a, b);
  const within =
    how === 'pool'
      ? byPool
      : how === 'risk'
        ? (a: Omit<PlanNode, 'order'>, b: Omit<PlanNode, 'order'>) => byRisk(a, b) || cmp(a.pool, b.pool)
        : byName;
  // Control-plane nodes last: a problem shows on a worker first, and the API stays up longest.
  const last = (n: Omit<PlanNode, 'order'>) => Number(n.role === 'control-plane');
  const reboots = nodes
    .filter((n) => n.method === 'reboot')
    .sort((a, b) => last(a) - last(b) || within(a, b));
  const images = nodes
    .filter((n) => n.method === 'node-image-upgrade')
    .sort((a, b) => cmp(a.pool, b.pool) || byName(a, b));
  return [...reboots, ...images].map((n, i) => ({ ...n, order: i + 1 }));
}
