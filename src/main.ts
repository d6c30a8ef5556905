// The action, as the workflow reads: inputs -> event -> mode -> one call.
import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { connect } from './kube/client.ts';
import { UserError } from './errors.ts';
import { shortId } from './plan/canonical.ts';
import { inspectCluster } from './plan/inspect.ts';
import { estimateOptions } from './estimate/options.ts';
import {
  EXECUTE_SETTINGS,
  PLAN_SETTINGS,
  parseExecuteSettings,
  parsePlanSettings,
  type ExecuteSettings,
  type PlanSettings,
} from './settings.ts';
import { AZURE_SETTINGS, aksEnabled, parseAzureSettings, type AzureSettings } from './azure/settings.ts';
import { GITHUB_SETTINGS, parseGitHubSettings, type GitHubSettings } from './github/settings.ts';
import { makeOctokit } from './github/octokit.ts';
import { IssueTracker, PullRequestTracker, type Tracker } from './github/tracker.ts';
import { writePlanArtifacts } from './github/planning.ts';
import {
  runSession,
  type SessionDeps,
  type SessionEvent,
  type SessionMode,
  type SessionResult,
} from './github/session.ts';

interface Settings {
  plan: PlanSettings;
  execute: ExecuteSettings;
  github: GitHubSettings;
  azure: AzureSettings;
}

/** The cluster as the run reaches it, and what the Azure integration adds when configured. */
type ClusterAccess = Pick<SessionDeps, 'clients' | 'aksFacts' | 'extras'>;

const log = (line: string) => core.info(line);

export async function run(): Promise<void> {
  try {
    const settings = readSettings();
    const eventName = process.env.GITHUB_EVENT_NAME ?? '';
    const mode = modeFor(eventName, settings.github.mode);
    const event = readEvent(eventName);
    if (!event) return core.info('a deleted comment: nothing to do');
    const outDir = join(process.env.RUNNER_TEMP || tmpdir(), 'reboot-pilot');
    const access = await connectCluster(settings);
    const tracker = openTracker(settings.github);
    if (!tracker && mode !== 'plan')
      throw new UserError(
        `mode ${mode} needs github-token and GITHUB_REPOSITORY: commands and approvals live on the ` +
          `tracking issue or pull request`,
      );
    const result = tracker
      ? await trackedSession(mode, { ...access, tracker, settings, event, outDir, log })
      : await planOnly(settings, access, outDir);
    await core.summary.addRaw(result.summary).write();
    setOutputs(result, tracker?.kind);
    reportResult(result, tracker?.kind);
  } catch (error) {
    core.setFailed(error instanceof UserError ? error.message : ((error as Error).stack ?? String(error)));
  }
}

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
        `the ${eventName || 'unknown'} event does not imply a mode: run on schedule, workflow_dispatch ` +
          `or issue_comment, or set the mode input`,
      );
  }
}

function inputs(names: string[]): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const name of names) {
    const value = core.getInput(name);
    if (value !== '') raw[name] = value;
  }
  return raw;
}

function readSettings(): Settings {
  return {
    plan: parsePlanSettings(inputs(Object.keys(PLAN_SETTINGS))),
    execute: parseExecuteSettings(inputs(Object.keys(EXECUTE_SETTINGS))),
    github: parseGitHubSettings(inputs(Object.keys(GITHUB_SETTINGS))),
    azure: parseAzureSettings(inputs(Object.keys(AZURE_SETTINGS))),
  };
}

