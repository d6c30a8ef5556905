// The plan as GitHub Markdown, pure. Always under GitHub's 65,536-character body limit:
// when the full report is larger, it degrades in steps (package lists to counts, then
// per-node details beyond what fits, then summary rows) and says where the full report is
// (the `full-report` file the action writes and uploads, or commits in PR mode).
import type { Plan, PlanNode } from '../plan/types.ts';
import { shortId } from '../plan/canonical.ts';
import { md, html } from './escape.ts';
import { fitMarkdown } from './fit.ts';
import { cveLinks, daysPending, fixesOverall, fixesPhrase, type FixesOverall } from './fixes.ts';
import { estimateLines, nodeEstimateText, type EstimateOptions } from './estimate.ts';

export const GITHUB_BODY_LIMIT = 65_536;

export interface MarkdownOptions {
  /** Clock for "pending for …" (the plan itself holds only timestamps). */
  now: Date;
  /** Character budget; the default leaves room for the tracking marker and progress. */
  limit?: number;
  /** Where the untruncated report lives, named when anything had to be left out. */
  fullReportRef?: string;
  /** Text placed right under the title (e.g. how to approve). */
  preamble?: string;
  /** Soak and maintenance window for the estimate; without it, the soak setting's default and no window. */
  estimate?: EstimateOptions;
}

