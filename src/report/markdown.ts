// The plan as GitHub Markdown, pure. Always under GitHub's 65,536-character body limit:
// when the full report is larger, it degrades in steps (package lists to counts, then
// per-node details beyond what fits, then summary rows) and says where the full report is
// (the `full-report` file the action writes and uploads, or commits in PR mode).
import type { Plan, PlanNode } from '../plan/types.ts';
import { shortId } from '../plan/canonical.ts';
import { md, html } from './escape.ts';
import { fitMarkdown } from './fit.ts';
import { cveLinks, daysPending, fixesOverall, fixesPhrase } from './fixes.ts';
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

export function duration(ms: number): string {
  if (ms < 0) ms = 0;
  const d = Math.floor(ms / 86_400_000);
  const h = Math.floor((ms % 86_400_000) / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m`;
}

interface Level {
  packages: boolean;
  details: number;
  rows: number;
}

export function renderMarkdown(plan: Plan, id: string, o: MarkdownOptions): string {
  const limit = o.limit ?? 60_000;
  const levels: Level[] = [
    { packages: true, details: Infinity, rows: Infinity },
    { packages: false, details: Infinity, rows: Infinity },
  ];
  for (let d = Math.min(plan.nodes.length, 400); d >= 0; d = d > 50 ? Math.floor(d / 2) : d - 10) {
    levels.push({ packages: false, details: Math.max(0, d), rows: Infinity });
    if (d <= 0) break;
  }
  for (let r = 200; r >= 5; r = Math.floor(r / 2)) levels.push({ packages: false, details: 0, rows: r });
  for (const level of levels) {
    const text = render(plan, id, o, level);
    if (text.length <= limit) return text;
  }
  return fitMarkdown(
    render(plan, id, o, { packages: false, details: 0, rows: 0 }),
    limit,
    "_(report cut to fit GitHub's body limit)_",
  );
}

function render(plan: Plan, id: string, o: MarkdownOptions, lv: Level): string {
  const out: string[] = [];
  const reboots = plan.nodes.filter((n) => n.method === 'reboot');
  const images = plan.nodes.filter((n) => n.method === 'node-image-upgrade');
  const blocked = plan.nodes.filter((n) => n.risks.some((r) => r.blocking));
  out.push(`## Reboot plan for ${md(plan.cluster.name)} \`${shortId(id)}\``);
  out.push('');
  if (o.preamble) out.push(o.preamble, '');
  out.push(
    plan.nodes.length
      ? `**${reboots.length}** node${reboots.length === 1 ? '' : 's'} to reboot, one at a time` +
          (images.length
            ? `; **${images.length}** node${images.length === 1 ? '' : 's'} in ${new Set(images.map((n) => n.pool)).size} pool(s) to patch by node image upgrade`
            : '') +
          `. ${plan.upToDate.length} up to date${plan.unknown.length ? `, **${plan.unknown.length} could not be inspected**` : ''}.`
      : `Nothing needs a reboot: ${plan.upToDate.length} node${plan.upToDate.length === 1 ? '' : 's'} up to date${plan.unknown.length ? `, **${plan.unknown.length} could not be inspected**` : ''}.`,
  );
  if (reboots.length) out.push('', fixesSummary(plan, o.now));
  if (plan.nodes.length) out.push('', ...estimateLines(plan, o.estimate ?? { soakSeconds: 60 }, o.now));
  if (blocked.length)
    out.push(
      '',
      `> [!WARNING]\n> ${blocked.length} node${blocked.length === 1 ? ' is' : 's are'} blocked under the current options: ${blocked
        .slice(0, 10)
        .map((n) => md(n.name))
        .join(', ')}${blocked.length > 10 ? ', …' : ''}. Their risks say why.`,
    );
  const apiDown = plan.nodes.filter((n) => n.risks.some((r) => r.kind === 'api-server-outage'));
  if (apiDown.length) {
    const names = apiDown.map((n) => md(n.name)).join(', ');
    out.push(
      '',
      `> [!WARNING]\n> Rebooting ${names} takes the Kubernetes API server down for a minute or two ` +
        "(the cluster's only control-plane node; it goes last). Exclude it with `node-selector` to reboot it by hand.",
    );
  }
  if (images.length) {
    out.push(
      '',
      `> [!CAUTION]\n> A node image upgrade is pool-wide and reimages every node of the pool: local disk data is lost. It follows the pool's upgradeSettings (max surge, drain timeout, soak).`,
    );
  }
  if (plan.aks) {
    out.push(
      '',
      `AKS node OS upgrade channel: **${md(plan.aks.nodeOSUpgradeChannel)}**` +
        (plan.aks.maintenance
          ? `; nodes start only inside the planned maintenance window ${md(plan.aks.maintenance)}`
          : '') +
        `. A node whose in-place reboot fails may fall back to a node image upgrade of its pool (pool-wide, reimages disks).`,
    );
  }
  out.push('', `Plan ID: \`${id}\``, '');

  if (plan.nodes.length) {
    // Nodes with the same diff share a row.
    const groups = new Map<string, PlanNode[]>();
    for (const n of plan.nodes) {
      const key = JSON.stringify([
        n.method,
        n.pool,
        n.kernel.running,
        n.kernel.next,
        n.packages.requiringReboot,
        n.fixes,
      ]);
      groups.set(key, [...(groups.get(key) ?? []), n]);
    }
    out.push(
      '| Nodes | Pool | Kernel | Requires the reboot | Fixes | Pending | Method | Risks |',
      '|---|---|---|---|---|---|---|---|',
    );
    let rows = 0;
    for (const g of groups.values()) {
      if (rows++ >= lv.rows) break;
      const n = g[0]!;
      const names =
        g
          .slice(0, 5)
          .map((x) => md(x.name))
          .join('<br>') + (g.length > 5 ? `<br>… and ${g.length - 5} more` : '');
      const kernel =
        n.kernel.next === n.kernel.running
          ? `${md(n.kernel.running)} (unchanged)`
          : `${md(n.kernel.running)} → **${md(n.kernel.next)}**`;
      const pkgs = n.packages.requiringReboot.length
        ? n.packages.requiringReboot.slice(0, 3).map(md).join(', ') +
          (n.packages.requiringRebootTotal > 3 ? ` +${n.packages.requiringRebootTotal - 3}` : '')
        : n.method === 'node-image-upgrade'
          ? 'new node image'
          : '—';
      const risks = g.reduce((a, x) => a + x.risks.length, 0);
      const blocking = g.reduce((a, x) => a + x.risks.filter((r) => r.blocking).length, 0);
      const fixes =
        n.method === 'reboot'
          ? `${fixesPhrase(n.fixes)}${n.fixes?.cves.length ? `<br>${cveLinks(n.fixes, 3)}` : ''}`
          : '—';
      const days = g.map((x) => daysPending(x, o.now)).filter((d): d is number => d !== undefined);
      const pending = days.length ? `${Math.max(...days)} d` : '—';
      out.push(
        `| ${names} | ${md(n.pool)} | ${kernel} | ${pkgs} | ${fixes} | ${pending} | ${n.method} | ${risks ? `${risks}${blocking ? ` (**${blocking} blocking**)` : ''}` : '0'} |`,
      );
    }
    if (groups.size > lv.rows)
      out.push(
        '',
        `_${groups.size - lv.rows} more rows are in the full report${o.fullReportRef ? ` (${md(o.fullReportRef)})` : ''}._`,
      );
    out.push('', '### Order', '');
    const estimates = nodeEstimateText(plan, o.estimate?.soakSeconds ?? 60);
    for (const n of plan.nodes.slice(0, lv.rows === Infinity ? undefined : lv.rows)) {
      const days = daysPending(n, o.now);
      out.push(
        `${n.order}. ${md(n.name)} (${md(n.pool)}): ${n.method === 'reboot' ? 'cordon, drain, reboot, verify, uncordon' : 'node image upgrade of the pool'}${days !== undefined ? `, pending ${days} d` : ''}, ${estimates.get(n.name)}`,
      );
    }
    if (lv.rows !== Infinity && plan.nodes.length > lv.rows)
      out.push(`… ${plan.nodes.length - lv.rows} more`);
    out.push('');
    let shown = 0;
    for (const n of plan.nodes) {
      if (shown >= lv.details) break;
      shown++;
      out.push(...nodeDetails(n, o.now, lv.packages));
    }
    if (shown < plan.nodes.length) {
      out.push(
        `_Details of ${plan.nodes.length - shown} more node${plan.nodes.length - shown === 1 ? '' : 's'} are in the full report${o.fullReportRef ? ` (${md(o.fullReportRef)})` : ''}; GitHub limits a body to 65,536 characters._`,
        '',
      );
    }
    if (!lv.packages)
      out.push(
        `_Package lists are in the full report${o.fullReportRef ? ` (${md(o.fullReportRef)})` : ''}._`,
        '',
      );
  }

  if (plan.unknown.length) {
    out.push('### Could not be inspected', '');
    for (const u of plan.unknown.slice(0, lv.rows === Infinity ? 50 : Math.min(50, lv.rows)))
      out.push(`- ${md(u.name)} (${md(u.pool)}): ${md(u.reason)}`);
    if (plan.unknown.length > 50) out.push(`- … and ${plan.unknown.length - 50} more`);
    out.push('');
  }
  if (plan.upToDate.length) {
    const shownNames = plan.upToDate.slice(0, 20).map(md).join(', ');
    out.push(
      '<details><summary>Up to date: ' +
        plan.upToDate.length +
        ' node' +
        (plan.upToDate.length === 1 ? '' : 's') +
        '</summary>',
      '',
      shownNames + (plan.upToDate.length > 20 ? `, … and ${plan.upToDate.length - 20} more` : ''),
      '',
      '</details>',
      '',
    );
  }
  out.push(
    `<sub>Drain options: delete-emptydir-data ${plan.options.deleteEmptyDirData ? 'on' : 'off'}, force ${plan.options.force ? 'on' : 'off'}${plan.options.blockingPodSelector ? `, blocking pod selector ${md(plan.options.blockingPodSelector)}` : ''}; order ${plan.options.order}. Cluster ${md(plan.cluster.server)} (kube-system UID ${md(plan.cluster.uid)}).</sub>`,
  );
  return out.join('\n') + '\n';
}

/** "What the reboots fix" line: CVEs over every node, how long the oldest has waited. */
function fixesSummary(plan: Plan, now: Date): string {
  const reboots = plan.nodes.filter((n) => n.method === 'reboot');
  const f = fixesOverall(reboots);
  const read = reboots.length - f.unread;
  const cves = read
    ? f.cves
      ? `the reboots fix ${f.exact ? '' : 'at least '}**${f.cves} CVE${f.cves === 1 ? '' : 's'}**${f.urgency ? ` (urgency ${f.urgency})` : ''}`
      : `the changelogs read name no CVE${f.urgency ? ` (urgency ${f.urgency})` : ''}`
    : 'CVEs unknown';
  const unread = f.unread
    ? `; no Debian changelog could be read on ${f.unread} node${f.unread === 1 ? '' : 's'}`
    : '';
  const days = reboots.map((n) => daysPending(n, now)).filter((d): d is number => d !== undefined);
  const waited = days.length
    ? `. The oldest has been pending for **${Math.max(...days)} day${Math.max(...days) === 1 ? '' : 's'}**`
    : '';
  return `Security: ${cves}${unread}${waited}.`;
}

function fixesDetails(n: PlanNode, full: boolean): string[] {
  const out = [
    `- Fixes: ${fixesPhrase(n.fixes)}${full && n.fixes?.cves.length ? `: ${cveLinks(n.fixes, 40)}` : ''}`,
  ];
  for (const p of full ? (n.fixes?.packages ?? []) : []) {
    if (!p.changelog) continue;
    const span = p.from
      ? `${md(p.from)} → ${md(p.to ?? '?')}`
      : `${md(p.to ?? '?')} (newest entry only: the running version is unknown)`;
    out.push(
      `  - ${md(p.name)} ${span}: ${p.entries} changelog entr${p.entries === 1 ? 'y' : 'ies'}, ${p.cves ? `${p.cves} CVE${p.cves === 1 ? '' : 's'}` : 'no CVE named'}${p.urgency ? `, urgency ${md(p.urgency)}` : ''}`,
    );
  }
  return out;
}

function nodeDetails(n: PlanNode, now: Date, packages: boolean): string[] {
  const out: string[] = [];
  const risky = n.risks.length
    ? ` — ${n.risks.length} risk${n.risks.length === 1 ? '' : 's'}${n.risks.some((r) => r.blocking) ? ', blocked' : ''}`
    : '';
  const kernel =
    n.kernel.next === n.kernel.running
      ? html(n.kernel.running)
      : `${html(n.kernel.running)} → ${html(n.kernel.next)}`;
  out.push(`<details><summary>${n.order}. ${html(n.name)} — ${kernel}${risky}</summary>`, '');
  out.push(
    `- Pool ${md(n.pool)}, ${n.os}, ${md(n.osImage || 'unknown OS image')}${n.nodeImageVersion ? `, node image ${md(n.nodeImageVersion)}` : ''}`,
  );
  out.push(
    `- Method: ${n.method === 'reboot' ? 'in-place reboot' : 'node image upgrade (pool-wide, reimages disks)'}`,
  );
  out.push(
    `- Boot ID ${md(n.bootID || 'unknown')}${n.providerID ? `, provider ID ${md(n.providerID)}` : ''}`,
  );
  for (const e of n.evidence) out.push(`- Evidence (${e.source}): ${md(e.detail)}`);
  if (n.pendingSince)
    out.push(
      `- Pending since ${md(n.pendingSince)} (${duration(now.getTime() - Date.parse(n.pendingSince))})`,
    );
  if (packages && n.packages.requiringRebootTotal) {
    out.push(
      `- Packages requiring the reboot (${n.packages.requiringRebootTotal}): ${n.packages.requiringReboot.map(md).join(', ')}${n.packages.requiringRebootTotal > n.packages.requiringReboot.length ? ', …' : ''}`,
    );
  }
  if (n.method === 'reboot') out.push(...fixesDetails(n, packages));
  if (packages && n.packages.sinceBootTotal) {
    const items = n.packages.sinceBoot.map(
      (p) =>
        `${md(p.name)}${p.from || p.to ? ` ${md(p.from ?? '?')} → ${md(p.to ?? '?')}` : ''}${p.action === 'install' ? ' (new)' : ''}`,
    );
    out.push(
      `- Changed since boot (${n.packages.sinceBootTotal}): ${items.join(', ')}${n.packages.sinceBootTotal > items.length ? ', …' : ''}`,
    );
  }
  if (n.evictions.length) {
    const pods = n.evictions.reduce((a, e) => a + e.pods, 0);
    out.push(
      `- Evicts ${pods} pod${pods === 1 ? '' : 's'}: ${n.evictions.map((e) => `${md(e.namespace)}/${md(e.name)} (${md(e.kind)}${e.pods > 1 ? ` ×${e.pods}` : ''})`).join(', ')}`,
    );
  } else {
    out.push('- Evicts nothing (DaemonSet and mirror pods stay)');
  }
  for (const r of n.risks)
    out.push(`- ${r.blocking ? '⛔ **Blocking**' : '⚠️ Risk'} (${r.kind}): ${md(r.detail)}`);
  out.push('', '</details>', '');
  return out;
}
