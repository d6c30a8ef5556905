// The azure-vmss reboot method: restart the Azure VM behind the node, named by its providerID —
// a VMSS instance (virtualMachineScaleSetVMs.restart) or, for VirtualMachines pools, a VM
// (virtualMachines.restart) — and poll the long-running operation to its end. Whether the node
// really rebooted is decided as for every method: a new boot ID and Ready (executor).
// Idempotent per (plan, node): once Azure accepted the restart, the node is annotated with the
// plan ID, so a rerun after a crash finds it instead of restarting the machine twice.
import type * as k8s from '@kubernetes/client-node';
import { UserError } from '../errors.ts';
import { MERGE_PATCH, explainApiError, type KubeClients } from '../kube/client.ts';
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
  readonly rebootMethod = 'azure-vmss';
  private readonly kube: KubeClients;
  private readonly azure: AzureClients;
  private readonly log: (line: string) => void;

  constructor(kube: KubeClients, azure: AzureClients, log: (line: string) => void = () => undefined) {
    this.kube = kube;
    this.azure = azure;
    this.log = log;
  }

  private vmOf(node: k8s.V1Node): AzureVm {
    const id = node.spec?.providerID ?? '';
    const vm = parseProviderID(id);
    if (!vm) {
      throw new UserError(
        `reboot-method azure-vmss cannot reboot ${node.metadata?.name}: ` +
          `its providerID ${id ? `"${id}"` : '(none)'} names no Azure VM or VMSS instance; ` +
          'use reboot-method pod for nodes outside Azure',
      );
    }
    return vm;
  }

  preflight(node: k8s.V1Node): Promise<void> {
    // A rejected promise, as the Rebooter contract says, not a throw at the call.
    return new Promise((resolve) => {
      this.vmOf(node);
      resolve();
    });
  }

  async reboot(request: RebootRequest): Promise<'issued' | 'already-issued'> {
    const { node, planId } = request;
    const name = node.metadata!.name!;
    const vm = this.vmOf(node);
    if (node.metadata?.annotations?.[RESTART_ANNOTATION] === planId) return 'already-issued';
    const compute = this.azure.compute(vm.subscriptionId);
    const opts = this.azure.pollMs ? { updateIntervalInMs: this.azure.pollMs } : {};
    const what = `restart ${describeVm(vm)} (node ${name})`;
    const poller =
      vm.kind === 'vmss'
        ? compute.virtualMachineScaleSetVMs.restart(vm.resourceGroup, vm.vmss, vm.instanceId, opts)
        : compute.virtualMachines.restart(vm.resourceGroup, vm.vmName, opts);
    try {
      await poller.submitted();
    } catch (error) {
      throw explainAzureError(error, `${what} was not accepted (nothing was restarted)`);
    }
    this.log(`${name}: Azure accepted the restart of ${describeVm(vm)}`);
    await this.mark(name, planId);
    try {
      await poller.pollUntilDone();
    } catch (error) {
      throw explainAzureError(error, `${what} was accepted, but its operation did not succeed`);
    }
    return 'issued';
  }

  private async mark(node: string, value: string | null): Promise<void> {
    try {
      await this.kube.core.patchNode(
        { name: node, body: { metadata: { annotations: { [RESTART_ANNOTATION]: value } } } },
        MERGE_PATCH,
      );
    } catch (error) {
      throw explainApiError(error, 'patch', `nodes/${node} (annotations)`, this.kube.server);
    }
  }

  async cleanup(request: RebootRequest): Promise<void> {
    const { metadata } = request.node;
    if (metadata?.annotations?.[RESTART_ANNOTATION] !== undefined) await this.mark(metadata.name!, null);
  }
}