export function duration(milliseconds: number): string {
  const total = Math.max(0, milliseconds);
  const days = Math.floor(total / 86_400_000);
  const hours = Math.floor((total % 86_400_000) / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  if (days) return `${days}d ${hours}h`;
  return hours ? `${hours}h ${minutes}m` : `${minutes}m`;
}

/** How much of the report one rendering keeps. */
interface Level {
  packages: boolean;
  details: number;
  rows: number;
}

export function renderMarkdown(plan: Plan, id: string, options: MarkdownOptions): string {
  const limit = options.limit ?? 60_000;
  for (const level of levels(plan.nodes.length)) {
    const text = render(plan, id, options, level);
    if (text.length <= limit) return text;
  }
  return fitMarkdown(
    render(plan, id, options, { packages: false, details: 0, rows: 0 }),
    limit,
    "_(report cut to fit GitHub's body limit)_",
  );
}

/** The degradation steps, fullest first: package lists go, then node details, then summary rows. */
function levels(nodeCount: number): Level[] {
  const steps: Level[] = [
    { packages: true, details: Infinity, rows: Infinity },
    { packages: false, details: Infinity, rows: Infinity },
  ];
  for (let details = Math.min(nodeCount, 400); details >= 0;) {
    steps.push({ packages: false, details: Math.max(0, details), rows: Infinity });
    if (details <= 0) break;
    details = details > 50 ? Math.floor(details / 2) : details - 10;
  }
  for (let rows = 200; rows >= 5; rows = Math.floor(rows / 2))
    steps.push({ packages: false, details: 0, rows });
  return steps;
}

/** "node" or "nodes", after a count. */
const plural = (count: number, singular: string, several = `${singular}s`) =>
  count === 1 ? singular : several;

/** " (where)" after "in the full report", when the options name it. */
const fullReportWhere = (options: MarkdownOptions) =>
  options.fullReportRef ? ` (${md(options.fullReportRef)})` : '';

const byUpdate = (plan: Plan, update: PlanNode['update']) =>
  plan.nodes.filter((node) => node.update === update);

function render(plan: Plan, id: string, options: MarkdownOptions, level: Level): string {
  const out = [`## Reboot plan for ${md(plan.cluster.name)} \`${shortId(id)}\``, ''];
  if (options.preamble) out.push(options.preamble, '');
  out.push(summaryLine(plan));
  if (byUpdate(plan, 'reboot').length) out.push('', fixesSummary(plan, options.now));
  if (plan.nodes.length)
    out.push('', ...estimateLines(plan, options.estimate ?? { soakSeconds: 60 }, options.now));
  out.push(...callouts(plan), '', `Plan ID: \`${id}\``, '');
  if (plan.nodes.length)
    out.push(
      ...summaryTable(plan, options, level),
      ...orderSection(plan, options, level),
      ...detailSections(plan, options, level),
    );
  out.push(...unknownSection(plan, level), ...upToDateSection(plan), drainOptionsLine(plan));
  return out.join('\n') + '\n';
}

/** The sentence under the title: how many nodes are rebooted or upgraded, how many are not. */
function summaryLine(plan: Plan): string {
  const unknown = plan.unknown.length;
  const uninspected = unknown ? `, **${unknown} could not be inspected**` : '';
  const upToDate = plan.upToDate.length;
  if (!plan.nodes.length)
    return `Nothing needs a reboot: ${upToDate} ${plural(upToDate, 'node')} up to date${uninspected}.`;
  const reboots = byUpdate(plan, 'reboot').length;
  const images = byUpdate(plan, 'node-image-upgrade');
  const pools = new Set(images.map((node) => node.pool)).size;
  const imageNodes = `**${images.length}** ${plural(images.length, 'node')}`;
  const imageText = images.length ? `; ${imageNodes} in ${pools} pool(s) to patch by node image upgrade` : '';
  return (
    `**${reboots}** ${plural(reboots, 'node')} to reboot, one at a time${imageText}. ` +
    `${upToDate} up to date${uninspected}.`
  );
}

/** GitHub alerts for blocked nodes, an API server outage and node image upgrades; the AKS line. */
function callouts(plan: Plan): string[] {
  const out: string[] = [];
  const blocked = plan.nodes.filter((node) => node.risks.some((risk) => risk.blocking));
  if (blocked.length) {
    const names = blocked.slice(0, 10).map((node) => md(node.name));
    const more = blocked.length > 10 ? ', …' : '';
    const are = plural(blocked.length, ' is', 's are');
    out.push(
      '',
      `> [!WARNING]\n> ${blocked.length} node${are} blocked under the current options: ` +
        `${names.join(', ')}${more}. Their risks say why.`,
    );
  }
  const apiDown = plan.nodes.filter((node) => node.risks.some((risk) => risk.kind === 'api-server-outage'));
  if (apiDown.length) {
    const names = apiDown.map((node) => md(node.name)).join(', ');
    out.push(
      '',
      `> [!WARNING]\n> Rebooting ${names} takes the Kubernetes API server down for a minute or two ` +
        "(the cluster's only control-plane node; it goes last). " +
        'Exclude it with `node-selector` to reboot it by hand.',
    );
  }
  if (byUpdate(plan, 'node-image-upgrade').length) {
    out.push(
      '',
      '> [!CAUTION]\n> A node image upgrade is pool-wide and reimages every node of the pool: ' +
        "local disk data is lost. It follows the pool's upgradeSettings (max surge, drain timeout, soak).",
    );
  }
  if (plan.aks) out.push('', aksLine(plan.aks));
  return out;
}

function aksLine(aks: NonNullable<Plan['aks']>): string {
  const window = aks.maintenance
    ? `; nodes start only inside the planned maintenance window ${md(aks.maintenance)}`
    : '';
  return (
    `AKS node OS upgrade channel: **${md(aks.nodeOSUpgradeChannel)}**${window}. ` +
    'A node whose in-place reboot fails may fall back to a node image upgrade of its pool ' +
    '(pool-wide, reimages disks).'
  );
}

/** One row per group of nodes with the same diff, up to the level's rows. */
function summaryTable(plan: Plan, options: MarkdownOptions, level: Level): string[] {
  const groups = new Map<string, PlanNode[]>();
  for (const node of plan.nodes) {
    const key = JSON.stringify([
      node.update,
      node.pool,
      node.kernel.running,
      node.kernel.next,
      node.packages.requiringReboot,
      node.fixes,
    ]);
    groups.set(key, [...(groups.get(key) ?? []), node]);
  }
  const out = [
    '| Nodes | Pool | Kernel | Requires the reboot | Fixes | Pending | Update | Risks |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const group of [...groups.values()].slice(0, level.rows)) out.push(groupRow(group, options.now));
  if (groups.size > level.rows)
    out.push(
      '',
      `_${groups.size - level.rows} more rows are in the full report${fullReportWhere(options)}._`,
    );
  out.push('');
  return out;
}

function groupRow(group: PlanNode[], now: Date): string {
  const first = group[0]!;
  const more = group.length > 5 ? `<br>… and ${group.length - 5} more` : '';
  const names =
    group
      .slice(0, 5)
      .map((node) => md(node.name))
      .join('<br>') + more;
  const kernel =
    first.kernel.next === first.kernel.running
      ? `${md(first.kernel.running)} (unchanged)`
      : `${md(first.kernel.running)} → **${md(first.kernel.next)}**`;
  const fixes =
    first.update === 'reboot'
      ? `${fixesPhrase(first.fixes)}${first.fixes?.cves.length ? `<br>${cveLinks(first.fixes, 3)}` : ''}`
      : '—';
  const days = group.map((node) => daysPending(node, now)).filter((day): day is number => day !== undefined);
  const pending = days.length ? `${Math.max(...days)} d` : '—';
  const cells = [
    names,
    md(first.pool),
    kernel,
    packagesCell(first),
    fixes,
    pending,
    first.update,
    risksCell(group),
  ];
  return `| ${cells.join(' | ')} |`;
}

/** The first packages requiring the reboot, how many more; a node image upgrade has none. */
function packagesCell(node: PlanNode): string {
  const { requiringReboot, requiringRebootTotal } = node.packages;
  if (requiringReboot.length) {
    const more = requiringRebootTotal > 3 ? ` +${requiringRebootTotal - 3}` : '';
    return requiringReboot.slice(0, 3).map(md).join(', ') + more;
  }
  return node.update === 'node-image-upgrade' ? 'new node image' : '—';
}

/** "3 (**1 blocking**)", "2", or "0" over a group's nodes. */
function risksCell(group: PlanNode[]): string {
  const risks = group.reduce((sum, node) => sum + node.risks.length, 0);
  const blocking = group.reduce((sum, node) => sum + node.risks.filter((risk) => risk.blocking).length, 0);
  if (!risks) return '0';
  return blocking ? `${risks} (**${blocking} blocking**)` : `${risks}`;
}

/** The numbered order in which nodes are started, each with its estimate. */
function orderSection(plan: Plan, options: MarkdownOptions, level: Level): string[] {
  const out = ['### Order', ''];
  const estimates = nodeEstimateText(plan, options.estimate?.soakSeconds ?? 60);
  for (const node of plan.nodes.slice(0, level.rows === Infinity ? undefined : level.rows)) {
    const days = daysPending(node, options.now);
    const steps =
      node.update === 'reboot' ? 'cordon, drain, reboot, verify, uncordon' : 'node image upgrade of the pool';
    const pending = days !== undefined ? `, pending ${days} d` : '';
    out.push(
      `${node.order}. ${md(node.name)} (${md(node.pool)}): ${steps}${pending}, ${estimates.get(node.name)}`,
    );
  }
  if (level.rows !== Infinity && plan.nodes.length > level.rows)
    out.push(`… ${plan.nodes.length - level.rows} more`);
  out.push('');
  return out;
}

/** A folded section per node, up to the level's details, and where the rest is. */
function detailSections(plan: Plan, options: MarkdownOptions, level: Level): string[] {
  const shown = plan.nodes.slice(0, level.details);
  const out = shown.flatMap((node) => nodeDetails(node, options.now, level.packages));
  const rest = plan.nodes.length - shown.length;
  if (rest > 0)
    out.push(
      `_Details of ${rest} more ${plural(rest, 'node')} are in the full report${fullReportWhere(options)}; ` +
        'GitHub limits a body to 65,536 characters._',
      '',
    );
  if (!level.packages) out.push(`_Package lists are in the full report${fullReportWhere(options)}._`, '');
  return out;
}

function unknownSection(plan: Plan, level: Level): string[] {
  if (!plan.unknown.length) return [];
  const out = ['### Could not be inspected', ''];
  for (const node of plan.unknown.slice(0, Math.min(50, level.rows)))
    out.push(`- ${md(node.name)} (${md(node.pool)}): ${md(node.reason)}`);
  if (plan.unknown.length > 50) out.push(`- … and ${plan.unknown.length - 50} more`);
  out.push('');
  return out;
}

function upToDateSection(plan: Plan): string[] {
  const count = plan.upToDate.length;
  if (!count) return [];
  const more = count > 20 ? `, … and ${count - 20} more` : '';
  return [
    `<details><summary>Up to date: ${count} ${plural(count, 'node')}</summary>`,
    '',
    plan.upToDate.slice(0, 20).map(md).join(', ') + more,
    '',
    '</details>',
    '',
  ];
}

function drainOptionsLine(plan: Plan): string {
  const { options, cluster } = plan;
  const onOff = (value: boolean) => (value ? 'on' : 'off');
  const selector = options.blockingPodSelector
    ? `, blocking pod selector ${md(options.blockingPodSelector)}`
    : '';
  return (
    `<sub>Drain options: delete-emptydir-data ${onOff(options.deleteEmptyDirData)}, ` +
    `force ${onOff(options.force)}${selector}; order ${options.order}. ` +
    `Cluster ${md(cluster.server)} (kube-system UID ${md(cluster.uid)}).</sub>`
  );
}

/** "What the reboots fix" line: CVEs over every node, how long the oldest has waited. */
function fixesSummary(plan: Plan, now: Date): string {
  const reboots = byUpdate(plan, 'reboot');
  const overall = fixesOverall(reboots);
  const read = reboots.length - overall.unread;
  const unread = overall.unread
    ? `; no Debian changelog could be read on ${overall.unread} ${plural(overall.unread, 'node')}`
    : '';
  const days = reboots
    .map((node) => daysPending(node, now))
    .filter((day): day is number => day !== undefined);
  const oldest = Math.max(...days);
  const waited = days.length
    ? `. The oldest has been pending for **${oldest} ${plural(oldest, 'day')}**`
    : '';
  return `Security: ${read ? cveSummary(overall) : 'CVEs unknown'}${unread}${waited}.`;
}

/** The CVEs the changelogs read name over all nodes, with the highest urgency. */
function cveSummary(overall: FixesOverall): string {
  const urgency = overall.urgency ? ` (urgency ${overall.urgency})` : '';
  if (!overall.cves) return `the changelogs read name no CVE${urgency}`;
  const atLeast = overall.exact ? '' : 'at least ';
  return `the reboots fix ${atLeast}**${overall.cves} ${plural(overall.cves, 'CVE')}**${urgency}`;
}

function fixesDetails(node: PlanNode, full: boolean): string[] {
  const links = full && node.fixes?.cves.length ? `: ${cveLinks(node.fixes, 40)}` : '';
  const out = [`- Fixes: ${fixesPhrase(node.fixes)}${links}`];
  for (const change of full ? (node.fixes?.packages ?? []) : []) {
    if (!change.changelog) continue;
    const span = change.from
      ? `${md(change.from)} → ${md(change.to ?? '?')}`
      : `${md(change.to ?? '?')} (newest entry only: the running version is unknown)`;
    const entries = `${change.entries} changelog ${plural(change.entries ?? 0, 'entry', 'entries')}`;
    const cves = change.cves ? `${change.cves} ${plural(change.cves, 'CVE')}` : 'no CVE named';
    const urgency = change.urgency ? `, urgency ${md(change.urgency)}` : '';
    out.push(`  - ${md(change.name)} ${span}: ${entries}, ${cves}${urgency}`);
  }
  return out;
}

function nodeDetails(node: PlanNode, now: Date, packages: boolean): string[] {
  const risks = node.risks.length;
  const blocked = node.risks.some((risk) => risk.blocking) ? ', blocked' : '';
  const risky = risks ? ` — ${risks} ${plural(risks, 'risk')}${blocked}` : '';
  const kernel =
    node.kernel.next === node.kernel.running
      ? html(node.kernel.running)
      : `${html(node.kernel.running)} → ${html(node.kernel.next)}`;
  const image = node.nodeImageVersion ? `, node image ${md(node.nodeImageVersion)}` : '';
  const update =
    node.update === 'reboot' ? 'in-place reboot' : 'node image upgrade (pool-wide, reimages disks)';
  const provider = node.providerID ? `, provider ID ${md(node.providerID)}` : '';
  const out = [
    `<details><summary>${node.order}. ${html(node.name)} — ${kernel}${risky}</summary>`,
    '',
    `- Pool ${md(node.pool)}, ${node.os}, ${md(node.osImage || 'unknown OS image')}${image}`,
    `- Update: ${update}`,
    `- Boot ID ${md(node.bootID || 'unknown')}${provider}`,
  ];
  for (const evidence of node.evidence) out.push(`- Evidence (${evidence.source}): ${md(evidence.detail)}`);
  if (node.pendingSince) {
    const waited = duration(now.getTime() - Date.parse(node.pendingSince));
    out.push(`- Pending since ${md(node.pendingSince)} (${waited})`);
  }
  if (packages) out.push(...requiringRebootLines(node));
  if (node.update === 'reboot') out.push(...fixesDetails(node, packages));
  if (packages) out.push(...sinceBootLines(node));
  out.push(evictionsLine(node));
  for (const risk of node.risks)
    out.push(`- ${risk.blocking ? '⛔ **Blocking**' : '⚠️ Risk'} (${risk.kind}): ${md(risk.detail)}`);
  out.push('', '</details>', '');
  return out;
}

function requiringRebootLines(node: PlanNode): string[] {
  const { requiringReboot, requiringRebootTotal } = node.packages;
  if (!requiringRebootTotal) return [];
  const more = requiringRebootTotal > requiringReboot.length ? ', …' : '';
  return [
    `- Packages requiring the reboot (${requiringRebootTotal}): ${requiringReboot.map(md).join(', ')}${more}`,
  ];
}

function sinceBootLines(node: PlanNode): string[] {
  const { sinceBoot, sinceBootTotal } = node.packages;
  if (!sinceBootTotal) return [];
  const items = sinceBoot.map((change) => {
    const versions = change.from || change.to ? ` ${md(change.from ?? '?')} → ${md(change.to ?? '?')}` : '';
    return `${md(change.name)}${versions}${change.action === 'install' ? ' (new)' : ''}`;
  });
  const more = sinceBootTotal > items.length ? ', …' : '';
  return [`- Changed since boot (${sinceBootTotal}): ${items.join(', ')}${more}`];
}

function evictionsLine(node: PlanNode): string {
  if (!node.evictions.length) return '- Evicts nothing (DaemonSet and mirror pods stay)';
  const pods = node.evictions.reduce((sum, eviction) => sum + eviction.pods, 0);
  const workloads = node.evictions.map((eviction) => {
    const replicas = eviction.pods > 1 ? ` ×${eviction.pods}` : '';
    return `${md(eviction.namespace)}/${md(eviction.name)} (${md(eviction.kind)}${replicas})`;
  });
  return `- Evicts ${pods} ${plural(pods, 'pod')}: ${workloads.join(', ')}`;
}
