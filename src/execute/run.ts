// Runs an approved plan file against its cluster: checks the file's integrity and that the
// kubeconfig points at the cluster the plan was made for, takes the run lock (and checks or
// takes kured's), builds the gates and the rebooter from the settings, executes, releases.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { UserError } from '../errors.ts';
import { call, type KubeClients } from '../kube/client.ts';
import type { Plan } from '../plan/types.ts';
import type { PlanFile } from '../plan/file.ts';
import { shortId } from '../plan/canonical.ts';
import type { ExecuteSettings, PlanSettings } from '../settings.ts';
import { LeaseLock } from '../lock/lease.ts';
import { KuredLock } from '../lock/kured.ts';
import { PodRebooter } from '../reboot/pod.ts';
import type { Rebooter } from '../reboot/types.ts';
import { WindowGate, parseWindow, type Window } from '../gates/window.ts';
import { BlockingPodGate } from '../gates/blocking-pods.ts';
import { AlertGate } from '../gates/alerts.ts';
import { chatNotifier, formatFor } from '../notify/webhook.ts';
import type { Gate } from '../gates/types.ts';
import { probeOptions } from '../detect/probe-detector.ts';
import { executePlan } from './executor.ts';
import type { ExecuteDeps, ExecutorOptions } from './context.ts';
import type { ExecEvent, ExecutionResult, NodeImageUpgrade } from './types.ts';

export function lockHolder(): string {
  const { GITHUB_RUN_ID, GITHUB_REPOSITORY, GITHUB_RUN_ATTEMPT } = process.env;
  const who = GITHUB_RUN_ID
    ? `github:${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}/attempts/${GITHUB_RUN_ATTEMPT ?? '1'}`
    : `${hostname()}/pid-${process.pid}`;
  return `${who}#${randomBytes(3).toString('hex')}`;
}

export interface RunOptions {
  plan: PlanSettings;
  execute: ExecuteSettings;
  log: (line: string) => void;
  onEvent?: (event: ExecEvent) => void;
  /** The AKS node image upgrade: planned for node-image-upgrade nodes, the fallback of a failed reboot. */
  nodeImageUpgrade?: NodeImageUpgrade;
  /** Replaces the pod rebooter (the Azure integration's azure-vmss method). */
  rebooter?: Rebooter;
  /** Gates beyond the settings' own (the AKS planned maintenance window). */
  gates?: Gate[];
  /** Asked between nodes: a pause or cancel requested meanwhile (GitHub comments) stops the run there. */
  interrupt?: ExecuteDeps['interrupt'];
}

export async function runPlan(
  kube: KubeClients,
  planFile: PlanFile,
  options: RunOptions,
): Promise<ExecutionResult> {
  const { plan, planId } = planFile;
  const settings = options.execute;
  // Bad window settings are refused before the cluster is asked anything.
  const window = parseWindow(settings.rebootDays, settings.startTime, settings.endTime, settings.timeZone);
  await checkCluster(kube, plan, planId);
  const holder = lockHolder();
  const lease = new LeaseLock(kube, {
    namespace: options.plan.namespace,
    name: 'reboot-pilot',
    ttlSeconds: settings.lockTtl,
    holder,
  });
  const [kuredNamespace, kuredName] = settings.kuredDaemonset.split('/') as [string, string];
  const kured = new KuredLock(kube, {
    namespace: kuredNamespace,
    daemonSet: kuredName,
    take: settings.takeKuredLock,
    holder,
    ttlSeconds: settings.lockTtl,
  });
  await lease.acquire();
  options.log(`holding the lock ${options.plan.namespace}/reboot-pilot as ${holder}`);
  const renewEvery = Math.max(1000, (settings.lockTtl * 1000) / 3);
  const renewKured = setInterval(() => void kured.renew(), renewEvery);
  renewKured.unref();
  try {
    await kured.acquire();
    const gates = gatesFor(kube, plan, options, window);
    const onEvent = listeners(plan, planId, options);
    const rebooter = chooseRebooter(kube, options);
    return await executePlan(plan, planId, executorOptions(plan, options), {
      kube,
      rebooter,
      gates,
      log: options.log,
      checkLock: () => lease.check(),
      onEvent,
      ...(options.nodeImageUpgrade ? { nodeImageUpgrade: options.nodeImageUpgrade } : {}),
      ...(options.interrupt ? { interrupt: options.interrupt } : {}),
    });
  } finally {
    clearInterval(renewKured);
    await kured.release();
    await lease.release();
  }
}

