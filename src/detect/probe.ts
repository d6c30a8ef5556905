// Runs the host probe: one short-lived, unprivileged pod per Linux node, pinned with nodeName,
// tolerating every taint, with read-only hostPath mounts only. Bounded parallelism, a deadline
// per probe, one watch for all results (no per-pod GETs), and every probe pod deleted afterwards,
// also on failure or SIGINT/SIGTERM.
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { call, type KubeClients } from '../kube/client.ts';
import { MANAGED_BY, NODE_ANNOTATION, ROLE_LABEL, RUN_LABEL } from '../kube/labels.ts';
import { PROBE_SCRIPT, PROBE_RESULT_LIMIT, parseProbeResult, type ProbeResult } from './probe-script.ts';

export interface ProbeOptions {
  image: string;
  namespace: string;
  parallelism: number;
  timeoutSeconds: number;
  sentinel: string;
  sentinelCommand: string;
  imagePullSecrets?: string[];
}

export type ProbeOutcome = { ok: true; result: ProbeResult } | { ok: false; reason: string };

export type Log = (line: string) => void;

/** Directories the probe reads, mounted read-only at the same path under /host. */
export function hostMounts(sentinel: string): string[] {
  // /usr/share/doc: the Debian changelogs of the packages requiring the reboot (CVEs fixed).
  const dirs = ['/var/run', '/boot', '/var/log', '/etc/os-release', '/usr/share/doc'];
  const sentinelDir = dirname(sentinel);
  if (!dirs.some((d) => sentinelDir === d || sentinelDir.startsWith(d + '/'))) dirs.push(sentinelDir);
  return dirs;
}

export function probePod(node: string, runId: string, index: number, options: ProbeOptions): k8s.V1Pod {
  const mounts = hostMounts(options.sentinel);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `reboot-pilot-probe-${runId}-${index}`,
      namespace: options.namespace,
      labels: { ...MANAGED_BY, [ROLE_LABEL]: 'probe', [RUN_LABEL]: runId },
      annotations: { [NODE_ANNOTATION]: node },
    },
    spec: {
      nodeName: node,
      restartPolicy: 'Never',
      activeDeadlineSeconds: options.timeoutSeconds,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      tolerations: [{ operator: 'Exists' }],
      ...(options.imagePullSecrets?.length
        ? { imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })) }
        : {}),
      containers: [
        {
          name: 'probe',
          image: options.image,
          command: ['/bin/sh', '-c', PROBE_SCRIPT],
          env: [
            { name: 'HOST_ROOT', value: '/host' },
            { name: 'PROC_ROOT', value: '/proc' },
            { name: 'RESULT_FILE', value: '/dev/termination-log' },
            { name: 'SENTINEL', value: options.sentinel },
            { name: 'SENTINEL_COMMAND', value: options.sentinelCommand },
            { name: 'LIMIT', value: String(PROBE_RESULT_LIMIT) },
          ],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'FallbackToLogsOnError',
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
          // Root only to read root-owned logs; no capabilities, no privilege, nothing writable.
          securityContext: {
            runAsUser: 0,
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          volumeMounts: mounts.map((p, i) => ({ name: `host-${i}`, mountPath: `/host${p}`, readOnly: true })),
        },
      ],
      volumes: mounts.map((p, i) => ({ name: `host-${i}`, hostPath: { path: p } })),
    },
  };
}

/** Why a probe pod failed: its exit code and the last lines it wrote, or the pod's reason. */
function failureText(pod: k8s.V1Pod, terminated: k8s.V1ContainerStateTerminated | undefined): string {
  if (!terminated) return pod.status?.reason ?? 'failed';
  const lines = terminated.message?.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
  return `exit code ${terminated.exitCode}${terminated.message ? `: ${lines}` : ''}`;
}

