// Runs an approved plan file against its cluster: checks the file's integrity and that the
// kubeconfig points at the cluster the plan was made for, takes the run lock (and checks or
// takes kured's), builds the gates and the rebooter from the settings, executes, releases.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { call, type KubeClients } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import { Plan } from '../plan/types.ts';
import { planId as idOf, shortId } from '../plan/canonical.ts';
import type { ExecuteSettings as RawExecuteSettings, PlanSettings } from '../settings.ts';
import { LeaseLock } from '../lock/lease.ts';
import { KuredLock } from '../lock/kured.ts';
import { PodRebooter } from '../reboot/pod.ts';
import type { Rebooter } from '../reboot/types.ts';
import { WindowGate, parseWindow } from '../gates/window.ts';
import { BlockingPodGate } from '../gates/blocking-pods.ts';
import { AlertGate } from '../gates/alerts.ts';
import { chatNotifier, formatFor } from '../notify/webhook.ts';
import type { Gate } from '../gates/types.ts';
import { executePlan, type ExecEvent, type ExecuteDeps, type ExecutionResult } from './executor.ts';

export interface PlanFile {
  planId: string;
  plan: Plan;
}

/** Parses plan.json ({ planId, plan }) and refuses a file whose ID does not match its content. */
export function readPlanFile(text: string, source = 'the plan file'): PlanFile {
  let raw: { planId?: unknown; plan?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch {
    throw new UserError(`${source} is not JSON`);
  }
  const parsed = Plan.safeParse(raw.plan);
  if (!parsed.success)
    throw new UserError(
      `${source} does not hold a Reboot Pilot plan: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  const id = idOf(parsed.data);
  if (raw.planId !== id)
    throw new UserError(
      `${source} was changed after it was made: its content hashes to ${shortId(id)}, not the plan ID ${String(raw.planId).slice(0, 12)} it names`,
    );
  return { planId: id, plan: parsed.data };
}

export function lockHolder(): string {
  const gh = process.env.GITHUB_RUN_ID
    ? `github:${process.env.GITHUB_REPOSITORY}/actions/runs/${process.env.GITHUB_RUN_ID}/attempts/${process.env.GITHUB_RUN_ATTEMPT ?? '1'}`
    : `${hostname()}/pid-${process.pid}`;
  return `${gh}#${randomBytes(3).toString('hex')}`;
}

export interface RunOptions {
  plan: PlanSettings;
  execute: RawExecuteSettings;
  log: (line: string) => void;
  onEvent?: (e: ExecEvent) => void;
  fallback?: ExecuteDeps['fallback'];
  /** Replaces the pod rebooter (the Azure integration's azure-vmss method). */
  rebooter?: Rebooter;
  /** Gates beyond the settings' own (the AKS planned maintenance window). */
  gates?: Gate[];
  /** Asked between nodes: a pause or cancel requested meanwhile (GitHub comments) stops the run there. */
  interrupt?: ExecuteDeps['interrupt'];
}

export async function runPlan(c: KubeClients, pf: PlanFile, o: RunOptions): Promise<ExecutionResult> {
  const { plan, planId } = pf;
  const s = o.execute;
  const window = parseWindow(s.rebootDays, s.startTime, s.endTime, s.timeZone);
  const kube = await call('get', 'namespaces (kube-system, for the cluster identity)', c.server, () =>
    c.core.readNamespace({ name: 'kube-system' }),
  );
  if (kube.metadata?.uid !== plan.cluster.uid) {
    throw new UserError(
      `plan ${shortId(planId)} was made for cluster ${plan.cluster.name} (kube-system UID ${plan.cluster.uid}); this kubeconfig reaches a different cluster (UID ${kube.metadata?.uid})`,
    );
  }
  const holder = lockHolder();
  const lease = new LeaseLock(c, {
    namespace: o.plan.namespace,
    name: 'reboot-pilot',
    ttlSeconds: s.lockTtl,
    holder,
  });
  const [kuredNs, kuredName] = s.kuredDaemonset.split('/') as [string, string];
  const kured = new KuredLock(c, {
    namespace: kuredNs,
    daemonSet: kuredName,
    take: s.takeKuredLock,
    holder,
    ttlSeconds: s.lockTtl,
  });
  await lease.acquire();
  o.log(`holding the lock ${o.plan.namespace}/reboot-pilot as ${holder}`);
  const renewKured = setInterval(() => void kured.renew(), Math.max(1000, (s.lockTtl * 1000) / 3));
  renewKured.unref();
  try {
    await kured.acquire();
    const gates: Gate[] = [
      new WindowGate(window, `${s.rebootDays} ${s.startTime}–${s.endTime} ${s.timeZone}`),
    ];
    if (plan.options.blockingPodSelector)
      gates.push(new BlockingPodGate(c, plan.options.blockingPodSelector));
    gates.push(...(o.gates ?? []));
    if (s.alertsUrl)
      gates.push(
        new AlertGate(s.alertsUrl, {
          ...(s.alertsInclude ? { include: s.alertsInclude } : {}),
          ...(s.alertsExclude ? { exclude: s.alertsExclude } : {}),
          firingOnly: s.alertsFiringOnly,
        }),
      );
    const listeners = [o.onEvent];
    if (s.notifyUrl) {
      listeners.push(
        chatNotifier(
          {
            url: s.notifyUrl,
            format: s.notifyFormat === 'auto' ? formatFor(s.notifyUrl) : s.notifyFormat,
            templates: {
              drain: s.notifyTemplateDrain,
              reboot: s.notifyTemplateReboot,
              uncordon: s.notifyTemplateUncordon,
            },
            cluster: plan.cluster.name,
            planId,
          },
          o.log,
        ),
      );
    }
    const onEvent = (e: ExecEvent) => listeners.forEach((l) => l?.(e));
    // azure-vmss without the Azure integration must never quietly become a pod reboot.
    if (s.rebootMethod === 'azure-vmss' && !o.rebooter)
      throw new UserError(
        'reboot-method azure-vmss needs the Azure integration (azure-* settings); no node was touched',
      );
    const rebooter =
      o.rebooter ??
      new PodRebooter(c, {
        namespace: o.plan.namespace,
        image: o.plan.image,
        mode: s.rebootMethod === 'signal' ? 'signal' : 'command',
        command: s.rebootCommand,
      });
    return await executePlan(
      plan,
      planId,
      {
        drain: {
          // The drain options are the approved ones, recorded in the plan.
          deleteEmptyDirData: plan.options.deleteEmptyDirData,
          force: plan.options.force,
          timeoutSeconds: s.drainTimeout,
          gracePeriodSeconds: s.drainGracePeriod,
          podSelector: s.drainPodSelector,
          retryDelayMs: s.drainRetryDelay * 1000,
          concurrency: 10,
        },
        rebootTimeoutSeconds: s.rebootTimeout,
        rebootDelaySeconds: s.rebootDelay,
        workloadTimeoutSeconds: s.workloadTimeout,
        soakSeconds: s.soak,
        maxNodes: s.maxNodes,
        preRebootLabels: s.preRebootNodeLabels,
        postRebootLabels: s.postRebootNodeLabels,
        forceReboot: s.forceReboot,
        preferNoScheduleTaint: s.preferNoScheduleTaint,
        ...(o.plan.detectors.includes('probe')
          ? {
              reprobe: {
                image: o.plan.image,
                namespace: o.plan.namespace,
                parallelism: 1,
                timeoutSeconds: o.plan.probeTimeout,
                sentinel: o.plan.sentinel,
                sentinelCommand: o.plan.sentinelCommand,
              },
            }
          : {}),
      },
      {
        clients: c,
        rebooter,
        gates,
        log: o.log,
        checkLock: () => lease.check(),
        onEvent,
        ...(o.fallback ? { fallback: o.fallback } : {}),
        ...(o.interrupt ? { interrupt: o.interrupt } : {}),
      },
    );
  } finally {
    clearInterval(renewKured);
    await kured.release();
    await lease.release();
  }
}
