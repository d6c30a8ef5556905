// Who decided what, from the ledger: for the final comment, result.json, result.md and, in PR
// mode, the merge commit message. Logins are GitHub's [A-Za-z0-9-] (and [bot]); inside code spans.
import { currentApprovals, type Ledger } from './record.ts';

export function auditLines(ledger: Ledger): string[] {
  const rev = ledger.plan?.revision;
  const out = [`Plan ${ledger.plan?.id ?? 'none'}, revision ${rev ?? 0}.`];
  for (const a of currentApprovals(ledger))
    out.push(`- Approved by \`${a.login}\` (user ${a.userId}, comment ${a.commentId}, ${a.at})`);
  for (const c of ledger.commands.filter((x) => x.revision === rev)) {
    const command = `/${c.kind}${c.node ? ` ${c.node}` : ''}`;
    out.push(`- \`${command}\` by \`${c.login}\` (user ${c.userId}, comment ${c.commentId}, ${c.at})`);
  }
  for (const w of ledger.withdrawn.filter((x) => x.revision === rev))
    out.push(`- Approval by \`${w.login}\` (comment ${w.commentId}) withdrawn: ${w.why}`);
  return out;
}

/** The audit part of result.json. */
export function auditJson(ledger: Ledger) {
  const rev = ledger.plan?.revision;
  return {
    revision: rev,
    approvals: currentApprovals(ledger),
    commands: ledger.commands.filter((x) => x.revision === rev),
    withdrawn: ledger.withdrawn.filter((x) => x.revision === rev),
  };
}
