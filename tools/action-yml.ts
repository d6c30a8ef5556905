// Writes action.yml from src/settings.ts, so every input has the same name, default and text as
// the CLI flag and the README. `--check` fails when the committed file differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXECUTE_SETTINGS, PLAN_SETTINGS } from '../src/settings.ts';
import { GITHUB_SETTINGS } from '../src/github/settings.ts';
import { AZURE_SETTINGS } from '../src/azure/settings.ts';
import { ACTION_STATES } from '../src/states.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const q = (s: string) => JSON.stringify(s);
// In a workflow the token defaults to the job's GITHUB_TOKEN; the CLI has none.
const ACTION_DEFAULTS: Record<string, string> = { 'github-token': '${{ github.token }}' };
const group = (title: string, settings: Record<string, readonly [unknown, string, string]>) =>
  `  # ${title}\n` +
  Object.entries(settings)
    .map(
      ([name, [, def, doc]]) =>
        `  ${name}:\n    description: ${q(doc)}\n    required: false\n    default: ${q(ACTION_DEFAULTS[name] ?? def)}`,
    )
    .join('\n');
// Every state the code can return (src/states.ts), in one line: "value: meaning; ...".
const states = Object.entries(ACTION_STATES)
  .map(([state, meaning]) => `${state}: ${meaning}`)
  .join('; ');
const inputs = [
  group('GitHub: tracking and approvals', GITHUB_SETTINGS),
  group("Planning (also the CLI's plan flags)", PLAN_SETTINGS),
  group("Execution (also the CLI's run flags)", EXECUTE_SETTINGS),
  group('Azure and AKS (the client secret comes from AZURE_CLIENT_SECRET, never an input)', AZURE_SETTINGS),
].join('\n');

const text = `# Generated from src/settings.ts by \`node tools/action-yml.ts\`; edit the settings, not this file.
name: Reboot Pilot
description: Finds Kubernetes nodes that need a reboot after kernel and security updates, plans the reboots for review, and reboots them one at a time after approval.
author: Reboot Pilot
branding:
  icon: refresh-cw
  color: blue

inputs:
${inputs}

outputs:
  plan-id:
    description: SHA-256 of the plan's canonical JSON; approvals name it (a prefix of at least 12 digits).
  state:
    description: ${q(`One of: ${states}.`)}
  nodes-pending:
    description: Nodes of the plan not yet rebooted, failed or skipped.
  nodes-rebooted:
    description: Nodes of the plan rebooted in place so far, over all runs of the plan.
  nodes-reimaged:
    description: Nodes of the plan patched by a node image upgrade of their pool (planned, or the fallback of a failed reboot) so far.
  nodes-failed:
    description: Nodes of the plan whose step failed.
  plan-file:
    description: Path of plan.json (the plan and its ID) written under RUNNER_TEMP.
  report-file:
    description: Path of the full, untruncated Markdown report written under RUNNER_TEMP.
  issue-number:
    description: Number of the cluster's tracking issue (tracking issue).
  pr-number:
    description: Number of the cluster's tracking pull request (tracking pull-request).

runs:
  using: node24
  main: action/index.js
`;

const target = join(root, 'action.yml');
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) {
    console.error(
      'action.yml does not match src/settings.ts: run `node tools/action-yml.ts` and commit the result',
    );
    process.exit(1);
  }
  console.log('action.yml matches the settings');
} else {
  writeFileSync(target, text);
}
