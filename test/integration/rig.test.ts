// Proves the test rig is the real thing: PDB-guarded evictions refused by the real API server,
// the disruption, ReplicaSet and node-lifecycle controllers and the scheduler at work, and the
// node simulator's reboots and probe pods as the API shows them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { MERGE_PATCH as MERGE } from '../../src/kube/client.ts';
import { startCluster, type Cluster } from '../harness/controlplane.ts';
import { NodeSimulator, waitUntil } from '../harness/simulator.ts';
import { aksNode, kubeadmNode, isReady } from '../harness/nodes.ts';
import { stopAll } from '../harness/teardown.ts';

let cluster: Cluster;
let sim: NodeSimulator;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let policy: k8s.PolicyV1Api;
const ns = 'rig';

before(async () => {
  cluster = await startCluster();
  sim = new NodeSimulator(cluster);
  await sim.start();
  core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
  policy = cluster.kc.makeApiClient(k8s.PolicyV1Api);
  await sim.createNodes([
    aksNode({ pool: 'nodepool1', index: 0 }),
    aksNode({ pool: 'nodepool1', index: 1 }),
    aksNode({ pool: 'nodepool1', index: 2 }),
    kubeadmNode('worker-1'),
  ]);
  await core.createNamespace({ body: { metadata: { name: ns } } });
});

after(async () => {
  await stopAll(sim, cluster);
});

function podsOf(app: string) {
  return core
    .listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })
    .then((l) => l.items.filter((p) => !p.metadata?.deletionTimestamp));
}

async function evict(pod: k8s.V1Pod): Promise<number> {
  try {
    await core.createNamespacedPodEviction({
      name: pod.metadata!.name!,
      namespace: ns,
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: pod.metadata!.name!, namespace: ns },
      },
    });
    return 201;
  } catch (e) {
    if (e instanceof k8s.ApiException) return e.code;
    throw e;
  }
}

test('the control plane reports the pinned release and the nodes look like AKS and kubeadm nodes', async () => {
  const version = await cluster.kc.makeApiClient(k8s.VersionApi).getCode();
  assert.match(version.gitVersion, /^v1\.36\.\d+$/);
  const n = await sim.node('aks-nodepool1-12345678-vmss000001');
  assert.equal(
    n.spec?.providerID,
    'azure:///subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/mc_rg-platform_aks-prod_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/1',
  );
  assert.equal(n.metadata?.labels?.['kubernetes.azure.com/agentpool'], 'nodepool1');
  assert.equal(n.status?.nodeInfo?.kernelVersion, '5.15.0-1079-azure');
  assert.ok(isReady(n));
  const w = await sim.node('worker-1');
  assert.equal(w.spec?.providerID, undefined);
  assert.equal(w.status?.nodeInfo?.osImage, 'Ubuntu 24.04.1 LTS');
});

test('a PDB at its minimum makes the real API server refuse an eviction with 429; capacity makes it succeed', async () => {
  const labels = { app: 'web' };
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'web', image: 'nginx', resources: { requests: { cpu: '100m' } } }] },
        },
      },
    },
  });
  await policy.createNamespacedPodDisruptionBudget({
    namespace: ns,
    body: { metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: labels } } },
  });
  // The disruption controller (kube-controller-manager) computes status; nothing in the test sets it.
  await waitUntil('PDB observed with 2 healthy pods', async () => {
    const pdb = await policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace: ns });
    return pdb.status?.currentHealthy === 2 && pdb.status.observedGeneration === pdb.metadata?.generation
      ? pdb
      : undefined;
  });
  const pdb0 = await policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace: ns });
  assert.equal(pdb0.status?.disruptionsAllowed, 0);

  const [victim] = await podsOf('web');
  assert.ok(victim?.spec?.nodeName, 'the scheduler placed the pod');
  assert.equal(await evict(victim), 429, 'eviction must be refused while the PDB allows no disruption');

  await apps.patchNamespacedDeploymentScale(
    { name: 'web', namespace: ns, body: { spec: { replicas: 3 } } },
    MERGE,
  );
  await waitUntil(
    'disruptionsAllowed raised to 1',
    async () =>
      (await policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace: ns })).status
        ?.disruptionsAllowed === 1,
  );

  // Cordon the victim's node first, as a drain would, so the replacement has to go elsewhere.
  const victimNode = victim.spec.nodeName;
  await core.patchNode({ name: victimNode, body: { spec: { unschedulable: true } } }, MERGE);
  const before = new Set((await podsOf('web')).map((p) => p.metadata!.name));
  assert.equal(await evict(victim), 201);
  const replacement = await waitUntil(
    'the ReplicaSet controller to recreate the pod and the scheduler to place it',
    async () => {
      const pods = await podsOf('web');
      const fresh = pods.filter(
        (p) => !before.has(p.metadata!.name) && p.spec?.nodeName && p.status?.phase === 'Running',
      );
      return pods.length === 3 &&
        fresh.length === 1 &&
        !pods.some((p) => p.metadata!.name === victim.metadata!.name)
        ? fresh[0]
        : undefined;
    },
  );
  assert.notEqual(
    replacement.spec!.nodeName,
    victimNode,
    'the replacement must not land on the cordoned node',
  );
  await core.patchNode({ name: victimNode, body: { spec: { unschedulable: false } } }, MERGE);
});

