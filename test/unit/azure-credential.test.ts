// Signing in against the fake Entra ID over HTTPS with the real @azure/identity credentials:
// client secret, GitHub OIDC federation (a fresh ID token per assertion), and the errors when
// nothing works — naming each credential tried, never a secret or token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as core from '@actions/core';
import { FakeAzure, CLIENT_SECRET } from '../harness/arm.ts';
import { parseAzureSettings } from '../../src/azure/settings.ts';
import { AzureCredential } from '../../src/azure/credential.ts';
import { UserError } from '../../src/errors.ts';
import { AKS_SERVER_APP_ID } from '../../src/azure/settings.ts';

let az: FakeAzure;

before(async () => {
  az = await FakeAzure.start({
    subscriptionId: '00000000-0000-0000-0000-000000000001',
    resourceGroup: 'rg',
    name: 'aks',
    location: 'westeurope',
    nodeResourceGroup: 'mc_rg',
    nodeOSUpgradeChannel: 'Unmanaged',
    pools: [],
    maintenance: [],
    kubeconfig: '',
  });
  az.trustInProcess();
});
after(async () => {
  await az.stop();
  assert.deepEqual(az.violations, []);
});

// No az CLI on PATH: the azure-cli credential fails the way it does on a runner without azure/login.
const noCli = { PATH: '/nonexistent' };

test('client-secret: a token for ARM from AZURE_CLIENT_SECRET', async () => {
  const s = parseAzureSettings(az.settings({ 'azure-credential': 'client-secret' }), {});
  const cred = new AzureCredential(s, { env: { AZURE_CLIENT_SECRET: CLIENT_SECRET } });
  const t = await cred.getToken(`${az.base}/.default`);
  assert.equal(az.tokens.get(t.token)?.audience, az.base);
  assert.equal(az.tokens.get(t.token)?.via, 'secret');
  assert.equal(cred.kind, 'client-secret');
  assert.ok(t.expiresOnTimestamp > Date.now() + 3000_000);
});

test('oidc: every assertion is a fresh GitHub ID token (audience api://AzureADTokenExchange)', async () => {
  const env = az.oidcEnv();
  Object.assign(process.env, env);
  try {
    const s = parseAzureSettings(az.settings({ 'azure-credential': 'oidc' }), {});
    const cred = new AzureCredential(s, { env, getIDToken: (aud) => core.getIDToken(aud) });
    const before = az.oidcTokensIssued;
    const arm = await cred.getToken(`${az.base}/.default`);
    const aks = await cred.getToken(`${AKS_SERVER_APP_ID}/.default`);
    assert.equal(az.tokens.get(arm.token)?.via, 'assertion');
    assert.equal(az.tokens.get(aks.token)?.audience, AKS_SERVER_APP_ID);
    // Two exchanges, each with its own ID token: the fake accepts an assertion once, so a cached
    // one would have failed the second exchange. (MSAL asks the callback more than once per exchange.)
    assert.ok(az.oidcTokensIssued - before >= 2);
  } finally {
    // process.env is unset only by delete (assigning undefined stores the string "undefined").
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
    for (const k of Object.keys(env)) delete process.env[k];
  }
});

test('auto with nothing configured: one error naming every credential tried', async () => {
  const s = parseAzureSettings(az.settings({ 'azure-credential': 'auto' }), {});
  const cred = new AzureCredential(s, { env: noCli });
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await assert.rejects(cred.getToken(`${az.base}/.default`), (e: Error) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /no Azure credential worked/);
      assert.match(
        e.message,
        /oidc: not configured: needs an OIDC token from GitHub \(the workflow needs permissions: id-token: write\)/,
      );
      assert.match(e.message, /client-secret: not configured: needs AZURE_CLIENT_SECRET/);
      assert.match(e.message, /azure-cli: /);
      return true;
    });
  } finally {
    process.env.PATH = saved;
  }
});

test('a wrong secret and a refused client: AADSTS errors named, no secret in the message', async () => {
  const s = parseAzureSettings(az.settings({ 'azure-credential': 'client-secret' }), {});
  await assert.rejects(
    new AzureCredential(s, { env: { AZURE_CLIENT_SECRET: 'wrong-secret-value' } }).getToken(
      `${az.base}/.default`,
    ),
    (e: Error) => {
      assert.match(e.message, /client-secret: .*AADSTS7000215/);
      assert.doesNotMatch(e.message, /wrong-secret-value/);
      return true;
    },
  );
  az.refuseTokens = true;
  try {
    await assert.rejects(
      new AzureCredential(s, { env: { AZURE_CLIENT_SECRET: CLIENT_SECRET } }).getToken(`${az.base}/.default`),
      /client-secret: .*AADSTS7000112/,
    );
  } finally {
    az.refuseTokens = false;
  }
});

test('settings: IDs from the environment, cluster fields together, GUIDs checked', () => {
  const s = parseAzureSettings(
    {},
    {
      AZURE_CLIENT_ID: '11111111-1111-1111-1111-111111111111',
      AZURE_TENANT_ID: '22222222-2222-2222-2222-222222222222',
    },
  );
  assert.equal(s.azureClientId, '11111111-1111-1111-1111-111111111111');
  assert.equal(s.azureArmEndpoint, 'https://management.azure.com');
  assert.deepEqual(s.azureMaintenanceConfigurations, ['aksManagedNodeOSUpgradeSchedule', 'default']);
  assert.throws(
    () => parseAzureSettings({ 'azure-cluster-name': 'aks' }, {}),
    /azure-resource-group and azure-cluster-name go together/,
  );
  assert.throws(
    () => parseAzureSettings({ 'azure-client-id': 'nope' }, {}),
    /azure-client-id must be a GUID/,
  );
  assert.throws(
    () => parseAzureSettings({ 'azure-arm-endpoint': 'http://127.0.0.1' }, {}),
    /azure-arm-endpoint must be an https URL/,
  );
  assert.throws(() => parseAzureSettings({ 'azure-credential': 'password' }, {}), /azure-credential/);
});
