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

export function probePod(node: string, runId: string, index: number, o: ProbeOptions): k8s.V1Pod {
  const mounts = hostMounts(o.sentinel);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `reboot-pilot-probe-${runId}-${index}`,
      namespace: o.namespace,
      labels: { ...MANAGED_BY, [ROLE_LABEL]: 'probe', [RUN_LABEL]: runId },
      annotations: { [NODE_ANNOTATION]: node },
    },
    spec: {
      nodeName: node,
      restartPolicy: 'Never',
      activeDeadlineSeconds: o.timeoutSeconds,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      tolerations: [{ operator: 'Exists' }],
      ...(o.imagePullSecrets?.length
        ? { imagePullSecrets: o.imagePullSecrets.map((name) => ({ name })) }
        : {}),
      containers: [
        {
          name: 'probe',
          image: o.image,
          command: ['/bin/sh', '-c', PROBE_SCRIPT],
          env: [
            { name: 'HOST_ROOT', value: '/host' },
            { name: 'PROC_ROOT', value: '/proc' },
            { name: 'RESULT_FILE', value: '/dev/termination-log' },
            { name: 'SENTINEL', value: o.sentinel },
            { name: 'SENTINEL_COMMAND', value: o.sentinelCommand },
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

function terminalOutcome(pod: k8s.V1Pod): ProbeOutcome | undefined {
  const phase = pod.status?.phase;
  if (phase !== 'Succeeded' && phase !== 'Failed') return undefined;
  const term = pod.status?.containerStatuses?.[0]?.state?.terminated;
  if (phase === 'Failed') {
    const why = term
      ? `exit code ${term.exitCode}${term.message ? `: ${term.message.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}` : ''}`
      : (pod.status?.reason ?? 'failed');
    return { ok: false, reason: `probe pod failed (${why})` };
  }
  try {
    return { ok: true, result: parseProbeResult(term?.message ?? '') };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/** Probes the given nodes; returns an outcome for every node asked about. */
export async function runProbes(
  c: KubeClients,
  nodes: string[],
  o: ProbeOptions,
  log: Log = () => undefined,
): Promise<Map<string, ProbeOutcome>> {
  const out = new Map<string, ProbeOutcome>();
  if (!nodes.length) return out;
  const runId = randomBytes(4).toString('hex');
  const selector = `${RUN_LABEL}=${runId}`;
  const waiting = new Map<string, (p: k8s.V1Pod) => void>();
  const cleanup = async () => {
    await c.core
      .deleteCollectionNamespacedPod({
        namespace: o.namespace,
        labelSelector: selector,
        gracePeriodSeconds: 0,
      })
      .catch(() => undefined);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    void cleanup().finally(() => process.kill(process.pid, sig));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  // One watch for the whole run: results arrive as pods reach a terminal phase.
  const watch = new k8s.Watch(c.kc);
  let watchCtl: AbortController | undefined;
  let watchDone = false;
  const startWatch = async () => {
    watchCtl = await watch.watch(
      `/api/v1/namespaces/${encodeURIComponent(o.namespace)}/pods`,
      { labelSelector: selector },
      (_type: string, pod: k8s.V1Pod) => {
        const name = pod.metadata?.name;
        if (name && waiting.has(name)) waiting.get(name)!(pod);
      },
      () => {
        // Watches end (server timeouts); restart while probes are outstanding.
        if (!watchDone) setTimeout(() => void startWatch().catch(() => undefined), 200);
      },
    );
  };
  try {
    await call('watch', `pods in namespace ${o.namespace}`, c.server, startWatch);
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined && next < nodes.length) {
        const index = next++;
        const node = nodes[index]!;
        const pod = probePod(node, runId, index, o);
        const name = pod.metadata!.name!;
        // Registered before the create: a fast probe can finish before create() returns.
        let settle!: (o: ProbeOutcome) => void;
        const result = new Promise<ProbeOutcome>((resolve) => (settle = resolve));
        waiting.set(name, (p) => {
          const r = terminalOutcome(p);
          if (r) settle(r);
        });
        try {
          await call('create', `pods in namespace ${o.namespace}`, c.server, () =>
            c.core.createNamespacedPod({ namespace: o.namespace, body: pod }),
          );
        } catch (e) {
          waiting.delete(name);
          // A denied or invalid probe pod would fail for every node: stop the run.
          failure ??= e;
          return;
        }
        const timer = setTimeout(
          () =>
            settle({
              ok: false,
              reason: `probe timed out after ${o.timeoutSeconds}s (the pod did not finish; is the node's kubelet running and the image ${o.image} pullable?)`,
            }),
          o.timeoutSeconds * 1000 + 5000,
        );
        const outcome = await result;
        clearTimeout(timer);
        waiting.delete(name);
        out.set(node, outcome);
        if (!outcome.ok) log(`probe on ${node}: ${outcome.reason}`);
        await c.core
          .deleteNamespacedPod({ name, namespace: o.namespace, gracePeriodSeconds: 0 })
          .catch(() => undefined);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallelism, nodes.length)) }, worker));
    if (failure !== undefined) throw failure;
  } finally {
    watchDone = true;
    watchCtl?.abort();
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return out;
}
