// A way to reboot one node. Issuing is idempotent per (plan, node): a rerun after a crash finds
// the reboot already requested instead of requesting a second one. Whether the reboot happened
// is decided by the node's boot ID (waitForBoot in src/execute/wait.ts), the same for every method.
import type * as k8s from '@kubernetes/client-node';

export interface RebootRequest {
  node: k8s.V1Node;
  planId: string;
}

export interface Rebooter {
  /**
   * The reboot method (the reboot-method setting, not a plan node's method) as the reboot step
   * names it: 'pod (command)', 'pod (signal)' or 'azure-vmss'.
   */
  readonly rebootMethod: string;
  /** Requests the reboot. Returns 'issued', or 'already-issued' when an earlier run did. */
  reboot(request: RebootRequest): Promise<'issued' | 'already-issued'>;
  /** Removes whatever the request left behind (pods); safe to call more than once. */
  cleanup(request: RebootRequest): Promise<void>;
  /** Throws when this method cannot reboot the node at all (checked before the node is cordoned). */
  preflight?(node: k8s.V1Node): Promise<void>;
}