/** The kubeconfig must reach the cluster the plan was made for (kube-system's UID). */
async function checkCluster(kube: KubeClients, plan: Plan, planId: string): Promise<void> {
  const kubeSystem = await call(
    'get',
    'namespaces (kube-system, for the cluster identity)',
    kube.server,
    () => kube.core.readNamespace({ name: 'kube-system' }),
  );
  const uid = kubeSystem.metadata?.uid;
  if (uid !== plan.cluster.uid) {
    throw new UserError(
      `plan ${shortId(planId)} was made for cluster ${plan.cluster.name} ` +
        `(kube-system UID ${plan.cluster.uid}); this kubeconfig reaches a different cluster (UID ${uid})`,
    );
  }
}

function gatesFor(kube: KubeClients, plan: Plan, options: RunOptions, window: Window): Gate[] {
  const settings = options.execute;
  const { rebootDays, startTime, endTime, timeZone } = settings;
  const gates: Gate[] = [new WindowGate(window, `${rebootDays} ${startTime}–${endTime} ${timeZone}`)];
  if (plan.options.blockingPodSelector)
    gates.push(new BlockingPodGate(kube, plan.options.blockingPodSelector));
  gates.push(...(options.gates ?? []));
  if (settings.alertsUrl)
    gates.push(
      new AlertGate(settings.alertsUrl, {
        ...(settings.alertsInclude ? { include: settings.alertsInclude } : {}),
        ...(settings.alertsExclude ? { exclude: settings.alertsExclude } : {}),
        firingOnly: settings.alertsFiringOnly,
      }),
    );
  return gates;
}

/** The caller's listener and the chat notifier, when notify-url is set. */
function listeners(plan: Plan, planId: string, options: RunOptions): (event: ExecEvent) => void {
  const settings = options.execute;
  const all = [options.onEvent];
  if (settings.notifyUrl) {
    const format = settings.notifyFormat === 'auto' ? formatFor(settings.notifyUrl) : settings.notifyFormat;
    const templates = {
      drain: settings.notifyTemplateDrain,
      reboot: settings.notifyTemplateReboot,
      uncordon: settings.notifyTemplateUncordon,
    };
    const notify = { url: settings.notifyUrl, format, templates, cluster: plan.cluster.name, planId };
    all.push(chatNotifier(notify, options.log));
  }
  return (event) => all.forEach((listener) => listener?.(event));
}

function chooseRebooter(kube: KubeClients, options: RunOptions): Rebooter {
  const { rebootMethod, rebootCommand } = options.execute;
  // azure-vmss without the Azure integration must never quietly become a pod reboot.
  if (rebootMethod === 'azure-vmss' && !options.rebooter)
    throw new UserError(
      'reboot-method azure-vmss needs the Azure integration (azure-* settings); no node was touched',
    );
  return (
    options.rebooter ??
    new PodRebooter(kube, {
      namespace: options.plan.namespace,
      image: options.plan.image,
      mode: rebootMethod === 'signal' ? 'signal' : 'command',
      command: rebootCommand,
    })
  );
}

function executorOptions(plan: Plan, options: RunOptions): ExecutorOptions {
  const settings = options.execute;
  return {
    drain: {
      // The drain options are the approved ones, recorded in the plan.
      deleteEmptyDirData: plan.options.deleteEmptyDirData,
      force: plan.options.force,
      timeoutSeconds: settings.drainTimeout,
      gracePeriodSeconds: settings.drainGracePeriod,
      podSelector: settings.drainPodSelector,
      retryDelayMs: settings.drainRetryDelay * 1000,
      concurrency: 10,
    },
    rebootTimeoutSeconds: settings.rebootTimeout,
    rebootDelaySeconds: settings.rebootDelay,
    workloadTimeoutSeconds: settings.workloadTimeout,
    soakSeconds: settings.soak,
    maxNodes: settings.maxNodes,
    preRebootLabels: settings.preRebootNodeLabels,
    postRebootLabels: settings.postRebootNodeLabels,
    forceReboot: settings.forceReboot,
    preferNoScheduleTaint: settings.preferNoScheduleTaint,
    // One node at a time: its re-probe is one pod.
    ...(options.plan.detectors.includes('probe')
      ? { reprobe: { ...probeOptions(options.plan), parallelism: 1 } }
      : {}),
  };
}
