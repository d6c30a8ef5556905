// The set-up most integration test files share, written once so that they differ only where
// their set-up really does (those are the options): a control plane, the node simulator on it,
// the API clients and a scratch directory (startTestBed; startActionTestBed for the bundled
// action's tests; startRepository before each GitHub test); AKS nodes as unattended-upgrades
// leaves them (createAksNodes); a newer kernel pending on some nodes (markRebootRequired); a plan
// written where the executor reads it (savePlan); the nodes put back as a test found them
// (restoreNodes); the bundled CLI run as a job runs it (runBundledCli).
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster, type ClusterOptions } from './controlplane.ts';
import { NodeSimulator } from './simulator.ts';
import { aksNode } from './nodes.ts';
import { stopAll } from './teardown.ts';
import { FakeGitHub, type FakeUser } from './github.ts';
import { InvariantWatcher } from './invariants.ts';
import { applyProductRbac, guardedDeployment } from './workloads.ts';
import { BOOT_TIME, ubuntuUpToDate } from '../fixtures/hosts.ts';
import { MERGE_PATCH, loadKubeConfig, makeClients, type KubeClients } from '../../src/kube/client.ts';
import { ANN } from '../../src/kube/labels.ts';
import { shortId } from '../../src/plan/canonical.ts';
import { planFileText } from '../../src/plan/file.ts';
import type { Plan } from '../../src/plan/types.ts';
import { Ledger, LEDGER_KEY, LEDGER_NAME } from '../../src/ledger/record.ts';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'action', 'cli.js');

export interface TestBed {
  cluster: Cluster;
  simulator: NodeSimulator;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  policy: k8s.PolicyV1Api;
  /** The product's clients, with the cluster's admin kubeconfig. */
  clients: KubeClients;
  /** A new directory under the system's temporary directory. */
  directory: string;
}

export interface TestBedOptions {
  directoryPrefix: string;
  cluster?: ClusterOptions;
  /** How long a simulated reboot keeps the node down (default: the simulator's). */
  rebootDownMs?: number;
}

/**
 * Starts a control plane and the node simulator on it. Should a part fail to start, what did
 * start is stopped before the error is thrown: the caller's after() never got hold of it.
 */
export async function startTestBed(options: TestBedOptions): Promise<TestBed> {
  const cluster = await startCluster(options.cluster);
  let simulator: NodeSimulator | undefined;
  try {
    simulator = new NodeSimulator(cluster);
    if (options.rebootDownMs !== undefined) simulator.rebootDownMs = options.rebootDownMs;
    await simulator.start();
    return {
      cluster,
      simulator,
      core: cluster.kc.makeApiClient(k8s.CoreV1Api),
      apps: cluster.kc.makeApiClient(k8s.AppsV1Api),
      policy: cluster.kc.makeApiClient(k8s.PolicyV1Api),
      clients: makeClients(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath })),
      directory: mkdtempSync(join(tmpdir(), options.directoryPrefix)),
    };
  } catch (error) {
    await stopAll(simulator, cluster);
    throw error;
  }
}

/**
 * The cluster the bundled action's tests run against: startTestBed, the product's RBAC (its
 * user's kubeconfig is `kubeconfig`), `nodeCount` AKS nodes (createAksNodes; their names are
 * `nodes`) and, in namespace shop, Deployment web of 3 replicas under a PDB that keeps 2 available.
 */
export async function startActionTestBed(
  options: TestBedOptions & { nodeCount: number; bootKernel?: boolean },
): Promise<TestBed & { kubeconfig: string; nodes: string[] }> {
  const bed = await startTestBed(options);
  try {
    // The action runs with exactly the permissions of deploy/rbac.yaml.
    const kubeconfig = await applyProductRbac(bed.cluster, bed.directory);
    const nodes = await createAksNodes(bed.simulator, options.nodeCount, { bootKernel: options.bootKernel });
    await guardedDeployment(bed.cluster, { namespace: 'shop', name: 'web', replicas: 3, minAvailable: 2 });
    return { ...bed, kubeconfig, nodes };
  } catch (error) {
    await stopAll(bed.simulator, bed.cluster);
    throw error;
  }
}

/**
 * What each GitHub test starts from, as a new repository would: the cluster without a ledger,
 * a fake GitHub of these users (its API URL is `api`), and the invariant watcher running.
 */
export async function startRepository(
  bed: Pick<TestBed, 'cluster' | 'core'>,
  users: FakeUser[],
): Promise<{ github: FakeGitHub; api: string; watcher: InvariantWatcher }> {
  await bed.core
    .deleteNamespacedConfigMap({ name: LEDGER_NAME, namespace: 'kube-system' })
    .catch(() => undefined);
  const github = new FakeGitHub({ users });
  const api = await github.start();
  try {
    const watcher = new InvariantWatcher(bed.cluster);
    await watcher.start();
    return { github, api, watcher };
  } catch (error) {
    await github.stop();
    throw error;
  }
}

