// The ready-to-copy workflows: every input they pass exists in action.yml, every job declares
// least-privilege permissions, and every job that can execute shares a per-cluster concurrency
// group that never cancels a running execution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown>; outputs: Record<string, unknown> };
const files = readdirSync(join(root, 'workflows')).filter((f) => f.endsWith('.yml'));

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  steps: Step[];
}

test('the workflows exist for schedule, dispatch, comment approvals, PR mode and a fleet', () => {
  assert.deepEqual(files.sort(), ['reboot-approve-environment.yml', 'reboot-approve.yml', 'reboot-fleet.yml', 'reboot-plan.yml', 'reboot-pr.yml']);
});

for (const f of files) {
  test(`${f}: known inputs, least privilege, a concurrency group that never cancels`, () => {
    const wf = parse(readFileSync(join(root, 'workflows', f), 'utf8')) as { permissions: unknown; jobs: Record<string, Job> };
    assert.deepEqual(wf.permissions, {}, 'no workflow-wide permissions: each job asks for its own');
    for (const [name, job] of Object.entries(wf.jobs)) {
      const ours = job.steps.filter((s) => s.uses?.startsWith('reboot-pilot/reboot-pilot@'));
      if (!ours.length) continue;
      for (const s of ours) for (const input of Object.keys(s.with ?? {})) assert.ok(input in action.inputs, `${f} ${name}: ${input} is not an input of action.yml`);
      const p = job.permissions ?? {};
      assert.ok(p.issues === 'write', `${f} ${name}: issues: write for the tracking item`);
      const pr = ours.some((s) => s.with?.tracking === 'pull-request');
      assert.equal(p['pull-requests'], pr ? 'write' : undefined, `${f} ${name}: pull-requests only in PR mode`);
      assert.equal(p.contents, pr ? 'write' : 'read', `${f} ${name}: contents write only in PR mode`);
      const oidc = ours.some((s) => s.with?.['azure-credential'] === 'oidc');
      assert.equal(p['id-token'], oidc ? 'write' : undefined, `${f} ${name}: id-token only for OIDC`);
      assert.ok(job.concurrency, `${f} ${name}: a concurrency group`);
      assert.equal(job.concurrency['cancel-in-progress'], false, `${f} ${name}: never cancel a running execution`);
    }
  });
}
