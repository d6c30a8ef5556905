// The planner, pure: (cluster snapshot, detector findings, options) -> Plan. No I/O, no clock.
import type * as k8s from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { isAksNode } from '../cluster/snapshot.ts';
import { isControlPlane, isReady, osOf, poolOf } from '../cluster/node.ts';
import { parseHistoryItem, type ProbeResult } from '../detect/probe-script.ts';
import type { Findings } from '../detect/types.ts';
import { compareKernelVersions, newestKernel } from '../detect/kernel.ts';
import type { DrainOptions } from '../drain/filters.ts';
import { parseSelector, matches, type Selector } from '../kube/selector.ts';
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
  snapshot: ClusterSnapshot,
  options: Pick<PlanOptions, 'nodeSelector'>,
): { considered: k8s.V1Node[]; probe: string[] } {
  const sel = parseSelector(options.nodeSelector, 'node selector');
  const considered = snapshot.nodes.filter((n) => matches(sel, n.metadata?.labels));
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

function upgradeSettingsText(settings: AksPoolFacts['upgradeSettings']): string {
  const unavailable = settings.maxUnavailable ? `, max unavailable ${settings.maxUnavailable}` : '';
  return (
    `max surge ${settings.maxSurge ?? 'AKS default'}${unavailable}, ` +
    `drain timeout ${settings.drainTimeoutInMinutes ?? 30} min, ` +
    `soak ${settings.nodeSoakDurationInMinutes ?? 0} min`
  );
}

function reimageRisk(pool: string, facts: AksPoolFacts | undefined): Risk {
  const settings = facts ? upgradeSettingsText(facts.upgradeSettings) : 'max surge, drain timeout, soak';
  return {
    kind: 'reimage-data-loss',
    blocking: false,
    detail:
      `a node image upgrade is pool-wide: every node of pool ${pool} is reimaged (local disk data is ` +
      `lost), following the pool's upgradeSettings (${settings})`,
  };
}

/** What the planner knows about the whole cluster while it looks at one node. */
interface PlanContext {
  snapshot: ClusterSnapshot;
  found: Findings;
  options: PlanOptions;
  aks: AksFacts | undefined;
  blocking: Selector;
  podsByNode: Map<string, k8s.V1Pod[]>;
  /** The cluster's only control-plane node, if it has exactly one. */
  soleControlPlane: string | undefined;
}

/** One node's place in the plan: planned (with its steps), up to date, or not inspected. */
type NodeVerdict = { planned: Omit<PlanNode, 'order'> } | { upToDate: true } | { unknown: UnknownNode };
type UnknownNode = Plan['unknown'][number];

/** `found`: what the configured detectors found (src/plan/inspect.ts); nothing else is evidence. */
export function buildPlan(
  snapshot: ClusterSnapshot,
  found: Findings,
  options: PlanOptions,
  aks?: AksFacts,
): Plan {
  const context = planContext(snapshot, found, options, aks);
  const { considered } = candidateNodes(snapshot, options);
  const unavailable = snapshot.nodes
    .filter((n) => !isReady(n) || n.spec?.unschedulable)
    .map((n) => n.metadata!.name!)
    .sort(cmp);
  const nodes: Omit<PlanNode, 'order'>[] = [];
  const upToDate: string[] = [];
  const unknown: Plan['unknown'] = [];
  for (const node of considered) {
    const verdict = planNode(node, context);
    if ('planned' in verdict) nodes.push(verdict.planned);
    else if ('unknown' in verdict) unknown.push(verdict.unknown);
    else upToDate.push(node.metadata!.name!);
  }
  return {
    version: PLAN_VERSION,
    cluster: snapshot.identity,
    ...(aks ? { aks: planAks(aks) } : {}),
    options: {
      order: options.order,
      deleteEmptyDirData: options.drain.deleteEmptyDirData,
      force: options.drain.force,
      blockingPodSelector: options.blockingPodSelector,
    },
    nodes: order(nodes, options.order),
    upToDate: upToDate.sort(cmp),
    unknown: unknown.sort((a, b) => cmp(a.name, b.name)),
    ...(unavailable.length ? { unavailable } : {}),
  };
}

function planContext(
  snapshot: ClusterSnapshot,
  found: Findings,
  options: PlanOptions,
  aks: AksFacts | undefined,
): PlanContext {
  const podsByNode = new Map<string, k8s.V1Pod[]>();
  for (const pod of snapshot.pods) {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) continue;
    let list = podsByNode.get(nodeName);
    if (!list) podsByNode.set(nodeName, (list = []));
    list.push(pod);
  }
  const controlPlanes = snapshot.nodes.filter(isControlPlane);
  return {
    snapshot,
    found,
    options,
    aks,
    blocking: parseSelector(options.blockingPodSelector, 'blocking pod selector'),
    podsByNode,
    soleControlPlane: controlPlanes.length === 1 ? controlPlanes[0]!.metadata!.name! : undefined,
  };
}

