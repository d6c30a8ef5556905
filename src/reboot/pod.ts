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
import { MANAGED_BY, ROLE_LABEL } from '../detect/probe.ts';
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
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
          securityContext: signal ? { runAsUser: 0, privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['KILL'] } } : { runAsUser: 0, privileged: true },
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
    try {
      await this.c.core.createNamespacedPod({ namespace: this.o.namespace, body: rebootPod(r, this.o) });
      return 'issued';
    } catch (e) {
      if (e instanceof k8s.ApiException && e.code === 409) return 'already-issued';
      throw explainApiError(e, 'create', `pods in namespace ${this.o.namespace}`, this.c.server);
    }
  }

  async cleanup(r: RebootRequest): Promise<void> {
    await this.c.core.deleteNamespacedPod({ name: rebootPodName(r.planId, r.node.metadata!.name!), namespace: this.o.namespace, gracePeriodSeconds: 0 }).catch((e: unknown) => {
      if (!(e instanceof k8s.ApiException && e.code === 404)) throw explainApiError(e, 'delete', `pods in namespace ${this.o.namespace}`, this.c.server);
    });
  }
}
