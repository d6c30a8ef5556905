// The README's first command: `npm run demo` shows the whole flow and exits 0. Run as the README
// says (the demo script under Node 24), its output checked for each stage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('npm run demo: plan → issue → approval → serial VMSS restarts → Windows node image upgrade → closed, exit 0', async () => {
  // --dump keeps the bodies the fake GitHub held (the README's pictures are made from them).
  const dump = mkdtempSync(join(tmpdir(), 'rp-demo-dump-'));
  const child = spawn(process.execPath, [join(root, 'tools', 'demo.ts'), '--dump', dump], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const text = stripVTControlCharacters(out);
  assert.equal(code, 0, text.slice(-4000));
  assert.match(text, /tracking issue #1 opened: plan [0-9a-f]{12}, 3 nodes, state awaiting-approval/);
  assert.match(text, /action │ signed in to Azure with oidc/);
  assert.match(text, /Azure accepted the restart of VMSS instance .*aks-userpool-87654321-vmss\/0/);
  assert.match(text, /win: AKS accepted the node image upgrade/);
  assert.match(
    text,
    /issue #1 is closed; outputs: state completed, rebooted 2, reimaged 1, failed 0, pending 0/,
  );
  // The plan says what the reboots fix, how long the nodes waited and how long it will take;
  // the result shows the timeline.
  assert.match(
    text,
    /│ Security: the reboots fix at least \*\*\d+ CVEs\*\* \(urgency \w+\)\. The oldest has been pending for \*\*3 days\*\*\./,
  );
  assert.match(
    text,
    /│ \*\*Estimate:\*\* about \*\*\d+ min\*\* for 3 nodes, one at a time \(1 from the node's own last reboot, /,
  );
  assert.match(text, /│ ```mermaid\n\s+│ gantt\n/);
  assert.match(text, /at most 1 node unavailable because of Reboot Pilot, 0 violations/);
  assert.match(text, /0 OpenAPI violations; ARM: 0 violations/);
  // Steps come one node at a time: the second node is cordoned only after the first is back.
  const steps = [...text.matchAll(/action │ (aks-\S+): (cordon|uncordon)$/gm)].map((m) => `${m[2]} ${m[1]}`);
  assert.equal(steps.length, 4, steps.join('\n'));
  assert.deepEqual(
    steps.map((x) => x.split(' ')[0]),
    ['cordon', 'uncordon', 'cordon', 'uncordon'],
  );
  assert.equal(steps[0]!.split(' ')[1], steps[1]!.split(' ')[1]);
  assert.notEqual(steps[0]!.split(' ')[1], steps[2]!.split(' ')[1]);
  assert.doesNotMatch(
    text,
    /ghs_demo-token|BEGIN CERTIFICATE|eyJ[A-Za-z0-9_-]{20,}\./,
    'no token or certificate in the output',
  );
  const bodies = readdirSync(dump);
  for (const f of ['issue-planned.md', 'issue-final.md']) assert.ok(bodies.includes(f), f);
  assert.match(
    readFileSync(join(dump, 'issue-planned.md'), 'utf8'),
    /^<!-- reboot-pilot:tracking cluster=aks-demo -->/,
  );
  const comments = bodies
    .filter((f) => /^comment-\d+\.md$/.test(f))
    .map((f) => readFileSync(join(dump, f), 'utf8'));
  // The final comment opens with the audit (who approved), then the result's heading.
  assert.ok(
    comments.some((c) => /^### Reboot Pilot: plan `[0-9a-f]{12}` on aks\\-demo completed/m.test(c)),
    'the final comment',
  );
  rmSync(dump, { recursive: true, force: true });
});