/** The AKS facts a plan records (the channel and the maintenance window, not the pools). */
function planAks(aks: AksFacts): NonNullable<Plan['aks']> {
  return {
    nodeOSUpgradeChannel: aks.nodeOSUpgradeChannel,
    ...(aks.maintenance ? { maintenance: aks.maintenance } : {}),
  };
}

/** What every planned node records, whatever its update. */
function nodeBase(node: k8s.V1Node) {
  const info = node.status?.nodeInfo;
  const history = readDurations(node);
  return {
    name: node.metadata!.name!,
    providerID: node.spec?.providerID ?? '',
    pool: poolOf(node),
    bootID: info?.bootID ?? '',
    nodeImageVersion: node.metadata?.labels?.[NODE_IMAGE_LABEL] ?? '',
    osImage: info?.osImage ?? '',
    ...(history ? { history } : {}),
    ...(isControlPlane(node) ? { role: 'control-plane' as const } : {}),
  };
}
type NodeBase = ReturnType<typeof nodeBase>;

/** The AKS pool's node image against the latest AKS offers (only when the integration is on). */
function poolImage(base: NodeBase, aks: AksFacts | undefined) {
  const facts = aks?.pools[base.pool];
  const image = base.nodeImageVersion || facts?.nodeImageVersion || '';
  const latest = facts?.latestNodeImageVersion ?? '';
  return { facts, image, latest, behind: facts !== undefined && latest !== '' && image !== latest };
}

function planNode(node: k8s.V1Node, context: PlanContext): NodeVerdict {
  const base = nodeBase(node);
  const running = node.status?.nodeInfo?.kernelVersion ?? '';
  const pool = poolImage(base, context.aks);
  const { aks } = context;
  if (osOf(node) === 'windows') return windowsVerdict(node, base, running, context);
  if (aks && REIMAGE_CHANNELS.includes(aks.nodeOSUpgradeChannel) && pool.behind && isAksNode(node)) {
    const detail =
      `pool ${base.pool} runs node image ${pool.image || 'unknown'}, AKS's latest is ${pool.latest}; ` +
      `on the ${aks.nodeOSUpgradeChannel} channel AKS patches by reimaging and no reboot sentinel appears`;
    return imageUpgrade(node, base, running, context, { source: 'node-image', detail });
  }
  return rebootVerdict(node, base, running, context);
}

function preflightOf(node: k8s.V1Node, context: PlanContext) {
  const { snapshot, options } = context;
  return preflight({
    node,
    podsByNode: context.podsByNode,
    pdbs: snapshot.pdbs,
    otherNodes: snapshot.nodes.filter((other) => other !== node && osOf(other) === 'linux'),
    drain: options.drain,
    blockingPodSelector: context.blocking,
  });
}

