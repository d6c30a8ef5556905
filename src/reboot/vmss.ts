// The azure-vmss reboot method: restart the Azure VM behind the node, named by its providerID —
// a VMSS instance (virtualMachineScaleSetVMs.restart) or, for VirtualMachines pools, a VM
// (virtualMachines.restart) — and poll the long-running operation to its end. Whether the node
// really rebooted is decided as for every method: a new boot ID and Ready (executor).
// Idempotent per (plan, node): once Azure accepted the restart, the node is annotated with the
// plan ID, so a rerun after a crash finds it instead of restarting the machine twice.
import type * as k8s from '@kubernetes/client-node';
import { MERGE_PATCH, explainApiError, type KubeClients } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import {
  describeVm,
  explainAzureError,
  parseProviderID,
  type AzureClients,
  type AzureVm,
} from '../azure/clients.ts';
import { RESTART_ANNOTATION } from '../kube/labels.ts';
import type { RebootRequest, Rebooter } from './types.ts';

export class VmssRebooter implements Rebooter {
  readonly method = 'azure-vmss';
  private readonly c: KubeClients;
  private readonly az: AzureClients;
  private readonly log: (l: string) => void;

  constructor(c: KubeClients, az: AzureClients, log: (l: string) => void = () => undefined) {
    this.c = c;
    this.az = az;
    this.log = log;
  }

  private vmOf(node: k8s.V1Node): AzureVm {
    const id = node.spec?.providerID ?? '';
    const vm = parseProviderID(id);
    if (!vm) {
      throw new UserError(
        `reboot-method azure-vmss cannot reboot ${node.metadata?.name}: its providerID ${id ? `"${id}"` : '(none)'} names no Azure VM or VMSS instance; use reboot-method pod for nodes outside Azure`,
      );
    }
    return vm;
  }

  async preflight(node: k8s.V1Node): Promise<void> {
    this.vmOf(node);
  }

  async reboot(r: RebootRequest): Promise<'issued' | 'already-issued'> {
    const name = r.node.metadata!.name!;
    const vm = this.vmOf(r.node);
    if (r.node.metadata?.annotations?.[RESTART_ANNOTATION] === r.planId) return 'already-issued';
    const compute = this.az.compute(vm.subscriptionId);
    const opts = this.az.pollMs ? { updateIntervalInMs: this.az.pollMs } : {};
    const what = `restart ${describeVm(vm)} (node ${name})`;
    const poller =
      vm.kind === 'vmss'
        ? compute.virtualMachineScaleSetVMs.restart(vm.resourceGroup, vm.vmss, vm.instanceId, opts)
        : compute.virtualMachines.restart(vm.resourceGroup, vm.vmName, opts);
    try {
      await poller.submitted();
    } catch (e) {
      throw explainAzureError(e, `${what} was not accepted (nothing was restarted)`);
    }
    this.log(`${name}: Azure accepted the restart of ${describeVm(vm)}`);
    await this.mark(name, r.planId);
    try {
      await poller.pollUntilDone();
    } catch (e) {
      throw explainAzureError(e, `${what} was accepted, but its operation did not succeed`);
    }
    return 'issued';
  }

  private async mark(node: string, value: string | null): Promise<void> {
    try {
      await this.c.core.patchNode(
        { name: node, body: { metadata: { annotations: { [RESTART_ANNOTATION]: value } } } },
        MERGE_PATCH,
      );
    } catch (e) {
      throw explainApiError(e, 'patch', `nodes/${node} (annotations)`, this.c.server);
    }
  }

  async cleanup(r: RebootRequest): Promise<void> {
    if (r.node.metadata?.annotations?.[RESTART_ANNOTATION] !== undefined)
      await this.mark(r.node.metadata!.name!, null);
  }
}