/** What the event says: who asked, which issue or PR a comment is on. A deleted comment is no command. */
function readEvent(name: string): SessionEvent | undefined {
  // Who caused this run (a re-run's actor is the one who re-ran it): the requester for self-approval.
  const actor = process.env.GITHUB_TRIGGERING_ACTOR || process.env.GITHUB_ACTOR;
  const event: SessionEvent = { name, ...(actor ? { actor } : {}) };
  if (name !== 'issue_comment') return event;
  const path = process.env.GITHUB_EVENT_PATH;
  if (!path)
    throw new UserError(
      'GITHUB_EVENT_PATH is not set: the issue_comment event payload is needed to know ' +
        'which issue was commented on',
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

/**
 * AKS: Entra tokens from GitHub OIDC (fresh for every exchange), cluster access without a
 * kubeconfig. The Azure SDKs load only when Azure is asked for: a kubeconfig-only run starts faster.
 */
async function connectCluster(settings: Settings): Promise<ClusterAccess> {
  const { plan, execute, azure } = settings;
  const needed = execute.rebootMethod === 'azure-vmss';
  const wire = aksEnabled(azure) || needed ? await import('./azure/wire.ts') : undefined;
  if (!wire) return { clients: connect(plan) };
  const getIDToken = (audience?: string) => core.getIDToken(audience);
  const access = wire.openAzure(azure, { needed, getIDToken, log });
  const clients = (await wire.azureKubeClients(access, plan, log)) ?? connect(plan);
  return {
    clients,
    aksFacts: () => wire.azurePlanFacts(access, log),
    extras: () => wire.azureExtras(access, execute, clients, log),
  };
}

/** The tracking issue or pull request's repository, when a token and GITHUB_REPOSITORY are given. */
function openTracker(github: GitHubSettings): Tracker | undefined {
  const token = github.githubToken;
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  if (!token || !repository.includes('/')) return undefined;
  core.setSecret(token);
  // The record is the ledger in the cluster now; a state key signs nothing any more.
  if (github.stateKey) core.setSecret(github.stateKey);
  const [owner, repo] = repository.split('/') as [string, string];
  const octokit = makeOctokit(token, (line) => core.warning(line));
  if (github.tracking !== 'pull-request') return new IssueTracker(octokit, { owner, repo });
  return new PullRequestTracker(
    octokit,
    { owner, repo },
    {
      base: github.prBase,
      branchPrefix: github.prBranchPrefix,
      directory: github.prDirectory,
      onComplete: github.prOnComplete,
      log: (line) => core.warning(line),
    },
  );
}

async function trackedSession(
  mode: SessionMode,
  deps: Omit<SessionDeps, 'settings' | 'runUrl'> & { settings: Settings },
): Promise<SessionResult> {
  const { plan, execute, github } = deps.settings;
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  const server = process.env.GITHUB_SERVER_URL ?? 'https://github.com';
  const runId = process.env.GITHUB_RUN_ID;
  const runUrl = runId ? `${server}/${repository}/actions/runs/${runId}` : undefined;
  const result = await runSession(mode, {
    ...deps,
    error: (line) => core.error(line),
    settings: { plan, execute, github },
    ...(runUrl ? { runUrl } : {}),
  });
  const number = result.number ? ` #${result.number}` : '';
  core.info(`tracking ${deps.tracker.kind}: ${result.outcome}${number}`);
  return result;
}

/** Without a token: inspect and report only (job summary, files, outputs). */
async function planOnly(settings: Settings, access: ClusterAccess, outDir: string): Promise<SessionResult> {
  const aks = await access.aksFacts?.();
  const { plan, planId } = await inspectCluster(access.clients, settings.plan, log, aks);
  const estimate = estimateOptions(settings.execute, aks);
  const fullReportRef = 'report.md in the reboot-pilot artifact';
  const artifacts = writePlanArtifacts(outDir, plan, planId, { estimate, now: new Date(), fullReportRef });
  return {
    outcome: 'none',
    state: plan.nodes.length ? 'planned' : 'up-to-date',
    planId,
    nodesPending: plan.nodes.length,
    nodesRebooted: 0,
    nodesFailed: 0,
    planFile: artifacts.planFile,
    reportFile: artifacts.reportFile,
    summary: artifacts.summary,
  };
}

function setOutputs(result: SessionResult, kind: Tracker['kind'] | undefined): void {
  if (result.planId) core.setOutput('plan-id', result.planId);
  core.setOutput('state', result.state);
  core.setOutput('nodes-pending', String(result.nodesPending));
  core.setOutput('nodes-rebooted', String(result.nodesRebooted));
  core.setOutput('nodes-reimaged', String(result.nodesReimaged ?? 0));
  core.setOutput('nodes-failed', String(result.nodesFailed));
  if (result.planFile) core.setOutput('plan-file', result.planFile);
  if (result.reportFile) core.setOutput('report-file', result.reportFile);
  if (result.number)
    core.setOutput(kind === 'pull-request' ? 'pr-number' : 'issue-number', String(result.number));
}

/** The log line of every run, and a failed step for a failed or stale plan or a refused write. */
function reportResult(result: SessionResult, kind: Tracker['kind'] | undefined): void {
  const counts =
    `${result.nodesPending} pending, ${result.nodesRebooted} rebooted, ` +
    `${result.nodesReimaged ?? 0} reimaged, ${result.nodesFailed} failed`;
  core.info(`plan ${result.planId ? shortId(result.planId) : '-'}: ${result.state}; ${counts}`);
  const tracking = `the tracking ${kind ?? 'issue'}`;
  if (result.unrecorded?.length)
    core.setFailed(
      `${result.unrecorded.length} write(s) to ${tracking} failed ` +
        `(the ledger in the cluster has the full record); the first: ${result.unrecorded[0]}`,
    );
  else if (result.state === 'failed' || result.state === 'stale')
    core.setFailed(
      `plan ${result.planId ? shortId(result.planId) : ''} ${result.state}: ` +
        `see the tracking ${kind ?? 'issue'} and the job summary`,
    );
}
