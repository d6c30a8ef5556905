// How the action and the CLI use the Azure integration (all of it optional: with no Azure
// settings nothing here runs and the product behaves as without it):
//   const az = openAzure(parseAzureSettings(raw), { needed: exec.rebootMethod === 'azure-vmss', getIDToken: core.getIDToken, log });
//   const clients = (await azureKubeClients(az, planSettings, log)) ?? connect(planSettings);
//   plan:    inspectCluster(clients, planSettings, log, await azurePlanFacts(az, log))
//   execute: runPlan(clients, planFile, { plan, execute, log, ...(await azureExtras(az, execute, clients, log)) })
import type { KubeClients } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import type { ExecuteSettings } from '../settings.ts';
import type { Rebooter } from '../reboot/types.ts';
import type { Gate } from '../gates/types.ts';
import type { ExecuteDeps } from '../execute/executor.ts';
import type { AksFacts } from '../plan/types.ts';
import { MaintenanceGate, describeMaintenance } from '../gates/maintenance.ts';
import { VmssRebooter } from '../reboot/vmss.ts';
import { aksEnabled, type AzureSettings } from './settings.ts';
import { AzureCredential, type CredentialDeps } from './credential.ts';
import { makeAzureClients, type AzureClients, type ClientOptions } from './clients.ts';
import { connectAks } from './kube.ts';
import { chooseMaintenance, readAksFacts } from './facts.ts';
import { NodeImageUpgrader } from './nodeimage.ts';

export interface AzureSession {
  settings: AzureSettings;
  credential: AzureCredential;
  clients: AzureClients;
  /** Whether an AKS managed cluster is named (subscription, resource group, cluster). */
  aks: boolean;
}

export interface OpenOptions extends CredentialDeps {
  /** Azure is needed even without an AKS cluster named (reboot-method azure-vmss). */
  needed?: boolean;
  clientOptions?: ClientOptions;
}

/** The Azure session for the settings, or undefined when nothing asks for Azure. No network yet. */
export function openAzure(s: AzureSettings, o: OpenOptions = {}): AzureSession | undefined {
  const aks = aksEnabled(s);
  if (!aks && !o.needed) return undefined;
  const credential = new AzureCredential(s, o);
  return { settings: s, credential, clients: makeAzureClients(s, credential, o.clientOptions), aks };
}

/**
 * Kubernetes clients for the AKS cluster from ARM (no kubeconfig, no kubelogin), when the
 * settings ask for it (azure-cluster-access aks, or auto with an AKS cluster named and no
 * kubeconfig setting); undefined means: connect with the kubeconfig as usual.
 */
export async function azureKubeClients(
  az: AzureSession | undefined,
  plan: { kubeconfig: string },
  log?: (l: string) => void,
): Promise<KubeClients | undefined> {
  if (!az) return undefined;
  const mode = az.settings.azureClusterAccess;
  if (mode === 'kubeconfig' || (mode === 'auto' && (!az.aks || plan.kubeconfig))) return undefined;
  if (!az.aks)
    throw new UserError(
      'azure-cluster-access aks needs azure-subscription-id, azure-resource-group and azure-cluster-name',
    );
  return connectAks(az.clients, az.settings.azureAksServerAppId, log);
}

/** AKS facts for the planner (node OS channel, pools' node images, the maintenance window). */
export async function azurePlanFacts(
  az: AzureSession | undefined,
  log: (l: string) => void = () => undefined,
): Promise<AksFacts | undefined> {
  if (!az?.aks) return undefined;
  const { facts, maintenance } = await readAksFacts(az.clients);
  const chosen = chooseMaintenance(maintenance, az.settings.azureMaintenanceConfigurations);
  log(
    `AKS: node OS upgrade channel ${facts.nodeOSUpgradeChannel}; ${Object.keys(facts.pools).length} pools${chosen ? `; maintenance window ${describeMaintenance(chosen)}` : ''}`,
  );
  const gate = chosen ? new MaintenanceGate(chosen) : undefined;
  return {
    ...facts,
    ...(chosen && gate
      ? { maintenance: describeMaintenance(chosen), maintenanceOpen: (at: Date) => gate.isOpen(at) }
      : {}),
  };
}

export interface AzureExtras {
  rebooter?: Rebooter;
  fallback?: ExecuteDeps['fallback'];
  gates: Gate[];
}

/** What runPlan takes from Azure: the azure-vmss rebooter, the node image upgrade, the AKS maintenance gate. */
export async function azureExtras(
  az: AzureSession | undefined,
  exec: Pick<ExecuteSettings, 'rebootMethod'>,
  clients: KubeClients,
  log: (l: string) => void = () => undefined,
): Promise<AzureExtras> {
  const vmss = exec.rebootMethod === 'azure-vmss';
  if (!az) {
    if (vmss)
      throw new UserError(
        'reboot-method azure-vmss needs the Azure settings (azure-credential and its IDs, or azure-subscription-id, azure-resource-group and azure-cluster-name)',
      );
    return { gates: [] };
  }
  const out: AzureExtras = { gates: [] };
  if (vmss) out.rebooter = new VmssRebooter(clients, az.clients, log);
  if (az.aks) {
    const s = az.settings;
    out.fallback = new NodeImageUpgrader(clients, az.clients, {
      timeoutSeconds: s.azureNodeImageTimeout,
      onFailedReboot: s.azureNodeImageFallback,
      log,
    }).fallback;
    if (s.azureMaintenanceConfigurations.length) {
      const { maintenance } = await readAksFacts(az.clients);
      const chosen = chooseMaintenance(maintenance, s.azureMaintenanceConfigurations);
      if (chosen) {
        log(`honouring AKS planned maintenance ${describeMaintenance(chosen)}`);
        out.gates.push(new MaintenanceGate(chosen));
      }
    }
  }
  return out;
}