function terminalOutcome(pod: k8s.V1Pod): ProbeOutcome | undefined {
  const phase = pod.status?.phase;
  if (phase !== 'Succeeded' && phase !== 'Failed') return undefined;
  const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
  if (phase === 'Failed') return { ok: false, reason: `probe pod failed (${failureText(pod, terminated)})` };
  try {
    return { ok: true, result: parseProbeResult(terminated?.message ?? '') };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/** One probe run: its pods share a run label, and one watch delivers all their results. */
interface ProbeRun {
  kube: KubeClients;
  options: ProbeOptions;
  id: string;
  selector: string;
  /** What to do with an update of each outstanding probe pod, by pod name. */
  waiting: Map<string, (pod: k8s.V1Pod) => void>;
}

/** Deletes every pod of the run; failures are ignored (there is nothing left to decide). */
async function deleteRunPods(run: ProbeRun): Promise<void> {
  await run.kube.core
    .deleteCollectionNamespacedPod({
      namespace: run.options.namespace,
      labelSelector: run.selector,
      gracePeriodSeconds: 0,
    })
    .catch(() => undefined);
}

/** Starts the run's one watch: results arrive as pods reach a terminal phase. Returns its stop. */
async function watchRun(run: ProbeRun): Promise<() => void> {
  const { kube, options } = run;
  const watch = new k8s.Watch(kube.kc);
  let controller: AbortController | undefined;
  let done = false;
  const start = async () => {
    controller = await watch.watch(
      `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods`,
      { labelSelector: run.selector },
      (_type: string, pod: k8s.V1Pod) => {
        const name = pod.metadata?.name;
        if (name) run.waiting.get(name)?.(pod);
      },
      () => {
        // Watches end (server timeouts); restart while probes are outstanding.
        if (!done) setTimeout(() => void start().catch(() => undefined), 200);
      },
    );
  };
  await call('watch', `pods in namespace ${options.namespace}`, kube.server, start);
  return () => {
    done = true;
    controller?.abort();
  };
}

function timeoutOutcome(options: ProbeOptions): ProbeOutcome {
  return {
    ok: false,
    reason:
      `probe timed out after ${options.timeoutSeconds}s (the pod did not finish; is the node's ` +
      `kubelet running and the image ${options.image} pullable?)`,
  };
}

/** Creates one probe pod and waits for its outcome; throws when the pod cannot be created. */
async function probeNode(run: ProbeRun, node: string, index: number) {
  const { kube, options } = run;
  const pod = probePod(node, run.id, index, options);
  const name = pod.metadata!.name!;
  // Registered before the create: a fast probe can finish before create() returns.
  let settle!: (outcome: ProbeOutcome) => void;
  const result = new Promise<ProbeOutcome>((resolve) => (settle = resolve));
  run.waiting.set(name, (seen) => {
    const outcome = terminalOutcome(seen);
    if (outcome) settle(outcome);
  });
  try {
    await call('create', `pods in namespace ${options.namespace}`, kube.server, () =>
      kube.core.createNamespacedPod({ namespace: options.namespace, body: pod }),
    );
  } catch (e) {
    run.waiting.delete(name);
    throw e;
  }
  const timer = setTimeout(() => settle(timeoutOutcome(options)), options.timeoutSeconds * 1000 + 5000);
  const outcome = await result;
  clearTimeout(timer);
  run.waiting.delete(name);
  return { name, outcome };
}

/** Probes the given nodes; returns an outcome for every node asked about. */
export async function runProbes(
  kube: KubeClients,
  nodes: string[],
  options: ProbeOptions,
  log: Log = () => undefined,
): Promise<Map<string, ProbeOutcome>> {
  const out = new Map<string, ProbeOutcome>();
  if (!nodes.length) return out;
  const id = randomBytes(4).toString('hex');
  const run: ProbeRun = { kube, options, id, selector: `${RUN_LABEL}=${id}`, waiting: new Map() };
  const onSignal = (signal: NodeJS.Signals) => {
    void deleteRunPods(run).finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let stopWatch: (() => void) | undefined;
  try {
    stopWatch = await watchRun(run);
    let next = 0;
    let failure: Error | undefined;
    const worker = async () => {
      while (failure === undefined && next < nodes.length) {
        const index = next++;
        const node = nodes[index]!;
        let probed: Awaited<ReturnType<typeof probeNode>>;
        try {
          probed = await probeNode(run, node, index);
        } catch (e) {
          // A denied or invalid probe pod would fail for every node: stop the run.
          failure ??= e as Error; // call() turns every API failure into an Error
          return;
        }
        out.set(node, probed.outcome);
        if (!probed.outcome.ok) log(`probe on ${node}: ${probed.outcome.reason}`);
        await kube.core
          .deleteNamespacedPod({ name: probed.name, namespace: options.namespace, gracePeriodSeconds: 0 })
          .catch(() => undefined);
      }
    };
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(options.parallelism, nodes.length)) }, worker),
    );
    if (failure !== undefined) throw failure;
  } finally {
    stopWatch?.();
    await deleteRunPods(run);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return out;
}
