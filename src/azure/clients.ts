// The Azure edge: ARM clients for AKS and Compute built once from the settings, the providerID
// parser, and ARM failures turned into messages an operator can act on.
import type { TokenCredential } from '@azure/core-auth';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { ComputeManagementClient } from '@azure/arm-compute';
import { UserError } from '../errors.ts';
import type { AzureSettings } from './settings.ts';
import { safeMessage } from './credential.ts';

export interface AksCluster {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export interface AzureClients {
  credential: TokenCredential;
  cluster: AksCluster;
  aks: ContainerServiceClient;
  /** Compute client for a subscription (nodes' VMs normally live in the cluster's). */
  compute(subscriptionId: string): ComputeManagementClient;
  /** Poll interval for long-running operations (undefined: the service's Retry-After). */
  pollMs: number | undefined;
  armEndpoint: string;
}

export interface ClientOptions {
  /** Retries of throttled (429, honouring Retry-After) and failed (5xx, network) requests. */
  maxRetries?: number;
  retryDelayInMs?: number;
}

export function makeAzureClients(
  settings: AzureSettings,
  credential: TokenCredential,
  clientOptions: ClientOptions = {},
): AzureClients {
  const endpoint = settings.azureArmEndpoint;
  const options = {
    endpoint,
    credentials: { scopes: [`${endpoint}/.default`] },
    retryOptions: {
      maxRetries: clientOptions.maxRetries ?? 3,
      ...(clientOptions.retryDelayInMs !== undefined ? { retryDelayInMs: clientOptions.retryDelayInMs } : {}),
    },
    userAgentOptions: { userAgentPrefix: 'reboot-pilot' },
  };
  const cluster = {
    subscriptionId: settings.azureSubscriptionId,
    resourceGroup: settings.azureResourceGroup,
    name: settings.azureClusterName,
  };
  const computes = new Map<string, ComputeManagementClient>();
  return {
    credential,
    cluster,
    aks: new ContainerServiceClient(credential, cluster.subscriptionId, options),
    compute(sub) {
      let c = computes.get(sub.toLowerCase());
      if (!c) computes.set(sub.toLowerCase(), (c = new ComputeManagementClient(credential, sub, options)));
      return c;
    },
    pollMs: settings.azurePollInterval > 0 ? settings.azurePollInterval * 1000 : undefined,
    armEndpoint: endpoint,
  };
}

export type AzureVm =
  | { kind: 'vmss'; subscriptionId: string; resourceGroup: string; vmss: string; instanceId: string }
  | { kind: 'vm'; subscriptionId: string; resourceGroup: string; vmName: string };

/**
 * The VM behind a node, from its providerID:
 * azure:///subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachineScaleSets/<vmss>/virtualMachines/<id>
 * or, for VirtualMachines pools, .../providers/Microsoft.Compute/virtualMachines/<name>.
 * ARM names are case-insensitive (AKS lower-cases the resource group); undefined when not Azure.
 */
export function parseProviderID(providerID: string): AzureVm | undefined {
  const m = providerID.match(
    /^azure:\/\/\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/(.+)$/i,
  );
  if (!m) return undefined;
  const [, sub, rg, rest] = m as unknown as [string, string, string, string];
  const ss = rest.match(/^virtualMachineScaleSets\/([^/]+)\/virtualMachines\/([^/]+)$/i);
  if (ss) return { kind: 'vmss', subscriptionId: sub, resourceGroup: rg, vmss: ss[1]!, instanceId: ss[2]! };
  const vm = rest.match(/^virtualMachines\/([^/]+)$/i);
  if (vm) return { kind: 'vm', subscriptionId: sub, resourceGroup: rg, vmName: vm[1]! };
  return undefined;
}

export function describeVm(vm: AzureVm): string {
  return vm.kind === 'vmss'
    ? `VMSS instance ${vm.resourceGroup}/${vm.vmss}/${vm.instanceId}`
    : `VM ${vm.resourceGroup}/${vm.vmName}`;
}

/**
 * An ARM failure as one line: what was tried, the HTTP status, ARM's error code and message.
 * RestError (HTTP), an LRO that ended Failed/Canceled (core-lro), and sign-in UserErrors.
 */
export function explainAzureError(error: unknown, what: string): Error {
  if (error instanceof UserError) return new UserError(`${what}: ${error.message}`);
  const err = error as
    | {
        statusCode?: number;
        code?: string;
        message?: string;
        details?: { error?: { code?: string; message?: string } };
        name?: string;
      }
    | null
    | undefined;
  const msg = safeMessage(error);
  if (err?.statusCode === 401)
    return new UserError(
      `${what}: Azure refused the credentials (401 ${err.code ?? 'Unauthorized'}: ${msg})`,
    );
  if (err?.statusCode === 403)
    return new UserError(
      `${what}: the Azure identity lacks permission (403 ${err.code ?? 'Forbidden'}: ${msg}); ` +
        'see the README for the roles it needs',
    );
  if (err?.statusCode === 404)
    return new UserError(`${what}: not found in Azure (404 ${err.code ?? ''}: ${msg})`);
  if (err?.statusCode)
    return new Error(`${what}: HTTP ${err.statusCode}${err.code ? ` ${err.code}` : ''}: ${msg}`);
  if (/operation (failed|was canceled)|failed|canceled/i.test(msg))
    return new Error(`${what}: the operation ended unsuccessfully: ${msg}`);
  return new Error(`${what}: ${msg}`);
}
