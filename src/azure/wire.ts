// How the action and the CLI use the Azure integration (all of it optional: with no Azure
// settings nothing here runs and the product behaves as without it):
//   const needed = execute.rebootMethod === 'azure-vmss';
//   const az = openAzure(parseAzureSettings(raw), { needed, getIDToken: core.getIDToken, log });
//   const kube = (await azureKubeClients(az, planSettings, log)) ?? connect(planSettings);
//   plan:    inspectCluster(kube, planSettings, log, await azurePlanFacts(az, log))
//   execute: runPlan(kube, planFile, { plan, execute, log, ...(await azureExtras(az, execute, kube, log)) })
import type { KubeClients } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import type { ExecuteSettings } from '../settings.ts';
import type { Rebooter } from '../reboot/types.ts';
import type { Gate } from '../gates/types.ts';
import type { NodeImageUpgrade } from '../execute/types.ts';
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
export function openAzure(settings: AzureSettings, options: OpenOptions = {}): AzureSession | undefined {
  const aks = aksEnabled(settings);
  if (!aks && !options.needed) return undefined;
  const credential = new AzureCredential(settings, options);
  const clients = makeAzureClients(settings, credential, options.clientOptions);
  return { settings, credential, clients, aks };
}

/**
 * Kubernetes clients for the AKS cluster from ARM (no kubeconfig, no kubelogin), when the
 * settings ask for it (azure-cluster-access aks, or auto with an AKS cluster named and no
 * kubeconfig setting); undefined means: connect with the kubeconfig as usual.
 */
export async function azureKubeClients(
  az: AzureSession | undefined,
  plan: { kubeconfig: string },
  log?: (line: string) => void,
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
  log: (line: string) => void = () => undefined,
): Promise<AksFacts | undefined> {
  if (!az?.aks) return undefined;
  const { facts, maintenance } = await readAksFacts(az.clients);
  const chosen = chooseMaintenance(maintenance, az.settings.azureMaintenanceConfigurations);
  const window = chosen ? `; maintenance window ${describeMaintenance(chosen)}` : '';
  const pools = Object.keys(facts.pools).length;
  log(`AKS: node OS upgrade channel ${facts.nodeOSUpgradeChannel}; ${pools} pools${window}`);
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
  nodeImageUpgrade?: NodeImageUpgrade;
  gates: Gate[];
}

/** What runPlan takes from Azure: the azure-vmss rebooter, the node image upgrade, the maintenance gate. */
export async function azureExtras(
  az: AzureSession | undefined,
  execute: Pick<ExecuteSettings, 'rebootMethod'>,
  kube: KubeClients,
  log: (line: string) => void = () => undefined,
): Promise<AzureExtras> {
  const vmss = execute.rebootMethod === 'azure-vmss';
  if (!az) {
    if (vmss)
      throw new UserError(
        'reboot-method azure-vmss needs the Azure settings (azure-credential and its IDs, ' +
          'or azure-subscription-id, azure-resource-group and azure-cluster-name)',
      );
    return { gates: [] };
  }
  const extras: AzureExtras = { gates: [] };
  if (vmss) extras.rebooter = new VmssRebooter(kube, az.clients, log);
  if (az.aks) {
    const settings = az.settings;
    extras.nodeImageUpgrade = new NodeImageUpgrader(kube, az.clients, {
      timeoutSeconds: settings.azureNodeImageTimeout,
      onFailedReboot: settings.azureNodeImageFallback,
      log,
    });
    const gate = await maintenanceGate(az, log);
    if (gate) extras.gates.push(gate);
  }
  return extras;
}

/** The AKS planned maintenance gate, when azure-maintenance-configurations names one that exists. */
async function maintenanceGate(
  az: AzureSession,
  log: (line: string) => void,
): Promise<MaintenanceGate | undefined> {
  const wanted = az.settings.azureMaintenanceConfigurations;
  if (!wanted.length) return undefined;
  const { maintenance } = await readAksFacts(az.clients);
  const chosen = chooseMaintenance(maintenance, wanted);
  if (!chosen) return undefined;
  log(`honouring AKS planned maintenance ${describeMaintenance(chosen)}`);
  return new MaintenanceGate(chosen);
}
