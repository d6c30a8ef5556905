// The action, as the workflow reads: inputs -> event -> mode -> one call.
import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { connect, UserError } from './kube/client.ts';
import {
  EXECUTE_SETTINGS,
  PLAN_SETTINGS,
  parseExecuteSettings,
  parsePlanSettings,
  type ExecuteSettings,
} from './settings.ts';
import { estimateOptions } from './estimate/options.ts';
import { GITHUB_SETTINGS, parseGitHubSettings, type GitHubSettings } from './github/options.ts';
import { makeOctokit } from './github/octokit.ts';
import { IssueTracker, PullRequestTracker, type Tracker } from './github/tracker.ts';
import { runSession, type SessionEvent, type SessionMode, type SessionResult } from './github/session.ts';
import { inspectCluster } from './plan/inspect.ts';
import { canonicalJson, shortId } from './plan/canonical.ts';
import { renderMarkdown } from './report/markdown.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { AZURE_SETTINGS, aksEnabled, parseAzureSettings } from './azure/settings.ts';
import type { KubeClients } from './kube/client.ts';
import type { AksFacts } from './plan/types.ts';

/** The mode an event implies; the `mode` input overrides it. */
export function modeFor(eventName: string, override: GitHubSettings['mode']): SessionMode {
  if (override !== 'auto') return override;
  switch (eventName) {
    case 'schedule':
    case 'workflow_dispatch':
      return 'plan';
    case 'issue_comment':
      return 'execute';
    default:
      throw new UserError(
        `the ${eventName || 'unknown'} event does not imply a mode: run on schedule, workflow_dispatch or issue_comment, or set the mode input`,
      );
  }
}

function inputs(names: string[]): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const name of names) {
    const v = core.getInput(name);
    if (v !== '') raw[name] = v;
  }
  return raw;
}

/** What the event says: who asked, and which issue or PR a comment is on. Deleted comments are no one's command. */
function readEvent(name: string): SessionEvent | undefined {
  // Who caused this run (a re-run's actor is the one who re-ran it): the requester for self-approval.
  const actor = process.env.GITHUB_TRIGGERING_ACTOR || process.env.GITHUB_ACTOR;
  const event: SessionEvent = { name, ...(actor ? { actor } : {}) };
  if (name !== 'issue_comment') return event;
  const path = process.env.GITHUB_EVENT_PATH;
  if (!path)
    throw new UserError(
      'GITHUB_EVENT_PATH is not set: the issue_comment event payload is needed to know which issue was commented on',
    );
  const payload = JSON.parse(readFileSync(path, 'utf8')) as {
    action?: string;
    issue?: { number?: number };
    comment?: { id?: number };
  };
  if (payload.action === 'deleted') return undefined;
  if (typeof payload.issue?.number !== 'number')
    throw new UserError(`the event payload at ${path} has no issue number`);
  // The comment that triggered the run: only the one the ledger names as the start of an execution starts it.
  const commentId = typeof payload.comment?.id === 'number' ? { commentId: payload.comment.id } : {};
  return { ...event, issueNumber: payload.issue.number, ...commentId };
}

function setOutputs(r: SessionResult, kind: Tracker['kind'] | undefined): void {
  if (r.planId) core.setOutput('plan-id', r.planId);
  core.setOutput('state', r.state);
  core.setOutput('nodes-pending', String(r.nodesPending));
  core.setOutput('nodes-rebooted', String(r.nodesRebooted));
  core.setOutput('nodes-reimaged', String(r.nodesReimaged ?? 0));
  core.setOutput('nodes-failed', String(r.nodesFailed));
  if (r.planFile) core.setOutput('plan-file', r.planFile);
  if (r.reportFile) core.setOutput('report-file', r.reportFile);
  if (r.number) core.setOutput(kind === 'pull-request' ? 'pr-number' : 'issue-number', String(r.number));
}

/** Without a token: inspect and report only (job summary, files, outputs). */
async function planOnly(
  settings: ReturnType<typeof parsePlanSettings>,
  clients: KubeClients,
  aksFacts: (() => Promise<AksFacts | undefined>) | undefined,
  outDir: string,
  execute: ExecuteSettings,
): Promise<SessionResult> {
  const log = (l: string) => core.info(l);
  const aks = await aksFacts?.();
  const { plan, id } = await inspectCluster(clients, settings, log, aks);
  const estimate = estimateOptions(execute, aks);
  const now = new Date();
  const dir = join(outDir, shortId(id));
  mkdirSync(dir, { recursive: true });
  const planFile = join(dir, 'plan.json');
  const reportFile = join(dir, 'report.md');
  writeFileSync(
    planFile,
    JSON.stringify({ planId: id, plan: JSON.parse(canonicalJson(plan)) as unknown }, null, 2) + '\n',
  );
  writeFileSync(reportFile, renderMarkdown(plan, id, { now, estimate, limit: Number.MAX_SAFE_INTEGER }));
  const summary = renderMarkdown(plan, id, {
    now,
    estimate,
    fullReportRef: 'report.md in the reboot-pilot artifact',
  });
  return {
    outcome: 'none',
    state: plan.nodes.length ? 'planned' : 'up-to-date',
    planId: id,
    nodesPending: plan.nodes.length,
    nodesRebooted: 0,
    nodesFailed: 0,
    planFile,
    reportFile,
    summary,
  };
}

