// Writes action.yml from src/settings.ts, so every input has the same name, default and text as
// the CLI flag and the README. `--check` fails when the committed file differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLAN_SETTINGS } from '../src/settings.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const q = (s: string) => JSON.stringify(s);
const inputs = Object.entries(PLAN_SETTINGS)
  .map(([name, [, def, doc]]) => `  ${name}:\n    description: ${q(doc)}\n    required: false\n    default: ${q(def)}`)
  .join('\n');

const text = `# Generated from src/settings.ts by \`node tools/action-yml.ts\`; edit the settings, not this file.
name: Reboot Pilot
description: Finds Kubernetes nodes that need a reboot after kernel and security updates, plans the reboots for review, and reboots them one at a time after approval.
author: Reboot Pilot
branding:
  icon: refresh-cw
  color: blue

inputs:
  mode:
    description: "auto (from the event: schedule and workflow_dispatch plan; issue_comment decides), or plan, decide, execute. This version implements plan."
    required: false
    default: "auto"
  github-token:
    description: "Token for the tracking issue (needs issues: write). Empty: no tracking issue, only the job summary and outputs."
    required: false
    default: "\${{ github.token }}"
  plan-ttl-hours:
    description: "Hours a plan can be approved before it expires and needs /replan."
    required: false
    default: "48"
${inputs}

outputs:
  plan-id:
    description: SHA-256 of the plan's canonical JSON; approvals name it (a prefix of at least 12 digits).
  state:
    description: "planned (some node needs patching) or up-to-date."
  nodes-pending:
    description: Number of nodes in the plan (reboots and node image upgrades).
  plan-file:
    description: Path of plan.json (the plan and its ID) written under RUNNER_TEMP.
  report-file:
    description: Path of the full, untruncated Markdown report written under RUNNER_TEMP.
  issue-number:
    description: Number of the cluster's tracking issue (when github-token is set and the plan has nodes or closed one).

runs:
  using: node24
  main: action/index.js
`;

const target = join(root, 'action.yml');
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) {
    console.error('action.yml does not match src/settings.ts: run `node tools/action-yml.ts` and commit the result');
    process.exit(1);
  }
  console.log('action.yml matches the settings');
} else {
  writeFileSync(target, text);
}
