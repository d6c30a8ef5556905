// Reboot through a short-lived pod on the node, as kured does it: privileged with hostPID,
// running `nsenter -m/proc/1/ns/mnt -- /bin/systemctl reboot` (the command is configurable), or
// the signal method, SIGRTMIN+5 (39) to PID 1, which needs hostPID and only CAP_KILL. The pod
// tolerates every taint (the node is cordoned by now) and has a name derived from plan and node,
// so issuing twice creates it once. The command is guarded by the boot ID the node had when the
// reboot was requested (the executor requests it only while the node still runs the plan's boot):
// if the pod ever runs again after that boot ended (a kubelet restarting it after the reboot, a
// copy of the spec applied later), it exits 0 without rebooting.
import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { explainApiError, type KubeClients } from '../kube/client.ts';
import { MANAGED_BY, ROLE_LABEL } from '../kube/labels.ts';
import type { RebootRequest, Rebooter } from './types.ts';

export interface PodRebootOptions {
  namespace: string;
  image: string;
  /** 'command' runs `command`; 'signal' sends signal 39 (SIGRTMIN+5) to PID 1. */
  mode: 'command' | 'signal';
  command: string;
}

export const DEFAULT_REBOOT_COMMAND = 'nsenter -m/proc/1/ns/mnt -- /bin/systemctl reboot';

export function rebootPodName(planId: string, node: string): string {
  return `reboot-pilot-reboot-${createHash('sha256').update(`${planId}\0${node}`).digest('hex').slice(0, 16)}`;
}

/**
 * `script`, run only while the node still runs boot `bootId`; otherwise a message (also the
 * termination message) and exit 0. Unguarded only when the node reports no boot ID.
 */
export function guardedRebootScript(script: string, bootId: string | undefined): string {
  const id = (bootId ?? '').replace(/[^0-9a-f-]/g, '');
  if (!id) return script;
  const refuse = `echo "not rebooting: requested for boot ${id}, this is boot $b" | tee /dev/termination-log; exit 0`;
  return `b=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null); if [ "$b" != "${id}" ]; then ${refuse}; fi; ${script}`;
}

export function rebootPod(r: RebootRequest, o: PodRebootOptions): k8s.V1Pod {
  const node = r.node.metadata!.name!;
  const signal = o.mode === 'signal';
  const script = guardedRebootScript(signal ? 'kill -39 1' : o.command, r.node.status?.nodeInfo?.bootID);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: rebootPodName(r.planId, node),
      namespace: o.namespace,
      labels: { ...MANAGED_BY, [ROLE_LABEL]: 'reboot' },
      annotations: { 'reboot-pilot.io/node': node, 'reboot-pilot.io/plan': r.planId },
    },
    spec: {
      nodeName: node,
      hostPID: true,
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'reboot',
          image: o.image,
          command: ['/bin/sh', '-c', script],
          // "sh: nsenter: not found" becomes the termination message the request's error quotes.
          terminationMessagePolicy: 'FallbackToLogsOnError',
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
          securityContext: signal
            ? {
                runAsUser: 0,
                privileged: false,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'], add: ['KILL'] },
              }
            : { runAsUser: 0, privileged: true },
        },
      ],
    },
  };
}

export class PodRebooter implements Rebooter {
  readonly method: string;
  private readonly c: KubeClients;
  private readonly o: PodRebootOptions;

  constructor(c: KubeClients, o: PodRebootOptions) {
    this.c = c;
    this.o = o;
    this.method = o.mode === 'signal' ? 'pod (signal)' : 'pod (command)';
  }

  async reboot(r: RebootRequest): Promise<'issued' | 'already-issued'> {
    let result: 'issued' | 'already-issued' = 'issued';
    try {
      await this.c.core.createNamespacedPod({ namespace: this.o.namespace, body: rebootPod(r, this.o) });
    } catch (e) {
      if (!(e instanceof k8s.ApiException && e.code === 409))
        throw explainApiError(e, 'create', `pods in namespace ${this.o.namespace}`, this.c.server);
      result = 'already-issued';
    }
    await this.failFastOnMissingCommand(r);
    return result;
  }

  /**
   * A reboot pod whose command cannot run at all (exit 126 or 127: no nsenter or systemctl in the
   * image) while the node still runs the same boot fails the request at once, naming the cause,
   * instead of waiting out the reboot timeout. Looks until the pod ends, the node goes down or
   * reboots, or `watchSeconds` pass; any other outcome is left to the boot-ID wait.
   */
  private async failFastOnMissingCommand(r: RebootRequest, watchSeconds = 60): Promise<void> {
    const nodeName = r.node.metadata!.name!;
    const bootBefore = r.node.status?.nodeInfo?.bootID;
    const name = rebootPodName(r.planId, nodeName);
    const deadline = Date.now() + watchSeconds * 1000;
    while (Date.now() < deadline) {
      const pod = await this.c.core
        .readNamespacedPod({ name, namespace: this.o.namespace })
        .catch(() => undefined);
      const ended = pod?.status?.containerStatuses?.[0]?.state?.terminated;
      if (pod?.status?.phase === 'Failed' && ended && (ended.exitCode === 126 || ended.exitCode === 127)) {
        const node = await this.c.core.readNode({ name: nodeName }).catch(() => undefined);
        if (node?.status?.nodeInfo?.bootID !== bootBefore) return;
        const why =
          (ended.message ?? '').trim().slice(0, 300) ||
          (ended.exitCode === 127 ? 'command not found' : 'command not executable');
        await this.cleanup(r);
        throw new Error(
          `the reboot pod could not run its command on ${nodeName} (exit ${ended.exitCode}: ${why}); the image ${this.o.image} lacks a program the ${this.method} method needs (the default command needs nsenter and the node's systemctl); nothing was rebooted and the node stays cordoned`,
        );
      }
      if (pod?.status?.phase === 'Succeeded' || pod?.status?.phase === 'Failed' || !pod) return;
      const node = await this.c.core.readNode({ name: nodeName }).catch(() => undefined);
      const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (!node || !ready || node.status?.nodeInfo?.bootID !== bootBefore) return;
      await new Promise((res) => setTimeout(res, 1000));
    }
  }

  async cleanup(r: RebootRequest): Promise<void> {
    await this.c.core
      .deleteNamespacedPod({
        name: rebootPodName(r.planId, r.node.metadata!.name!),
        namespace: this.o.namespace,
        gracePeriodSeconds: 0,
      })
      .catch((e: unknown) => {
        if (!(e instanceof k8s.ApiException && e.code === 404))
          throw explainApiError(e, 'delete', `pods in namespace ${this.o.namespace}`, this.c.server);
      });
  }
}
