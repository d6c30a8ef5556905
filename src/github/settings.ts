// The action's GitHub settings: where the plan is reviewed (issue or pull request) and who may
// approve it. Same tuple shape as src/settings.ts, so action.yml and the README list them alike.
import { z } from 'zod';
import { bool, int, parseSettings, type Parsed } from '../settings.ts';
import type { Permission } from './decide.ts';

const PERMISSIONS = ['read', 'triage', 'write', 'maintain', 'admin'] as const;

const list = (name: string, item: RegExp) =>
  z.string().transform((value, ctx) => {
    const out = value
      .split(/[\s,]+/)
      .map((entry) => entry.trim())
      .filter(Boolean);
    const bad = out.find((entry) => !item.test(entry));
    if (bad) {
      ctx.addIssue({ code: 'custom', message: `${name}: "${bad}" is not a valid entry` });
      return z.NEVER;
    }
    return out;
  });

const posInt = (name: string, max: number) => int(name, 1, max);

export const GITHUB_SETTINGS = {
  mode: [
    z.enum(['auto', 'plan', 'decide', 'execute']),
    'auto',
    'auto: schedule and workflow_dispatch plan, issue_comment executes. plan: answer commands, ' +
      'continue an approved unfinished plan, otherwise inspect and update the tracking issue or PR. ' +
      'decide: answer commands only (for a follow-up job behind an environment). execute: answer ' +
      'commands and execute an approved plan.',
  ],
  // action.yml defaults this to ${{ github.token }}; outside a workflow there is no token.
  'github-token': [
    z.string(),
    '',
    'Token for the tracking issue or PR (issues: write; PR mode also contents: write and ' +
      'pull-requests: write). Empty: no tracking, only the job summary and outputs.',
  ],
  tracking: [
    z.enum(['issue', 'pull-request']),
    'issue',
    'Where a plan is reviewed: issue, or pull-request (the plan and the result are committed to a ' +
      'branch, so git history is the audit trail).',
  ],
  'plan-ttl-hours': [
    posInt('plan-ttl-hours', 24 * 365),
    '48',
    'Hours a plan can be approved before it expires and needs /replan.',
  ],
  'min-permission': [
    z.enum(PERMISSIONS),
    'write',
    'Repository role a commenter needs for commands other than /status (read, triage, write, maintain, ' +
      'admin), checked through the collaborator-permission API.',
  ],
  'allow-users': [
    list('allow-users', /^[A-Za-z0-9-]{1,39}$/),
    '',
    'If set, only these GitHub users may give commands (comma- or space-separated), on top of ' +
      'min-permission.',
  ],
  'allow-teams': [
    list('allow-teams', /^[A-Za-z0-9-]+\/[A-Za-z0-9_.-]+$/),
    '',
    'If set, only members of these teams (org/team-slug) may give commands. The token must be a GitHub ' +
      'App installation token with the organization permission Members: read (GITHUB_TOKEN cannot read ' +
      'teams; personal access tokens are refused); when it cannot, nobody is authorized.',
  ],
  'required-approvals': [posInt('required-approvals', 10), '1', 'Distinct approvers a plan needs.'],
  'prevent-self-approval': [
    bool('prevent-self-approval'),
    'false',
    'Refuse an approval from the user who asked for the plan (the workflow_dispatch actor or the ' +
      '/replan author).',
  ],
  'state-key': [
    z.string(),
    '',
    'No longer used (kept so existing workflows keep working): the record of approvals, commands and ' +
      'the execution is the ledger ConfigMap reboot-pilot-ledger in namespace, written only by the ' +
      "action's Kubernetes identity; nothing in the tracking body is trusted.",
  ],
  'expect-plan-id': [
    z.string().regex(/^[0-9a-fA-F]*$/),
    '',
    "execute mode: only execute if the ledger's plan ID is exactly this full 64-digit ID (the plan-id " +
      'output of the decide job an environment reviewer approved).',
  ],
  'progress-interval': [
    posInt('progress-interval', 3600),
    '15',
    'Least seconds between live progress updates of the tracking body (node ends always update).',
  ],
  'pr-base': [z.string(), '', 'PR mode: the base branch (default: the repository default branch).'],
  'pr-branch-prefix': [
    z.string().regex(/^[A-Za-z0-9._/-]*$/),
    'reboot-pilot/',
    'PR mode: the plan branch is this prefix plus the cluster name.',
  ],
  'pr-directory': [
    z.string().regex(/^[A-Za-z0-9._/-]*$/),
    'reboot-pilot',
    'PR mode: directory for <cluster>/plan.json, report.md and result.md.',
  ],
  'pr-on-complete': [
    z.enum(['merge', 'close']),
    'merge',
    'PR mode: after a completed execution, merge the PR (the result lands on the base branch) or close it.',
  ],
} as const;

export type GitHubSettings = Parsed<typeof GITHUB_SETTINGS>;

export const parseGitHubSettings = (raw: Partial<Record<string, string | undefined>>): GitHubSettings =>
  parseSettings(GITHUB_SETTINGS, raw);

export const permissionOf = (roleName: string): Permission =>
  (PERMISSIONS as readonly string[]).includes(roleName) ? (roleName as Permission) : 'none';
