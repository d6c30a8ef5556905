// The ARM edge against the fake ARM over HTTPS with the real 25.x SDK clients: AKS facts, the
// user kubeconfig turned into an Entra-authenticated KubeConfig, providerIDs, and the faults —
// 429 with Retry-After (retried after the delay), 500 (retried, then a clear error), an expired
// token (a clear 401) — plus the Entra token refresh of the Kubernetes authenticator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAzure, CLIENT_SECRET } from '../harness/arm.ts';
import { parseAzureSettings, AKS_SERVER_APP_ID } from '../../src/azure/settings.ts';
import { openAzure, azurePlanFacts, type AzureSession } from '../../src/azure/wire.ts';
import { parseProviderID } from '../../src/azure/clients.ts';
import { readAksFacts } from '../../src/azure/facts.ts';
import { EntraAuthenticator, kubeConfigFromAks, AAD_AUTH_PROVIDER } from '../../src/azure/kube.ts';
import { UserError } from '../../src/errors.ts';

let az: FakeAzure;
let session: AzureSession;

const EXEC_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: aks
  cluster:
    server: https://aks-dns-12345.hcp.westeurope.azmk8s.io:443
    certificate-authority-data: ${Buffer.from('not a real CA').toString('base64')}
contexts:
- name: aks
  context: {cluster: aks, user: clusterUser_rg_aks}
current-context: aks
users:
- name: clusterUser_rg_aks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, t, --login, devicecode]
      interactiveMode: IfAvailable
