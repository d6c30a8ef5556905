// workflows/reboot-environment.yml's jobs, run as the runner runs them (the bundled action, the fake
// GitHub, the real control plane), each with the credential the workflow gives it: the plan and
// decide jobs hold only the plan identity (deploy/rbac-plan.yaml), the execute job the rebooting
// one (deploy/rbac.yaml). A scheduled plan job that finds an execution due to continue never
// continues it itself; the execute job does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../harness/controlplane.ts';
import { NodeSimulator } from '../harness/simulator.ts';
import { InvariantWatcher } from '../harness/invariants.ts';
import { aksNode } from '../harness/nodes.ts';
import { BOOT_TIME, ubuntuUpToDate } from '../fixtures/hosts.ts';
import { FakeGitHub } from '../harness/github.ts';
import { applyProductRbac } from '../harness/workloads.ts';
import { runAction, type ActionEvent } from '../harness/action.ts';
import { stopAll } from '../harness/teardown.ts';
import { Ledger, LEDGER_KEY, LEDGER_NAME } from '../../src/ledger/record.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NEW_KERNEL = '5.15.0-1300-azure';
const nodes = [0, 1].map((i) => aksNode({ pool: 'nodepool1', index: i }).name);

let cluster: Cluster;
let sim: NodeSimulator;
let dir: string;
let rebooting: string;
let planOnly: string;
let gh: FakeGitHub;
let api: string;

before(async () => {
  cluster = await startCluster({ users: [{ name: 'reboot-pilot' }, { name: 'reboot-pilot-plan' }] });
  sim = new NodeSimulator(cluster);
  sim.rebootDownMs = 1000;
  await sim.start();
  dir = mkdtempSync(join(tmpdir(), 'rp-environment-'));
  rebooting = await applyProductRbac(cluster, dir);
  const objects = k8s.KubernetesObjectApi.makeApiClient(cluster.kc);
  const manifest = readFileSync(join(root, 'deploy', 'rbac-plan.yaml'), 'utf8');
  for (const doc of parseAllDocuments(manifest)) await objects.create(doc.toJSON() as k8s.KubernetesObject);
  planOnly = join(dir, 'plan.kubeconfig');
  writeFileSync(planOnly, cluster.kubeconfigFor('reboot-pilot-plan'));
  await sim.createNodes(
    nodes.map((_, i) => ({ ...aksNode({ pool: 'nodepool1', index: i }), bootTime: BOOT_TIME })),
  );
  for (const n of nodes) {
    sim.writeHostFiles(n, {
      ...ubuntuUpToDate,
      [`boot/vmlinuz-${NEW_KERNEL}`]: 'kernel',
      'var/run/reboot-required': '*** System restart required ***\n',
      'var/run/reboot-required.pkgs': `linux-image-${NEW_KERNEL}\n`,
    });
  }
  gh = new FakeGitHub({ users: [{ login: 'bob', role: 'write' }] });
  api = await gh.start();
});

after(async () => {
  await stopAll(gh, sim, cluster);
});

/** One job of the workflow: its mode and kubeconfig as reboot-environment.yml sets them. */
function job(event: ActionEvent, mode: string, kubeconfig: string, inputs: Record<string, string> = {}) {
  return runAction({
    dir,
    event,
    env: { GITHUB_API_URL: api, GITHUB_REPOSITORY: 'contoso/platform', GITHUB_RUN_ID: '77' },
    inputs: {
      mode,
      kubeconfig,
      'cluster-name': 'prod-cluster',
      'github-token': 'ghs_not-a-real-token',
      'probe-timeout': '20',
      soak: '0',
      'lock-ttl': '5',
      'reboot-timeout': '30',
      'progress-interval': '1',
      ...inputs,
    },
  });
}

/** The execution as the cluster's record (the ledger) holds it: the body is only a view. */
async function runState() {
  const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  const cm = await core.readNamespacedConfigMap({ name: LEDGER_NAME, namespace: 'kube-system' });
  return Ledger.parse(JSON.parse(cm.data![LEDGER_KEY]!)).run;
}

test('the plan identity plans and decides; only the environment job reboots, also to continue', async () => {
  const watcher = new InvariantWatcher(cluster);
  await watcher.start();
  const schedule: ActionEvent = { name: 'schedule', actor: 'github-actions[bot]' };
  const planned = await job(schedule, 'plan', planOnly);
  assert.equal(planned.code, 0, planned.stdout + planned.stderr);
  assert.equal(planned.outputs.state, 'awaiting-approval');
  const id = planned.outputs['plan-id']!;

  const c = gh.comment(1, 'bob', `/approve ${id.slice(0, 12)}`) as { id: number };
  const comment: ActionEvent = {
    name: 'issue_comment',
    actor: 'bob',
    payload: { action: 'created', issue: { number: 1 }, comment: { id: c.id } },
  };
  const decided = await job(comment, 'decide', planOnly);
  assert.equal(decided.code, 0, decided.stdout + decided.stderr);
  assert.equal(decided.outputs.state, 'approved');
  assert.equal(sim.reboots.length, 0, 'deciding reboots nothing');

  // The reviewer approves the execute job; max-nodes 1 pauses it after the first node.
  const first = await job(comment, 'execute', rebooting, { 'expect-plan-id': id, 'max-nodes': '1' });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(first.outputs.state, 'paused');
  assert.equal(sim.reboots.length, 1);

  // The next schedule, with the plan identity: it does not continue the execution, it hands it
  // over (state executing starts the execute job); the plan stays continuable.
  const next = await job(schedule, 'plan', planOnly);
  const output = next.stdout + next.stderr;
  assert.equal(next.code, 0, output);
  assert.equal(next.outputs.state, 'executing', output);
  assert.equal(sim.reboots.length, 1, 'the plan identity rebooted nothing');
  assert.equal((await runState())?.state, 'paused', 'the execution is neither failed nor ended');

  // The execute job, as the workflow starts it for a due continuation: the second node.
  const rest = await job(schedule, 'execute', rebooting, { 'expect-plan-id': id });
  assert.equal(rest.code, 0, rest.stdout + rest.stderr);
  assert.equal(rest.outputs.state, 'completed');
  assert.deepEqual(sim.reboots.map((r) => r.node).sort(), [...nodes].sort());
  assert.deepEqual(watcher.stop(), [], 'invariants held throughout');
  assert.deepEqual(gh.violations, []);
});
