// What the tracking item shows, made from the ledger: the body around the report, the approval
// preamble, the /status reply and the checklist. Views only: nothing here is read back.
import { shortId } from '../plan/canonical.ts';
import type { Plan } from '../plan/types.ts';
import { md } from '../report/escape.ts';
import { currentApprovals, type Ledger, type LedgerRun } from '../ledger/record.ts';
import { renderBody, type ProgressLine } from './body.ts';
import type { SessionContext } from './context.ts';

export const COMMANDS_HELP =
  'Other commands: `/reject [reason]`, `/replan`, `/skip <node>`, `/pause`, `/resume`, `/cancel`, `/status`.';

const mentions = (logins: string[]) => logins.map((login) => `@${login}`).join(', ');

/** The /status reply (and the job summary): the plan, its approvals, what holds it, its execution. */
export function statusText(cluster: string, ledger: Ledger, requiredApprovals: number): string {
  const plan = ledger.plan!;
  const approvals = currentApprovals(ledger);
  const where = cluster ? `, cluster ${md(cluster)}` : '';
  const approvers = approvals.length ? ` (${mentions(approvals.map((approval) => approval.login))})` : '';
  const parts = [
    `Plan \`${shortId(plan.id)}\` (revision ${plan.revision}${where}): ${ledger.state}`,
    `approvals ${approvals.length} of ${requiredApprovals}${approvers}`,
    `expires ${plan.expiresAt}`,
  ];
  if (ledger.skipped.length) parts.push(`skipped: ${ledger.skipped.map(md).join(', ')}`);
  const held = ledger.commands
    .filter((command) => command.revision === plan.revision && isRestriction(command.kind))
    .pop();
  if (held && ledger.state !== 'approved')
    parts.push(`/${held.kind} by @${held.login} (comment ${held.commentId}) holds`);
  if (ledger.run) parts.push(`execution ${ledger.run.state}: ${md(ledger.run.message)}`);
  return parts.join('; ') + '.';
}

const isRestriction = (kind: string) => kind === 'pause' || kind === 'cancel' || kind === 'reject';

const UPDATE_TEXT = { reboot: 'reboot', 'node-image-upgrade': 'node image upgrade (pool-wide)' } as const;

/** The checklist: the plan's nodes, marked from the execution's per-node results. */
export function progressLines(ledger: Ledger, plan?: Plan): ProgressLine[] {
  const results = new Map((ledger.run?.nodes ?? []).map((result) => [result.name, result]));
  const updates = new Map((plan?.nodes ?? []).map((node) => [node.name, node.update]));
  return (ledger.plan?.nodes ?? []).map((name) => {
    const update = updates.get(name);
    return progressLine(name, results.get(name), update ? UPDATE_TEXT[update] : 'pending');
  });
}

function progressLine(node: string, result: LedgerRun['nodes'][number] | undefined, pending: string) {
  const line = (mark: ProgressLine['mark'], text: string): ProgressLine => ({ node, mark, text });
  if (!result || result.outcome === 'not-started') return line('pending', pending);
  if (result.outcome === 'reimaged') {
    const images = `${result.nodeImageBefore || '?'} → ${result.nodeImageAfter || '?'}`;
    return line('done', `reimaged: node image ${images}`);
  }
  if (result.outcome === 'rebooted' || result.outcome === 'already-done') {
    const changed = result.kernelAfter && result.kernelAfter !== result.kernelBefore;
    return line(
      'done',
      changed ? `${result.kernelBefore} → ${result.kernelAfter}` : (result.detail ?? result.outcome),
    );
  }
  if (result.outcome === 'skipped') return line('skipped', result.detail ?? 'skipped');
  return line('failed', result.detail ?? 'failed');
}

/** The body of the item for the ledger as it is. */
export function bodyFor(
  context: SessionContext,
  report: string,
  plan?: Plan,
  footer?: string,
  progress?: ProgressLine[],
): string {
  return renderBody({
    cluster: context.cluster,
    ledger: context.snapshot!.ledger,
    where: context.where,
    report,
    progress: progress ?? progressLines(context.snapshot!.ledger, plan),
    ...(footer ? { footer } : {}),
  });
}

/** The line above the report: how to approve this revision, and the other commands. */
export function preambleFor(context: SessionContext): string {
  const plan = context.snapshot!.ledger.plan!;
  const required = context.deps.settings.github.requiredApprovals;
  const needed = required > 1 ? `, ${required} approvals needed` : '';
  const approve = `\`/approve ${shortId(plan.id)}\``;
  const revision = `revision ${plan.revision}, expires ${plan.expiresAt}${needed}`;
  return `To approve, comment ${approve} (${revision}). ${COMMANDS_HELP}`;
}

/** Where the full report is, as the report's cut-off note names it. */
export const fullReportRef = (tracker: { kind: 'issue' | 'pull-request' }) =>
  tracker.kind === 'pull-request'
    ? 'report.md in this pull request'
    : 'report.md in the reboot-pilot artifact';