test('a cordoned node gets no new pods', async () => {
  const cordoned = 'aks-nodepool1-12345678-vmss000000';
  await core.patchNode({ name: cordoned, body: { spec: { unschedulable: true } } }, MERGE);
  const labels = { app: 'spread' };
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'spread' },
      spec: {
        replicas: 8,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [{ name: 'c', image: 'busybox' }],
            // Spread across hosts so the scheduler would use every node it may use; a cordoned
            // node's taint takes it out of the spread (nodeTaintsPolicy: Honor).
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'DoNotSchedule',
                nodeTaintsPolicy: 'Honor',
                labelSelector: { matchLabels: labels },
              },
            ],
          },
        },
      },
    },
  });
  const pods = await waitUntil('8 pods scheduled', async () => {
    const ps = await podsOf('spread');
    return ps.length === 8 && ps.every((p) => p.spec?.nodeName) ? ps : undefined;
  });
  const nodes = new Set(pods.map((p) => p.spec!.nodeName));
  assert.ok(!nodes.has(cordoned), 'no pod may land on the cordoned node');
  assert.ok(nodes.size >= 3, `pods spread over the schedulable nodes (${[...nodes].join(', ')})`);
  await core.patchNode({ name: cordoned, body: { spec: { unschedulable: false } } }, MERGE);
  await apps.deleteNamespacedDeployment({ name: 'spread', namespace: ns });
});

test('a simulated reboot: Ready goes False then True, the bootID and the kernel change, the node controller taints and untaints', async () => {
  const name = 'aks-nodepool1-12345678-vmss000002';
  sim.writeHostFiles(name, {
    'boot/vmlinuz-5.15.0-1079-azure': '',
    'boot/vmlinuz-5.15.0-1081-azure': '',
    'var/run/reboot-required': '*** System restart required ***\n',
  });
  const transitions: string[] = [];
  const taintsSeen = new Set<string>();
  const watch = new k8s.Watch(cluster.kc);
  const ctl = await watch.watch(
    `/api/v1/nodes`,
    { fieldSelector: `metadata.name=${name}` },
    (_t: string, n: k8s.V1Node) => {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'none';
      if (transitions[transitions.length - 1] !== ready) transitions.push(ready);
      for (const t of n.spec?.taints ?? []) taintsSeen.add(`${t.key}:${t.effect}`);
    },
    () => undefined,
  );
  // Long enough for kube-controller-manager's node lifecycle controller to react to NotReady.
  const r = await sim.reboot(name, { downMs: 6000 });
  await waitUntil(
    'taints removed after the node is Ready',
    async () => !(await sim.node(name)).spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')),
  );
  ctl.abort();
  assert.notEqual(r.bootIDAfter, r.bootIDBefore);
  assert.equal(r.kernelBefore, '5.15.0-1079-azure');
  assert.equal(r.kernelAfter, '5.15.0-1081-azure', 'boots the newest installed kernel');
  const n = await sim.node(name);
  assert.equal(n.status?.nodeInfo?.bootID, r.bootIDAfter);
  assert.equal(n.status.nodeInfo.kernelVersion, '5.15.0-1081-azure');
  assert.deepEqual(transitions, ['True', 'False', 'True']);
  assert.ok(
    taintsSeen.has('node.kubernetes.io/not-ready:NoSchedule'),
    `node lifecycle controller tainted the NotReady node (saw ${[...taintsSeen].join(', ')})`,
  );
  // The sentinel lived on a tmpfs: gone after the reboot.
  assert.equal(existsSync(join(sim.hostDir(name), 'var/run/reboot-required')), false);
});

test("the simulated kubelet runs a probe pod against the node's host files and reports its termination message", async () => {
  const name = 'worker-1';
  sim.writeHostFiles(name, {
    'var/run/reboot-required': '*** System restart required ***\n',
    'var/run/reboot-required.pkgs': 'linux-image-6.8.0-47-generic\n',
  });
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'probe-worker-1', labels: { 'reboot-pilot.io/role': 'probe' } },
      spec: {
        nodeName: name,
        restartPolicy: 'Never',
        containers: [
          {
            name: 'probe',
            image: 'mcr.microsoft.com/azurelinux/busybox:1.36',
            command: [
              '/bin/sh',
              '-c',
              'if [ -f "$HOST/var/run/reboot-required" ]; then printf "required:%s" "$(cat "$HOST/var/run/reboot-required.pkgs")" > "$OUT"; else printf none > "$OUT"; fi',
            ],
            env: [
              { name: 'HOST', value: '/host' },
              { name: 'OUT', value: '/dev/termination-log' },
            ],
            volumeMounts: [{ name: 'host', mountPath: '/host', readOnly: true }],
          },
        ],
        volumes: [{ name: 'host', hostPath: { path: '/' } }],
      },
    },
  });
  const done = await waitUntil('probe pod finished', async () => {
    const p = await core.readNamespacedPod({ name: 'probe-worker-1', namespace: ns });
    return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
  });
  assert.equal(done.status?.phase, 'Succeeded');
  assert.equal(
    done.status.containerStatuses?.[0]?.state?.terminated?.message,
    'required:linux-image-6.8.0-47-generic',
  );
  await core.deleteNamespacedPod({ name: 'probe-worker-1', namespace: ns });
  await waitUntil('probe pod deleted', async () => {
    try {
      await core.readNamespacedPod({ name: 'probe-worker-1', namespace: ns });
      return false;
    } catch (e) {
      return e instanceof k8s.ApiException && e.code === 404;
    }
  });
});

test('a killed test process takes its control plane down with it', async () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const child = spawn(process.execPath, [join(here, '..', 'harness', 'start-and-wait.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    child.on('exit', (c) => reject(new Error(`start-and-wait exited ${c}`)));
  });
  const { pids } = JSON.parse(line) as { pids: number[] };
  assert.equal(pids.length, 5);
  // A process counts as alive until it is gone or a zombie (reaping is init's business).
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  assert.ok(pids.every(alive));
  child.kill('SIGKILL');
  await waitUntil('every component gone', () => pids.every((p) => !alive(p)), 10_000);
});
