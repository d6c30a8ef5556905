// The plan identity of the environment set-up (deploy/rbac-plan.yaml, REBOOT_PILOT_PLAN_KUBECONFIG):
// on the real control plane it can make a plan, and it cannot start an execution, whatever it is
// asked: the run stops at the lock with an RBAC denial before any node is touched. The manifest is
// deploy/rbac.yaml without exactly the rebooting permissions, so the two cannot drift apart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../harness/controlplane.ts';
import { NodeSimulator } from '../harness/simulator.ts';
import { aksNode } from '../harness/nodes.ts';
import { stopAll } from '../harness/teardown.ts';
import { BOOT_TIME, ubuntuUpToDate } from '../fixtures/hosts.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'action', 'cli.js');
const NEW_KERNEL = '5.15.0-1102-azure';

interface Rule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}
interface RbacObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { name: string };
  subjects?: unknown[];
}
const manifest = (file: string) =>
  parseAllDocuments(readFileSync(join(root, 'deploy', file), 'utf8')).map((d) => d.toJSON() as RbacObject);

/** (kind, namespace, group, resource, name, verb) for every permission a manifest grants. */
function grants(objects: RbacObject[]): string[] {
  return objects
    .filter((o) => o.rules)
    .flatMap((o) =>
      o.rules!.flatMap((r) =>
        r.apiGroups.flatMap((g) =>
          r.resources.flatMap((res) =>
            (r.resourceNames ?? ['*']).flatMap((name) =>
              r.verbs.map((v) => `${o.kind} ${o.metadata.namespace ?? '-'} ${g}/${res} ${name} ${v}`),
            ),
          ),
        ),
      ),
    )
    .sort();
}

/** What only an executing identity needs: cordon, evict, take the run lock, take kured's lock. */
const REBOOTING = [
  'ClusterRole - /nodes * patch',
  'ClusterRole - /pods/eviction * create',
  'Role kube-system coordination.k8s.io/leases * create',
  'Role kube-system coordination.k8s.io/leases * update',
  'Role kube-system apps/daemonsets kured patch',
];

test('deploy/rbac-plan.yaml is deploy/rbac.yaml without exactly the rebooting permissions', () => {
  const full = grants(manifest('rbac.yaml'));
  for (const g of REBOOTING) assert.ok(full.includes(g), `deploy/rbac.yaml grants ${g}`);
  assert.deepEqual(
    grants(manifest('rbac-plan.yaml')),
    full.filter((g) => !REBOOTING.includes(g)),
  );
});

let cluster: Cluster;
let sim: NodeSimulator;
let dir: string;
let planKubeconfig: string;
const nodes = [0, 1].map((i) => aksNode({ pool: 'nodepool1', index: i }).name);

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  cluster = await startCluster({ users: [{ name: 'reboot-pilot-plan' }] });
  sim = new NodeSimulator(cluster);
  await sim.start();
  dir = mkdtempSync(join(tmpdir(), 'rp-plan-identity-'));
  const objects = k8s.KubernetesObjectApi.makeApiClient(cluster.kc);
  for (const o of manifest('rbac-plan.yaml')) await objects.create(o);
  planKubeconfig = join(dir, 'plan.kubeconfig');
  writeFileSync(planKubeconfig, cluster.kubeconfigFor('reboot-pilot-plan'));
  await sim.createNodes(
    nodes.map((_, i) => ({ ...aksNode({ pool: 'nodepool1', index: i }), bootTime: BOOT_TIME })),
  );
  for (const n of nodes) sim.writeHostFiles(n, { ...ubuntuUpToDate });
  sim.writeHostFiles(nodes[0]!, {
    [`boot/vmlinuz-${NEW_KERNEL}`]: 'kernel',
    'var/run/reboot-required': '*** System restart required ***\n',
    'var/run/reboot-required.pkgs': `linux-image-${NEW_KERNEL}\n`,
  });
});

after(async () => {
  await stopAll(sim, cluster);
});

test('the plan identity plans; its run of that plan stops at the lock before touching a node', async () => {
  const planned = await cli([
    'plan',
    '--kubeconfig',
    planKubeconfig,
    '--output',
    'json',
    '--probe-timeout',
    '30',
  ]);
  assert.equal(planned.code, 0, planned.stderr);
  const plan = JSON.parse(planned.stdout) as { planId: string; plan: { nodes: { name: string }[] } };
  assert.deepEqual(
    plan.plan.nodes.map((n) => n.name),
    [nodes[0]],
  );
  const file = join(dir, 'plan.json');
  writeFileSync(file, planned.stdout);

  const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  const before = JSON.stringify((await core.listNode()).items.map((n) => [n.metadata!.annotations, n.spec]));
  const ran = await cli(['run', '--plan', file, '--kubeconfig', planKubeconfig, '--soak', '0']);
  assert.equal(ran.code, 1, ran.stderr);
  assert.match(ran.stderr, /RBAC denied: the identity may not "create" leases/);
  const after = JSON.stringify((await core.listNode()).items.map((n) => [n.metadata!.annotations, n.spec]));
  assert.equal(after, before, 'no node cordoned or annotated');
  assert.equal(sim.reboots.length, 0, 'no node rebooted');
});