/** Windows nodes are never rebooted in place: a node image upgrade, or up to date, or unknown. */
function windowsVerdict(
  node: k8s.V1Node,
  base: NodeBase,
  running: string,
  context: PlanContext,
): NodeVerdict {
  const { name, pool } = base;
  if (!isAksNode(node)) {
    const reason =
      'Windows node outside AKS: it has no sentinel to read and no node image upgrade to fall back on';
    return { unknown: { name, pool, reason } };
  }
  const image = poolImage(base, context.aks);
  if (image.facts && image.latest && !image.behind) return { upToDate: true };
  const latest = image.latest ? `, latest ${image.latest}` : '';
  const detail =
    'Windows nodes are never rebooted in place; patches arrive with a new node image ' +
    `(current ${base.nodeImageVersion || 'unknown'}${latest})`;
  return imageUpgrade(node, base, running, context, { source: 'windows', detail });
}

/** A planned node image upgrade of the node's pool, for the reason `evidence` gives. */
function imageUpgrade(
  node: k8s.V1Node,
  base: NodeBase,
  running: string,
  context: PlanContext,
  evidence: Evidence,
): NodeVerdict {
  const { evictions, risks } = preflightOf(node, context);
  risks.push(reimageRisk(base.pool, context.aks?.pools[base.pool]));
  return {
    planned: {
      ...base,
      os: osOf(node),
      kernel: { running, next: running },
      update: 'node-image-upgrade',
      evidence: [evidence],
      packages: { requiringReboot: [], requiringRebootTotal: 0, sinceBoot: [], sinceBootTotal: 0 },
      evictions,
      risks: sortRisks(risks),
    },
  };
}
/** The node's probe result, or why the node cannot be judged without one. */
function probeRead(
  node: k8s.V1Node,
  base: NodeBase,
  kured: Evidence[],
  context: PlanContext,
): { unknown: UnknownNode } | { result: ProbeResult | undefined } {
  const { name, pool } = base;
  const outcome = context.found.probes.get(name);
  if (!outcome && context.options.probeEnabled) {
    if (kured.length === 0) {
      const reason = isReady(node) ? 'not probed' : 'the node is not Ready, so it could not be probed';
      return { unknown: { name, pool, reason } };
    }
  } else if (outcome && !outcome.ok) {
    return { unknown: { name, pool, reason: outcome.reason } };
  }
  const result = outcome?.ok ? outcome.result : undefined;
  if (result && result.bootId && base.bootID && result.bootId !== base.bootID) {
    const reason =
      `the probe ran in boot ${result.bootId} but the node reports boot ${base.bootID}: ` +
      'the node rebooted during inspection';
    return { unknown: { name, pool, reason } };
  }
  return { result };
}

function sentinelEvidence(sentinel: ProbeResult['sentinel']): Evidence {
  if (sentinel.via === 'command')
    return { source: 'sentinel-command', detail: `the sentinel command exited 0` };
  return { source: 'sentinel', detail: `${sentinel.path} exists` };
}

/** Reboot evidence in the plan's order: the sentinel, kured's annotations, a newer installed kernel. */
function rebootEvidence(result: ProbeResult | undefined, kured: Evidence[], running: string) {
  const evidence: Evidence[] = [...kured];
  if (result?.sentinel.present) evidence.unshift(sentinelEvidence(result.sentinel));
  const candidates = [
    ...(result?.kernels.items ?? []),
    ...(result?.pkgs.items ?? []).map(kernelFromPackage).filter((k): k is string => !!k),
  ];
  const newest = newestKernel(candidates);
  const newer = newest !== undefined && running !== '' && compareKernelVersions(newest, running) > 0;
  if (newer)
    evidence.push({
      source: 'installed-kernel',
      detail: `kernel ${newest} is installed; ${running} is running`,
    });
  return { evidence, next: newer ? newest : undefined };
}

function packagesOf(result: ProbeResult | undefined): PlanNode['packages'] {
  return {
    requiringReboot: result?.pkgs.items ?? [],
    requiringRebootTotal: result?.pkgs.total ?? 0,
    sinceBoot: (result?.history.items ?? []).map(parseHistoryItem),
    sinceBootTotal: result?.history.total ?? 0,
  };
}