/** The ledger as the cluster keeps it (read with the test's admin identity). */
export async function readLedger(core: k8s.CoreV1Api): Promise<Ledger> {
  const configMap = await core.readNamespacedConfigMap({ name: LEDGER_NAME, namespace: 'kube-system' });
  return Ledger.parse(JSON.parse(configMap.data![LEDGER_KEY]!));
}

/**
 * Creates AKS nodes 0 to count - 1 of `pool` (default nodepool1), booted at BOOT_TIME with
 * Ubuntu up to date; with `bootKernel` (the default) their running kernel's image is in /boot too.
 */
export async function createAksNodes(
  simulator: NodeSimulator,
  count: number,
  options: { pool?: string; bootKernel?: boolean } = {},
): Promise<string[]> {
  const specs = Array.from({ length: count }, (_, index) => ({
    ...aksNode({ pool: options.pool ?? 'nodepool1', index }),
    bootTime: BOOT_TIME,
  }));
  await simulator.createNodes(specs);
  const kernelImage: Record<string, string> =
    options.bootKernel === false ? {} : { 'boot/vmlinuz-5.15.0-1079-azure': 'kernel' };
  for (const spec of specs) simulator.writeHostFiles(spec.name, { ...ubuntuUpToDate, ...kernelImage });
  return specs.map((spec) => spec.name);
}

/** A newer kernel and the sentinel on these nodes, as unattended-upgrades leaves them; returns the kernel. */
export function markRebootRequired(simulator: NodeSimulator, kernel: string, names: string[]): string {
  for (const name of names)
    simulator.writeHostFiles(name, {
      [`boot/vmlinuz-${kernel}`]: 'kernel',
      'var/run/reboot-required': '*** System restart required ***\n',
      'var/run/reboot-required.pkgs': `linux-image-${kernel}\n`,
    });
  return kernel;
}

/** Writes a plan as the plan step does (plan-<short id>.json in `directory`); returns it with the file's path. */
export function savePlan<Result extends { planId: string; plan: Plan }>(
  directory: string,
  result: Result,
): Result & { file: string } {
  const file = join(directory, `plan-${shortId(result.planId)}.json`);
  writeFileSync(file, planFileText(result.plan, result.planId));
  return { ...result, file };
}

/**
 * Puts nodes back as a test found them: no reboot pending, schedulable, none of the product's
 * annotations (nor `annotations`). With `powerOn`, a node left powered off is powered on first,
 * with a new boot ID or the one it had; with `removeTaint`, that taint goes too.
 */
export async function restoreNodes(
  simulator: NodeSimulator,
  core: k8s.CoreV1Api,
  names: string[],
  options: { powerOn?: 'new-boot' | 'same-boot'; removeTaint?: string; annotations?: string[] } = {},
): Promise<void> {
  const clear = Object.fromEntries(
    [...Object.values(ANN), ...(options.annotations ?? [])].map((key) => [key, null]),
  );
  for (const name of names) {
    const node = options.powerOn || options.removeTaint ? await simulator.node(name) : undefined;
    if (node && options.powerOn && simulator.isPoweredOff(node))
      await simulator.powerOn(name, {
        bootID: options.powerOn === 'new-boot' ? `recovered-${Date.now()}` : node.status!.nodeInfo!.bootID,
        kernelVersion: node.status!.nodeInfo!.kernelVersion,
      });
    simulator.writeHostFiles(name, { 'var/run/reboot-required': null, 'var/run/reboot-required.pkgs': null });
    const taints =
      node && options.removeTaint
        ? { taints: (node.spec?.taints ?? []).filter((taint) => taint.key !== options.removeTaint) }
        : {};
    await core.patchNode(
      { name, body: { spec: { unschedulable: false, ...taints }, metadata: { annotations: clear } } },
      MERGE_PATCH,
    );
  }
}

export interface CliRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * The bundled CLI's `run` with this kubeconfig, these execution settings (as --flags) and `args`;
 * `onStderr` sees the error output so far each time it grows, and may kill the process.
 */
export function runBundledCli(options: {
  kubeconfig: string;
  settings: Readonly<Record<string, string>>;
  args: string[];
  onStderr?: (text: string, kill: (signal: NodeJS.Signals) => void) => void;
}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--kubeconfig',
        options.kubeconfig,
        ...Object.entries(options.settings).flatMap(([key, value]) => [`--${key}`, value]),
        ...options.args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr, (signal) => child.kill(signal));
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
