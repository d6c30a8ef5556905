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
import { MANAGED_BY, NODE_ANNOTATION, PLAN_ANNOTATION, ROLE_LABEL } from '../kube/labels.ts';
import { isReady } from '../cluster/node.ts';
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
  const hash = createHash('sha256').update(`${planId}\0${node}`).digest('hex');
  return `reboot-pilot-reboot-${hash.slice(0, 16)}`;
}

/**
 * `script`, run only while the node still runs boot `bootId`; otherwise a message (also the
 * termination message) and exit 0. Unguarded only when the node reports no boot ID.
 */
export function guardedRebootScript(script: string, bootId: string | undefined): string {
  const id = (bootId ?? '').replace(/[^0-9a-f-]/g, '');
  if (!id) return script;
  const refuse =
    `echo "not rebooting: requested for boot ${id}, this is boot $b" | tee /dev/termination-log; ` + 'exit 0';
  return (
    'b=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null); ' +
    `if [ "$b" != "${id}" ]; then ${refuse}; fi; ${script}`
  );
}

export function rebootPod(request: RebootRequest, options: PodRebootOptions): k8s.V1Pod {
  const node = request.node.metadata!.name!;
  const signal = options.mode === 'signal';
  const bootId = request.node.status?.nodeInfo?.bootID;
  const script = guardedRebootScript(signal ? 'kill -39 1' : options.command, bootId);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: rebootPodName(request.planId, node),
      namespace: options.namespace,
      labels: { ...MANAGED_BY, [ROLE_LABEL]: 'reboot' },
      annotations: { [NODE_ANNOTATION]: node, [PLAN_ANNOTATION]: request.planId },
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
          image: options.image,
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
  readonly rebootMethod: string;
  private readonly kube: KubeClients;
  private readonly options: PodRebootOptions;

  constructor(kube: KubeClients, options: PodRebootOptions) {
    this.kube = kube;
    this.options = options;
    this.rebootMethod = options.mode === 'signal' ? 'pod (signal)' : 'pod (command)';
  }

  async reboot(request: RebootRequest): Promise<'issued' | 'already-issued'> {
    const { namespace } = this.options;
    let result: 'issued' | 'already-issued' = 'issued';
    try {
      await this.kube.core.createNamespacedPod({ namespace, body: rebootPod(request, this.options) });
    } catch (error) {
      if (!(error instanceof k8s.ApiException && error.code === 409))
        throw explainApiError(error, 'create', `pods in namespace ${namespace}`, this.kube.server);
      result = 'already-issued';
    }
    await this.failFastOnMissingCommand(request);
    return result;
  }

  /**
   * A reboot pod whose command cannot run at all (exit 126 or 127: no nsenter or systemctl in the
   * image) while the node still runs the same boot fails the request at once, naming the cause,
   * instead of waiting out the reboot timeout. Looks until the pod ends, the node goes down or
   * reboots, or `watchSeconds` pass; any other outcome is left to the boot-ID wait.
   */
  private async failFastOnMissingCommand(request: RebootRequest, watchSeconds = 60): Promise<void> {
    const nodeName = request.node.metadata!.name!;
    const bootBefore = request.node.status?.nodeInfo?.bootID;
    const name = rebootPodName(request.planId, nodeName);
    const deadline = Date.now() + watchSeconds * 1000;
    const readNode = () => this.kube.core.readNode({ name: nodeName }).catch(() => undefined);
    while (Date.now() < deadline) {
      const pod = await this.kube.core
        .readNamespacedPod({ name, namespace: this.options.namespace })
        .catch(() => undefined);
      const ended = pod?.status?.containerStatuses?.[0]?.state?.terminated;
      if (pod?.status?.phase === 'Failed' && ended && (ended.exitCode === 126 || ended.exitCode === 127)) {
        const node = await readNode();
        if (node?.status?.nodeInfo?.bootID !== bootBefore) return;
        await this.cleanup(request);
        throw new Error(this.cannotRun(nodeName, ended));
      }
      if (pod?.status?.phase === 'Succeeded' || pod?.status?.phase === 'Failed' || !pod) return;
      const node = await readNode();
      if (!node || !isReady(node) || node.status?.nodeInfo?.bootID !== bootBefore) return;
      await new Promise((wake) => setTimeout(wake, 1000));
    }
  }

  private cannotRun(nodeName: string, ended: k8s.V1ContainerStateTerminated): string {
    const why =
      (ended.message ?? '').trim().slice(0, 300) ||
      (ended.exitCode === 127 ? 'command not found' : 'command not executable');
    return (
      `the reboot pod could not run its command on ${nodeName} (exit ${ended.exitCode}: ${why}); ` +
      `the image ${this.options.image} lacks a program the ${this.rebootMethod} method needs ` +
      "(the default command needs nsenter and the node's systemctl); " +
      'nothing was rebooted and the node stays cordoned'
    );
  }

  async cleanup(request: RebootRequest): Promise<void> {
    const { namespace } = this.options;
    await this.kube.core
      .deleteNamespacedPod({
        name: rebootPodName(request.planId, request.node.metadata!.name!),
        namespace,
        gracePeriodSeconds: 0,
      })
      .catch((error: unknown) => {
        if (!(error instanceof k8s.ApiException && error.code === 404))
          throw explainApiError(error, 'delete', `pods in namespace ${namespace}`, this.kube.server);
      });
  }
}