/** A Linux node rebooted in place when the detectors found a reason, else up to date or unknown. */
function rebootVerdict(node: k8s.V1Node, base: NodeBase, running: string, context: PlanContext): NodeVerdict {
  const kured = context.found.evidence.get(base.name) ?? [];
  const read = probeRead(node, base, kured, context);
  if ('unknown' in read) return read;
  const { result } = read;
  const { evidence, next } = rebootEvidence(result, kured, running);
  const needs =
    evidence.some((e) => e.source !== 'installed-kernel') ||
    (context.options.rebootOnNewerKernel && next !== undefined);
  if (!needs) return { upToDate: true };
  const { evictions, risks } = preflightOf(node, context);
  if (context.soleControlPlane === base.name) risks.push(apiOutageRisk());
  if (next === undefined) {
    risks.push({
      kind: 'kernel-unchanged',
      blocking: false,
      detail: `no newer kernel is installed: the node reboots into ${running} (user-space updates only)`,
    });
  }
  const fixes = fixesFromProbe(result);
  return {
    planned: {
      ...base,
      os: 'linux',
      kernel: { running, next: next ?? running },
      update: 'reboot',
      evidence,
      ...(result && result.sentinel.mtime > 0
        ? { pendingSince: new Date(result.sentinel.mtime * 1000).toISOString() }
        : {}),
      packages: packagesOf(result),
      ...(fixes ? { fixes } : {}),
      evictions,
      risks: sortRisks(risks),
    },
  };
}

function sortRisks(risks: Risk[]): Risk[] {
  return [...risks].sort(
    (a, b) => Number(b.blocking) - Number(a.blocking) || cmp(a.kind, b.kind) || cmp(a.detail, b.detail),
  );
}

type Unordered = Omit<PlanNode, 'order'>;
type Comparison = (left: Unordered, right: Unordered) => number;

/**
 * One node at a time. pool: pool by pool (pools with fewer risks first), fewest risks first within
 * a pool; risk: fewest risks first across pools; name: by name. Reboots come before node image
 * upgrades, which are pool-wide and go last, pool by pool. Control-plane nodes are the last reboots.
 */
export function order(nodes: Unordered[], how: PlanOrder): PlanNode[] {
  const within = comparison(nodes, how);
  // Control-plane nodes last: a problem shows on a worker first, and the API stays up longest.
  const last = (node: Unordered) => Number(node.role === 'control-plane');
  const reboots = nodes
    .filter((n) => n.update === 'reboot')
    .sort((a, b) => last(a) - last(b) || within(a, b));
  const images = nodes
    .filter((n) => n.update === 'node-image-upgrade')
    .sort((a, b) => cmp(a.pool, b.pool) || cmp(a.name, b.name));
  return [...reboots, ...images].map((n, i) => ({ ...n, order: i + 1 }));
}

/** The order of reboots the `order` setting names. */
function comparison(nodes: Unordered[], how: PlanOrder): Comparison {
  // A blocking risk weighs as much as a hundred others.
  const riskCount = (node: Unordered) =>
    node.risks.length + node.risks.filter((r) => r.blocking).length * 100;
  const byName: Comparison = (left, right) => cmp(left.name, right.name);
  const byRisk: Comparison = (left, right) => riskCount(left) - riskCount(right) || byName(left, right);
  if (how === 'risk') return (left, right) => byRisk(left, right) || cmp(left.pool, right.pool);
  if (how !== 'pool') return byName;
  const poolRisk = new Map<string, number>();
  for (const node of nodes) poolRisk.set(node.pool, (poolRisk.get(node.pool) ?? 0) + riskCount(node));
  return (left, right) =>
    poolRisk.get(left.pool)! - poolRisk.get(right.pool)! || cmp(left.pool, right.pool) || byRisk(left, right);
}
