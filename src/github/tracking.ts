// The GitHub edge of plan mode: one tracking issue per cluster, found by its hidden marker.
// A new plan ID opens a new revision (earlier approvals are discarded, and the issue says so); the
// same plan ID refreshes the report and keeps the revision; nothing to do closes the issue.
import * as github from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import type { Plan } from '../plan/types.ts';
import { shortId } from '../plan/canonical.ts';
import { isTracking, readTrackedPlan, renderBody, type TrackedPlan } from './body.ts';
import { md } from '../report/escape.ts';

export type Octokit = ReturnType<typeof github.getOctokit>;
export const LABEL = 'reboot-pilot';

/** Octokit with the retry and throttling plugins (secondary rate limits are retried twice). */
export function makeOctokit(token: string, log: (l: string) => void): Octokit {
  return github.getOctokit(
    token,
    {
      throttle: {
        onRateLimit: (after: number, o: { method: string; url: string }, _k: unknown, count: number) => {
          log(`GitHub rate limit on ${o.method} ${o.url}; retrying after ${after}s`);
          return count < 2;
        },
        onSecondaryRateLimit: (after: number, o: { method: string; url: string }, _k: unknown, count: number) => {
          log(`GitHub secondary rate limit on ${o.method} ${o.url}; retrying after ${after}s`);
          return count < 2;
        },
      },
    },
    retry,
    throttling,
  );
}

export interface Repo {
  owner: string;
  repo: string;
}

export interface SyncResult {
  issueNumber?: number;
  /** opened: a new issue; revised: a new plan on the existing issue; refreshed: same plan; closed: nothing to do. */
  outcome: 'opened' | 'revised' | 'refreshed' | 'closed' | 'none';
  tracked?: TrackedPlan;
}

async function findTracking(octokit: Octokit, r: Repo, cluster: string) {
  const open = await octokit.paginate(octokit.rest.issues.listForRepo, { ...r, state: 'open', labels: LABEL, per_page: 100 });
  return open.find((i) => !i.pull_request && isTracking(i.body, cluster));
}

export async function syncTrackingIssue(
  octokit: Octokit,
  r: Repo,
  o: { cluster: string; plan: Plan; planId: string; report: (preamble: string) => string; now: Date; ttlHours: number; requestedBy?: string },
): Promise<SyncResult> {
  const existing = await findTracking(octokit, r, o.cluster);
  if (!o.plan.nodes.length) {
    if (!existing) return { outcome: 'none' };
    await octokit.rest.issues.createComment({ ...r, issue_number: existing.number, body: `Nothing needs a reboot any more: all ${o.plan.upToDate.length} inspected node(s) are up to date. Closing.` });
    await octokit.rest.issues.update({ ...r, issue_number: existing.number, state: 'closed', state_reason: 'completed' });
    return { issueNumber: existing.number, outcome: 'closed' };
  }
  const before = existing ? readTrackedPlan(existing.body) : undefined;
  const same = before?.planId === o.planId;
  const tracked: TrackedPlan = same
    ? before!
    : {
        v: 1,
        planId: o.planId,
        revision: (before?.revision ?? 0) + 1,
        createdAt: o.now.toISOString(),
        expiresAt: new Date(o.now.getTime() + o.ttlHours * 3_600_000).toISOString(),
        ...(o.requestedBy ? { requestedBy: o.requestedBy } : {}),
        nodes: o.plan.nodes.map((n) => n.name),
      };
  const preamble = `To approve, comment \`/approve ${shortId(o.planId)}\` (revision ${tracked.revision}, expires ${tracked.expiresAt}). Other commands: \`/reject [reason]\`, \`/replan\`, \`/skip <node>\`, \`/status\`.`;
  const progress = o.plan.nodes.map((n) => ({ node: n.name, mark: 'pending' as const, text: n.method === 'reboot' ? 'reboot' : 'node image upgrade' }));
  const body = renderBody(o.cluster, tracked, o.report(preamble), progress);
  const title = `Reboot plan for ${o.cluster}: ${o.plan.nodes.length} node(s)`;
  if (!existing) {
    const created = await octokit.rest.issues.create({ ...r, title, body, labels: [LABEL] });
    return { issueNumber: created.data.number, outcome: 'opened', tracked };
  }
  await octokit.rest.issues.update({ ...r, issue_number: existing.number, title, body });
  if (!same) {
    await octokit.rest.issues.createComment({
      ...r,
      issue_number: existing.number,
      body: `The cluster changed: plan \`${shortId(o.planId)}\` (revision ${tracked.revision}) replaces \`${md(before ? shortId(before.planId) : 'none')}\`. Earlier approvals are discarded.`,
    });
  }
  return { issueNumber: existing.number, outcome: same ? 'refreshed' : 'revised', tracked };
}
