// Settings of the Azure/AKS integration, in the same [schema, default, doc] shape as the plan and
// execute settings (src/settings.ts), kebab-case like every other input. Secrets never come from
// here: the client secret is read from AZURE_CLIENT_SECRET in the environment, so it is never part
// of an input that the runner might echo.
import { z } from 'zod';
import { UserError } from '../errors.ts';
import { bool, int, parseSettings, type Parsed } from '../settings.ts';

const httpsUrl = (name: string) =>
  z
    .string()
    .refine((v) => /^https:\/\/[^\s/]+(\/[^\s]*)?$/.test(v.trim()), `${name} must be an https URL`)
    .transform((v) => v.trim().replace(/\/+$/, ''));

const guidOrEmpty = (name: string) =>
  z
    .string()
    .refine((v) => v === '' || /^[0-9a-fA-F-]{36}$/.test(v.trim()), `${name} must be a GUID`)
    .transform((v) => v.trim());
const armName = (name: string) =>
  z
    .string()
    .refine((v) => v === '' || /^[-\w._()]{1,90}$/.test(v.trim()), `${name} must be an Azure resource name`)
    .transform((v) => v.trim());

export const CREDENTIAL_KINDS = ['oidc', 'client-secret', 'azure-cli'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

/** The AKS AAD server application (Microsoft's, the same in every tenant). */
export const AKS_SERVER_APP_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';

export const AZURE_SETTINGS = {
  'azure-credential': [
    z.enum(['auto', ...CREDENTIAL_KINDS]),
    'auto',
    'How to sign in to Azure: oidc (GitHub OIDC federation, needs id-token: write), client-secret (AZURE_CLIENT_SECRET from the environment), azure-cli (after azure/login), or auto: each of those that is configured, in that order.',
  ],
  'azure-client-id': [
    guidOrEmpty('azure-client-id'),
    '',
    'Client ID of the app registration or user-assigned identity (oidc, client-secret); empty uses AZURE_CLIENT_ID.',
  ],
  'azure-tenant-id': [
    guidOrEmpty('azure-tenant-id'),
    '',
    'Microsoft Entra tenant ID (oidc, client-secret); empty uses AZURE_TENANT_ID.',
  ],
  'azure-subscription-id': [
    guidOrEmpty('azure-subscription-id'),
    '',
    'Subscription of the AKS cluster; empty uses AZURE_SUBSCRIPTION_ID. Setting it with the resource group and cluster name turns the AKS integration on.',
  ],
  'azure-resource-group': [armName('azure-resource-group'), '', 'Resource group of the AKS cluster.'],
  'azure-cluster-name': [armName('azure-cluster-name'), '', 'Name of the AKS managed cluster.'],
  'azure-cluster-access': [
    z.enum(['auto', 'aks', 'kubeconfig']),
    'auto',
    'aks: reach the cluster with the server and CA from AKS (listClusterUserCredentials) and an Entra token for the AKS server app, no kubeconfig or kubelogin needed; kubeconfig: use the kubeconfig setting; auto: aks when the AKS cluster is named and no kubeconfig is given.',
  ],
  'azure-arm-endpoint': [
    httpsUrl('azure-arm-endpoint'),
    'https://management.azure.com',
    'Azure Resource Manager endpoint (sovereign clouds; tests).',
  ],
  'azure-authority-host': [
    httpsUrl('azure-authority-host'),
    'https://login.microsoftonline.com',
    'Microsoft Entra authority host (sovereign clouds; tests).',
  ],
  'azure-aks-server-app-id': [
    guidOrEmpty('azure-aks-server-app-id'),
    '',
    `Application ID whose token the AKS API server accepts; empty: the --server-id in the AKS kubeconfig, else ${AKS_SERVER_APP_ID}.`,
  ],
  'azure-node-image-fallback': [
    bool('azure-node-image-fallback'),
    'true',
    "When a node's in-place reboot fails (it never comes back), upgrade its pool's node image (pool-wide; reimages disks).",
  ],
  'azure-node-image-timeout': [
    int('azure-node-image-timeout', 60, 86_400),
    '7200',
    'Seconds a node image upgrade of one pool may take before the run stops.',
  ],
  'azure-maintenance-configurations': [
    z.string().transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    'aksManagedNodeOSUpgradeSchedule,default',
    'AKS planned maintenance configurations honoured as a window gate: the first of these the cluster has is used; empty ignores them.',
  ],
  'azure-poll-interval': [
    int('azure-poll-interval', 0, 600),
    '0',
    "Seconds between polls of Azure long-running operations; 0 follows the service's Retry-After (2 s without one).",
  ],
} as const;

export type AzureSettings = Parsed<typeof AZURE_SETTINGS>;

/**
 * Validates raw string settings (the IDs fall back to the AZURE_* environment); one UserError
 * lists every problem.
 */
export function parseAzureSettings(
  raw: Partial<Record<string, string | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): AzureSettings {
  const fromEnv: Record<string, string | undefined> = {
    'azure-client-id': env.AZURE_CLIENT_ID,
    'azure-tenant-id': env.AZURE_TENANT_ID,
    'azure-subscription-id': env.AZURE_SUBSCRIPTION_ID,
  };
  const s = parseSettings(
    AZURE_SETTINGS,
    Object.fromEntries(Object.keys(AZURE_SETTINGS).map((k) => [k, raw[k] || fromEnv[k] || undefined])),
  );
  const problems: string[] = [];
  const named = [s.azureResourceGroup, s.azureClusterName].filter(Boolean).length;
  if (named === 1)
    problems.push('azure-resource-group and azure-cluster-name go together: set both or neither');
  if (named === 2 && !s.azureSubscriptionId)
    problems.push('azure-subscription-id (or AZURE_SUBSCRIPTION_ID) is needed with azure-cluster-name');
  if (problems.length) throw new UserError(`invalid settings: ${problems.join('; ')}`);
  return s;
}

/** The AKS integration is on when the managed cluster is named. */
export const aksEnabled = (settings: AzureSettings): boolean =>
  !!(settings.azureSubscriptionId && settings.azureResourceGroup && settings.azureClusterName);
