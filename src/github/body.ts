// The tracking issue (or PR) body: a marker that makes it recognisable, the report, a progress
// checklist, and a copy of the ledger's record (approvals, commands, state). The body is a view:
// the authority is the ledger in the cluster (src/ledger/), and nothing here is read back for a
// decision. Every body stays under GitHub's 65,536-character limit, with its HTML balanced.
import { md } from '../report/escape.ts';
import { GITHUB_BODY_LIMIT } from '../report/markdown.ts';
import { currentApprovals, type Ledger } from '../ledger/record.ts';
import { fitMarkdown } from '../report/fit.ts';

const MARKER_PREFIX = '<!-- reboot-pilot:tracking cluster=';
const VIEW_PREFIX = '<!-- reboot-pilot:view ';

export function marker(cluster: string): string {
  return `${MARKER_PREFIX}${encodeURIComponent(cluster)} -->`;
}

/** Whether a body carries the tracking marker of `cluster` (only to adopt an item made before the ledger). */
export function isTracking(body: string | null | undefined, cluster: string): boolean {
  return (body ?? '').startsWith(marker(cluster));
}

export type ProgressMark = 'pending' | 'running' | 'done' | 'skipped' | 'failed';
export interface ProgressLine {
  node: string;
  mark: ProgressMark;
  text: string;
}

const BOX: Record<ProgressMark, string> = {
  pending: '- [ ]',
  running: '- [ ] ⏳',
  done: '- [x]',
  skipped: '- [x] ⏭️',
  failed: '- [ ] ❌',
};

const PROGRESS_START = '<!-- reboot-pilot:progress -->';
const PROGRESS_END = '<!-- reboot-pilot:/progress -->';
/** Room for the checklist: a 1,000-node plan shows its running and failed nodes and counts. */
const CHECKLIST_BUDGET = 24_000;
const RECORD_ROWS = 10;

/** The checklist, compacted to its budget: nodes in progress and failed first, then the rest, then counts. */
export function checklist(progress: ProgressLine[], budget = CHECKLIST_BUDGET): string {
  if (!progress.length) return '';
  const line = (entry: ProgressLine) =>
    `${BOX[entry.mark]} ${md(entry.node)}: ${md(entry.text).slice(0, 300)}`;
  const all = progress.map(line);
  if (all.join('\n').length <= budget) return ['### Progress', '', ...all, ''].join('\n');
  const count = (mark: ProgressMark) => progress.filter((entry) => entry.mark === mark).length;
  const head =
    `${count('done')} done, ${count('running')} in progress, ${count('failed')} failed, ` +
    `${count('skipped')} skipped, ${count('pending')} pending of ${progress.length}.`;
  const rank: Record<ProgressMark, number> = { running: 0, failed: 1, pending: 2, skipped: 3, done: 4 };
  const ordered = progress
    .map((entry, index) => ({ entry, index }))
    .sort((one, other) => rank[one.entry.mark] - rank[other.entry.mark] || one.index - other.index);
  const shown: string[] = [];
  let size = head.length;
  for (const { entry } of ordered) {
    const text = line(entry);
    if (size + text.length + 1 > budget - 200) break;
    shown.push(text);
    size += text.length + 1;
  }
  const rest = progress.length - shown.length;
  return [
    '### Progress',
    '',
    head,
    '',
    ...shown,
    ...(rest ? [`- … ${rest} more nodes: the full list is in the ledger and the run's result files`] : []),
    '',
  ].join('\n');
}

/** The ledger as the body shows it: a copy, for people; editing it changes nothing. */
export function recordSection(ledger: Ledger, where: string): string {
  if (!ledger.plan) return '';
  const out = ['<details><summary>Record (a copy of the ledger)</summary>', ''];
  const execution = ledger.run ? `; execution ${ledger.run.state}` : '';
  out.push(`- Plan \`${ledger.plan.id}\`, revision ${ledger.plan.revision}: ${ledger.state}${execution}`);
  const approvals = currentApprovals(ledger);
  for (const { login, userId, commentId, at } of approvals.slice(0, RECORD_ROWS))
    out.push(`- Approved by \`${login}\` (user ${userId}, comment ${commentId}, ${at})`);
  const commands = ledger.commands.filter((command) => command.revision === ledger.plan!.revision);
  for (const command of commands.slice(-RECORD_ROWS)) {
    const { kind, node, login, userId, commentId, at } = command;
    out.push(
      `- \`/${kind}${node ? ` ${node}` : ''}\` by \`${login}\` (user ${userId}, comment ${commentId}, ${at})`,
    );
  }
  if (commands.length > RECORD_ROWS) out.push(`- … ${commands.length - RECORD_ROWS} earlier commands`);
  out.push(
    '',
    `_The record is the ConfigMap ${md(where)} in the cluster, written only by Reboot Pilot; ` +
      `editing this body changes nothing._`,
    '',
    '</details>',
    '',
  );
  return out.join('\n');
}

export interface BodyParts {
  cluster: string;
  ledger: Ledger;
  /** namespace/name of the ledger, named in the body. */
  where: string;
  report: string;
  progress: ProgressLine[];
  footer?: string;
}

export function renderBody(parts: BodyParts): string {
  const { ledger } = parts;
  const view = `${VIEW_PREFIX}plan=${ledger.plan?.id ?? 'none'} revision=${ledger.plan?.revision ?? 0} -->`;
  const progress = `${PROGRESS_START}\n${checklist(parts.progress)}${PROGRESS_END}\n`;
  const footer = parts.footer ? `${parts.footer}\n` : '';
  const tail = `${progress}${footer}\n${recordSection(ledger, parts.where)}${view}\n`;
  const head = `${marker(parts.cluster)}\n\n`;
  // The report yields to the parts that must survive; cut at a block boundary, HTML closed.
  const room = GITHUB_BODY_LIMIT - 500 - head.length - tail.length;
  const report = fitMarkdown(
    parts.report,
    room,
    "_(report cut to fit GitHub's body limit; the full report is in the run's artifact, " +
      'or report.md in PR mode)_',
  );
  return `${head}${report}\n${tail}`;
}

/** The report part of a tracking body, to re-render the body around it (progress updates). */
export function reportOf(body: string): string {
  const start = body.indexOf('\n\n');
  const end = body.indexOf(PROGRESS_START);
  return start < 0 || end < 0 ? '' : body.slice(start + 2, end).replace(/\n$/, '');
}

/** The plan the body shows (for people and tests; never for a decision). */
export function shownPlan(body: string | null | undefined): { planId: string; revision: number } | undefined {
  const m = (body ?? '').match(/<!-- reboot-pilot:view plan=([0-9a-f]{64}) revision=(\d+) -->/);
  return m ? { planId: m[1]!, revision: Number(m[2]) } : undefined;
}

const REPLY_PREFIX = '<!-- reboot-pilot:reply-to ';

/** Hidden in each reply, to show which comment it answers (never read back: the ledger knows). */
export const replyMarker = (key: string, refused = false) =>
  `${REPLY_PREFIX}${key}${refused ? ' refused' : ''} -->`;