`;

before(async () => {
  az = await FakeAzure.start({
    subscriptionId: '00000000-0000-0000-0000-000000000001',
    resourceGroup: 'rg-platform',
    name: 'aks-prod',
    location: 'westeurope',
    nodeResourceGroup: 'mc_rg-platform_aks-prod_westeurope',
    nodeOSUpgradeChannel: 'SecurityPatch',
    pools: [
      {
        name: 'nodepool1',
        osType: 'Linux',
        nodeImageVersion: 'AKSUbuntu-2204gen2containerd-202509.23.0',
        latestNodeImageVersion: 'AKSUbuntu-2204gen2containerd-202510.03.0',
        count: 3,
        upgradeSettings: { maxSurge: '33%', drainTimeoutInMinutes: 45, nodeSoakDurationInMinutes: 5 },
      },
      {
        name: 'win',
        osType: 'Windows',
        nodeImageVersion: 'AKSWindows-2022-containerd-20348.3207.250212',
        latestNodeImageVersion: 'AKSWindows-2022-containerd-20348.3207.250212',
        count: 1,
      },
    ],
    maintenance: [
      // MaintenanceConfigurationsList_MaintenanceWindow.json
      {
        id: '/x/maintenanceConfigurations/aksManagedNodeOSUpgradeSchedule',
        name: 'aksManagedNodeOSUpgradeSchedule',
        properties: {
          maintenanceWindow: {
            schedule: { daily: { intervalDays: 5 } },
            durationHours: 10,
            utcOffset: '-07:00',
            startDate: '2023-01-01',
            startTime: '13:30',
          },
        },
      },
      {
        id: '/x/maintenanceConfigurations/aksManagedAutoUpgradeSchedule',
        name: 'aksManagedAutoUpgradeSchedule',
        properties: {
          maintenanceWindow: {
            schedule: { absoluteMonthly: { intervalMonths: 3, dayOfMonth: 15 } },
            durationHours: 5,
            utcOffset: '+00:00',
            startDate: '2023-01-01',
            startTime: '08:30',
            notAllowedDates: [{ start: '2023-02-18', end: '2023-02-25' }],
          },
        },
      },
    ],
    kubeconfig: EXEC_KUBECONFIG,
  });
  az.trustInProcess();
  session = openAzure(parseAzureSettings(az.settings({ 'azure-credential': 'client-secret' }), {}), {
    env: { AZURE_CLIENT_SECRET: CLIENT_SECRET },
    clientOptions: { maxRetries: 2, retryDelayInMs: 50 },
  })!;
});
after(async () => {
  await az.stop();
  assert.deepEqual(az.violations, []);
});

test('AKS facts: node OS channel, pools with current and latest image and upgradeSettings, the maintenance window', async () => {
  const facts = await azurePlanFacts(session);
  assert.equal(facts?.nodeOSUpgradeChannel, 'SecurityPatch');
  assert.deepEqual(facts.pools.nodepool1, {
    nodeImageVersion: 'AKSUbuntu-2204gen2containerd-202509.23.0',
    latestNodeImageVersion: 'AKSUbuntu-2204gen2containerd-202510.03.0',
    osType: 'Linux',
    type: 'VirtualMachineScaleSets',
    upgradeSettings: { maxSurge: '33%', drainTimeoutInMinutes: 45, nodeSoakDurationInMinutes: 5 },
  });
  assert.equal(facts.pools.win?.osType, 'Windows');
  assert.equal(
    facts.maintenance,
    'aksManagedNodeOSUpgradeSchedule: every 5 days at 13:30 UTC-07:00 for 10 h from 2023-01-01',
  );
  const { maintenance } = await readAksFacts(session.clients);
  assert.deepEqual(maintenance[1]?.maintenanceWindow?.notAllowedDates, [
    { start: '2023-02-18', end: '2023-02-25' },
  ]);
  assert.deepEqual(az.violations, []);
  // Every request carried an api-version and an ARM token (else a violation above).
  assert.ok(az.requests.every((r) => r.apiVersion));
});

test('429 with Retry-After: the SDK waits as told and the call succeeds', async () => {
  az.faults.push({
    method: 'GET',
    path: /\/agentPools\/nodepool1$/i,
    status: 429,
    headers: { 'Retry-After': '2' },
    body: { error: { code: 'TooManyRequests', message: 'throttled' } },
  });
  const t0 = Date.now();
  const p = await session.clients.aks.agentPools.get('rg-platform', 'aks-prod', 'nodepool1');
  assert.equal(p.nodeImageVersion, 'AKSUbuntu-2204gen2containerd-202509.23.0');
  const hits = az.requests.filter((r) => /agentPools\/nodepool1$/i.test(r.path) && r.at >= t0);
  assert.deepEqual(
    hits.map((h) => h.status),
    [429, 200],
  );
  assert.ok(
    hits[1]!.at - hits[0]!.at >= 1900,
    `retried after ${hits[1]!.at - hits[0]!.at} ms, Retry-After was 2 s`,
  );
});

test('500 that persists: retried, then an error naming the operation, status and ARM code', async () => {
  az.faults.push({
    method: 'GET',
    path: /\/managedClusters\/aks-prod$/i,
    status: 500,
    body: { error: { code: 'InternalServerError', message: 'An internal server error occurred.' } },
    times: 10,
  });
  const t0 = Date.now();
  await assert.rejects(readAksFacts(session.clients), (e: Error) => {
    assert.match(
      e.message,
      /read AKS cluster rg-platform\/aks-prod: HTTP 500 InternalServerError: An internal server error occurred/,
    );
    return true;
  });
  assert.equal(
    az.requests.filter((r) => r.at >= t0 && r.status === 500).length,
    3,
    'one try and two retries',
  );
  az.faults.length = 0;
});

test('an expired token: a clear 401, as a UserError', async () => {
  az.expireTokens();
  try {
    await assert.rejects(readAksFacts(session.clients), (e: Error) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /Azure refused the credentials \(401 ExpiredAuthenticationToken/);
      return true;
    });
  } finally {
    az.tokens.clear();
  }
  // A fresh session signs in again.
  session = openAzure(parseAzureSettings(az.settings({ 'azure-credential': 'client-secret' }), {}), {
    env: { AZURE_CLIENT_SECRET: CLIENT_SECRET },
  })!;
  assert.equal((await readAksFacts(session.clients)).facts.nodeOSUpgradeChannel, 'SecurityPatch');
});

test('the user kubeconfig: kubelogin exec user replaced by an Entra token for the --server-id; local accounts kept', async () => {
  const creds = await session.clients.aks.managedClusters.listClusterUserCredentials(
    'rg-platform',
    'aks-prod',
  );
  const yaml = Buffer.from(creds.kubeconfigs![0]!.value!).toString('utf8');
  const { kc, entra } = kubeConfigFromAks(yaml, session.credential, '');
  assert.ok(entra);
  assert.equal(kc.getCurrentCluster()?.server, 'https://aks-dns-12345.hcp.westeurope.azmk8s.io:443');
  // The library types authProvider as any; its name is a string.
  const authProvider = kc.getCurrentUser()?.authProvider as { name?: string } | undefined;
  assert.equal(authProvider?.name, AAD_AUTH_PROVIDER);
  assert.equal(kc.getCurrentUser()?.exec, undefined);
  const opts: { headers?: Record<string, string> } = {};
  await kc.applyToHTTPSOptions(opts);
  const token = opts.headers?.Authorization?.replace(/^Bearer /, '') ?? '';
  assert.equal(az.tokens.get(token)?.audience, AKS_SERVER_APP_ID);

  const local = EXEC_KUBECONFIG.replace(
    / {2}user:\n {4}exec:[\s\S]*$/,
    `  user:\n    token: static-local-account-token\n`,
  );
  const kept = kubeConfigFromAks(local, session.credential, '');
  assert.equal(kept.entra, undefined);
  assert.equal(kept.kc.getCurrentUser()?.token, 'static-local-account-token');
});

test('the Entra authenticator refreshes its token five minutes before expiry, not before', async () => {
  let now = 1_000_000;
  let n = 0;
  const cred = {
    getToken: () => Promise.resolve({ token: `t${++n}`, expiresOnTimestamp: now + 60 * 60_000 }),
  };
  const a = new EntraAuthenticator(cred, AKS_SERVER_APP_ID, () => now);
  const header = async () => {
    const o: { headers?: Record<string, string> } = {};
    await a.applyAuthentication({ name: 'u' }, o);
    return o.headers?.Authorization;
  };
  assert.equal(await header(), 'Bearer t1');
  now += 54 * 60_000;
  assert.equal(await header(), 'Bearer t1');
  now += 2 * 60_000; // 4 minutes left
  assert.equal(await header(), 'Bearer t2');
  assert.equal(a.fetched, 2);
  // Concurrent requests share one refresh.
  now += 60 * 60_000;
  await Promise.all([header(), header(), header()]);
  assert.equal(a.fetched, 3);
});

test('providerIDs: VMSS instances, VirtualMachines pools, and what is not Azure', () => {
  assert.deepEqual(
    parseProviderID(
      'azure:///subscriptions/s/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np-1-vmss/virtualMachines/3',
    ),
    {
      kind: 'vmss',
      subscriptionId: 's',
      resourceGroup: 'mc_rg',
      vmss: 'aks-np-1-vmss',
      instanceId: '3',
    },
  );
  assert.deepEqual(
    parseProviderID(
      'azure:///subscriptions/s/resourcegroups/MC_rg/providers/microsoft.compute/virtualmachines/aks-np-1-vm0',
    ),
    { kind: 'vm', subscriptionId: 's', resourceGroup: 'MC_rg', vmName: 'aks-np-1-vm0' },
  );
  assert.equal(parseProviderID('kind://docker/kind/kind-worker'), undefined);
  assert.equal(parseProviderID('aws:///eu-west-1a/i-0123'), undefined);
  assert.equal(parseProviderID(''), undefined);
  assert.equal(
    parseProviderID('azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d'),
    undefined,
  );
});
