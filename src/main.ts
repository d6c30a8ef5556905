// The action, as the workflow reads: inputs -> event -> mode -> one call.
import * as core from '@actions/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { connect, UserError } from './kube/client.ts';
import { PLAN_SETTINGS, parsePlanSettings, type PlanSettings } from './settings.ts';
import { inspectCluster } from './plan/inspect.ts';
import { canonicalJson, shortId } from './plan/canonical.ts';
import { renderMarkdown } from './report/markdown.ts';
import { LABEL, makeOctokit, syncTrackingIssue } from './github/tracking.ts';

export type Mode = 'plan' | 'decide' | 'execute';

/** The mode an event implies; the `mode` input overrides it. */
export function modeFor(eventName: string, override: string): Mode {
  if (override && override !== 'auto') {
    if (override === 'plan' || override === 'decide' || override === 'execute') return override;
    throw new UserError(`mode must be auto, plan, decide or execute, not "${override}"`);
  }
  switch (eventName) {
    case 'schedule':
    case 'workflow_dispatch':
      return 'plan';
    case 'issue_comment':
      return 'decide';
    default:
      throw new UserError(`the ${eventName || 'unknown'} event does not imply a mode: run on schedule, workflow_dispatch or issue_comment, or set the mode input`);
  }
}

function readSettings(): PlanSettings {
  const raw: Record<string, string> = {};
  for (const name of Object.keys(PLAN_SETTINGS)) {
    const v = core.getInput(name);
    if (v !== '') raw[name] = v;
  }
  return parsePlanSettings(raw);
}

async function plan(settings: PlanSettings): Promise<void> {
  const clients = connect(settings);
  const { plan, id } = await inspectCluster(clients, settings, (l) => core.info(l));
  const now = new Date();
  // The full report and the plan go to files (uploaded as an artifact or committed in PR mode);
  // bodies and summaries get the size-capped rendering that points at them.
  const dir = join(process.env.RUNNER_TEMP || tmpdir(), 'reboot-pilot', shortId(id));
  mkdirSync(dir, { recursive: true });
  const planFile = join(dir, 'plan.json');
  const reportFile = join(dir, 'report.md');
  writeFileSync(planFile, JSON.stringify({ planId: id, plan: JSON.parse(canonicalJson(plan)) }, null, 2) + '\n');
  writeFileSync(reportFile, renderMarkdown(plan, id, { now, limit: Number.MAX_SAFE_INTEGER }));
  await core.summary.addRaw(renderMarkdown(plan, id, { now, fullReportRef: 'report.md in the reboot-pilot artifact' })).write();
  // The tracking issue, when the workflow gives the action a token (issues: write).
  const token = core.getInput('github-token');
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  if (token && repository.includes('/')) {
    core.setSecret(token);
    const [owner, repo] = repository.split('/') as [string, string];
    const ttl = Number(core.getInput('plan-ttl-hours') || '48');
    if (!Number.isFinite(ttl) || ttl <= 0) throw new UserError(`plan-ttl-hours must be a positive number, not "${core.getInput('plan-ttl-hours')}"`);
    const r = await syncTrackingIssue(makeOctokit(token, (l) => core.warning(l)), { owner, repo }, {
      cluster: plan.cluster.name,
      plan,
      planId: id,
      report: (preamble) => renderMarkdown(plan, id, { now, preamble, fullReportRef: 'report.md in the reboot-pilot artifact' }),
      now,
      ttlHours: ttl,
      ...(process.env.GITHUB_EVENT_NAME === 'workflow_dispatch' && process.env.GITHUB_ACTOR ? { requestedBy: process.env.GITHUB_ACTOR } : {}),
    });
    if (r.issueNumber) core.setOutput('issue-number', String(r.issueNumber));
    core.info(`tracking issue (label ${LABEL}): ${r.outcome}${r.issueNumber ? ` #${r.issueNumber}` : ''}`);
  }
  core.setOutput('plan-id', id);
  core.setOutput('state', plan.nodes.length ? 'planned' : 'up-to-date');
  core.setOutput('nodes-pending', String(plan.nodes.length));
  core.setOutput('plan-file', planFile);
  core.setOutput('report-file', reportFile);
  core.info(`plan ${shortId(id)}: ${plan.nodes.length} node(s) to patch, ${plan.upToDate.length} up to date, ${plan.unknown.length} not inspected`);
}

export async function run(): Promise<void> {
  try {
    const settings = readSettings();
    const mode = modeFor(process.env.GITHUB_EVENT_NAME ?? '', core.getInput('mode'));
    switch (mode) {
      case 'plan':
        return await plan(settings);
      case 'decide':
      case 'execute':
        throw new UserError(`mode ${mode} is not available in this version of Reboot Pilot; only plan is`);
    }
  } catch (e) {
    core.setFailed(e instanceof UserError ? e.message : ((e as Error).stack ?? String(e)));
  }
}