export async function run(): Promise<void> {
  try {
    const plan = parsePlanSettings(inputs(Object.keys(PLAN_SETTINGS)));
    const execute = parseExecuteSettings(inputs(Object.keys(EXECUTE_SETTINGS)));
    const github = parseGitHubSettings(inputs(Object.keys(GITHUB_SETTINGS)));
    const azure = parseAzureSettings(inputs(Object.keys(AZURE_SETTINGS)));
    const eventName = process.env.GITHUB_EVENT_NAME ?? '';
    const mode = modeFor(eventName, github.mode);
    const event = readEvent(eventName);
    const outDir = join(process.env.RUNNER_TEMP || tmpdir(), 'reboot-pilot');
    const token = github['github-token'];
    const repository = process.env.GITHUB_REPOSITORY ?? '';
    if (!event) return core.info('a deleted comment: nothing to do');
    const log = (l: string) => core.info(l);
    // AKS: Entra tokens from GitHub OIDC (fresh for every exchange), cluster access without a kubeconfig.
    // The Azure SDKs load only when Azure is asked for: a kubeconfig-only run starts faster.
    const needed = execute['reboot-method'] === 'azure-vmss';
    const wire = aksEnabled(azure) || needed ? await import('./azure/wire.ts') : undefined;
    const az = wire?.openAzure(azure, { needed, getIDToken: (aud) => core.getIDToken(aud), log });
    const clients = (await wire?.azureKubeClients(az, plan, log)) ?? connect(plan);
    const aksFacts = wire ? () => wire.azurePlanFacts(az, log) : undefined;
    let result: SessionResult;
    let kind: Tracker['kind'] | undefined;
    if (!token || !repository.includes('/')) {
      if (mode !== 'plan')
        throw new UserError(
          `mode ${mode} needs github-token and GITHUB_REPOSITORY: commands and approvals live on the tracking issue or pull request`,
        );
      result = await planOnly(plan, clients, aksFacts, outDir, execute);
    } else {
      core.setSecret(token);
      // The record is the ledger in the cluster now; a state key signs nothing any more.
      if (github['state-key']) core.setSecret(github['state-key']);
      const [owner, repo] = repository.split('/') as [string, string];
      const octokit = makeOctokit(token, (l) => core.warning(l));
      const tracker: Tracker =
        github.tracking === 'pull-request'
          ? new PullRequestTracker(
              octokit,
              { owner, repo },
              {
                base: github['pr-base'],
                branchPrefix: github['pr-branch-prefix'],
                directory: github['pr-directory'],
                onComplete: github['pr-on-complete'],
                log: (l) => core.warning(l),
              },
            )
          : new IssueTracker(octokit, { owner, repo });
      kind = tracker.kind;
      const runUrl = process.env.GITHUB_RUN_ID
        ? `${process.env.GITHUB_SERVER_URL ?? 'https://github.com'}/${repository}/actions/runs/${process.env.GITHUB_RUN_ID}`
        : undefined;
      result = await runSession(mode, {
        tracker,
        octokit,
        repo: { owner, repo },
        clients,
        settings: { plan, execute, github },
        event,
        outDir,
        log,
        error: (l) => core.error(l),
        ...(wire ? { aksFacts: aksFacts!, extras: () => wire.azureExtras(az, execute, clients, log) } : {}),
        ...(runUrl ? { runUrl } : {}),
      });
      core.info(`tracking ${tracker.kind}: ${result.outcome}${result.number ? ` #${result.number}` : ''}`);
    }
    await core.summary.addRaw(result.summary).write();
    setOutputs(result, kind);
    core.info(
      `plan ${result.planId ? shortId(result.planId) : '-'}: ${result.state}; ${result.nodesPending} pending, ${result.nodesRebooted} rebooted, ${result.nodesReimaged ?? 0} reimaged, ${result.nodesFailed} failed`,
    );
    if (result.unrecorded?.length)
      core.setFailed(
        `${result.unrecorded.length} write(s) to the tracking ${kind ?? 'issue'} failed (the ledger in the cluster has the full record); the first: ${result.unrecorded[0]}`,
      );
    else if (result.state === 'failed' || result.state === 'stale')
      core.setFailed(
        `plan ${result.planId ? shortId(result.planId) : ''} ${result.state}: see the tracking ${kind ?? 'issue'} and the job summary`,
      );
  } catch (e) {
    core.setFailed(e instanceof UserError ? e.message : ((e as Error).stack ?? String(e)));
  }
}
