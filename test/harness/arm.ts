// A loopback fake of Azure Resource Manager and Microsoft Entra ID (plus the GitHub Actions OIDC
// token endpoint) over HTTPS, for tests of the Azure integration with the real SDK clients.
//  - TLS: a throwaway CA and a server certificate for 127.0.0.1 made with openssl at start. The
//    SDKs refuse to send bearer tokens over plain http, so HTTPS is required. In-process tests
//    trust the CA with tls.setDefaultCACertificates (Node >= 24.5; it changes the default CA list
//    that node:https agents use, which is what core-rest-pipeline, MSAL and @actions/http-client
//    use); child processes get NODE_EXTRA_CA_CERTS=<caFile>.
//  - Entra: /{tenant}/v2.0/.well-known/openid-configuration and /{tenant}/oauth2/v2.0/token
//    (client credentials with a secret or a client assertion). Tokens are opaque and remembered
//    with their audience and expiry; for the AKS server application's audience it hands out the
//    static token the test API server knows (kubeToken), so the cluster accepts it.
//  - GitHub OIDC: GET /_github/oidc?audience=... with the runtime's request token, as
//    core.getIDToken calls it (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN).
//  - ARM: managed cluster, agent pools, upgrade profiles, maintenance configurations, user
//    credentials, node image upgrade (LRO via Azure-AsyncOperation) and VMSS/VM restart (LRO via
//    Location), each request checked for method, path, api-version and a bearer token valid for
//    ARM's audience; anything else is a violation the test fails on.
// Response shapes follow the examples in Azure/azure-rest-api-specs
// specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-10-01/examples/:
//   ManagedClustersGet.json, ManagedClustersListClusterUserCredentials.json, AgentPoolsList.json,
//   AgentPoolsGet.json, AgentPoolsGetUpgradeProfile.json, AgentPoolsUpgradeNodeImageVersion.json
//   (202 + Azure-AsyncOperation, body with provisioningState UpgradingNodeImageVersion),
//   MaintenanceConfigurationsList_MaintenanceWindow.json (and the legacy timeInWeek shape of
//   stable/2025-08-01/examples/MaintenanceConfigurationsList.json);
// specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-11-01/examples/
//   virtualMachineScaleSetExamples/VirtualMachineScaleSetVM_Restart_MaximumSet_Gen.json and
//   virtualMachineExamples/VirtualMachine_Restart_MaximumSet_Gen.json (200, or 202 + Location);
// the operation status body ({ id, name, status, startTime, endTime, error }) follows ARM's
// async operation document (azure-resource-manager/management/async-operations).
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { NodeSimulator } from './simulator.ts';
import { AKS_SERVER_APP_ID } from '../../src/azure/settings.ts';

export const TENANT = '00000000-0000-0000-0000-0000000000aa';
export const CLIENT_ID = '00000000-0000-0000-0000-0000000000c1';
export const CLIENT_SECRET = 'fake-secret-' + randomBytes(6).toString('hex');

export interface FakePool {
  name: string;
  osType: 'Linux' | 'Windows';
  type?: 'VirtualMachineScaleSets' | 'VirtualMachines';
  nodeImageVersion: string;
  latestNodeImageVersion: string;
  count: number;
  upgradeSettings?: { maxSurge?: string; drainTimeoutInMinutes?: number; nodeSoakDurationInMinutes?: number };
  /** Kernel the pool's nodes boot after a node image upgrade (default: unchanged). */
  kernelAfterUpgrade?: string;
  provisioningState?: string;
}

export interface FakeCluster {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  nodeResourceGroup: string;
  nodeOSUpgradeChannel: string;
  pools: FakePool[];
  maintenance: unknown[];
  /** Kubeconfig YAML listClusterUserCredentials returns. */
  kubeconfig: string;
}

export interface Fault {
  method?: string;
  path: RegExp;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many matching requests get this answer (default 1). */
  times?: number;
}

interface Token {
  audience: string;
  expiresAt: number;
  via: 'secret' | 'assertion';
}

interface Operation {
  id: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  startTime: string;
  endTime?: string;
  error?: { code: string; message: string };
  kind: 'nodeImage' | 'restart';
}

export interface ArmRequest {
  method: string;
  path: string;
  apiVersion: string | null;
  status: number;
  at: number;
}

function makeCert(dir: string): { caFile: string; caPem: string; key: string; cert: string } {
  const run = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=reboot-pilot fake Azure test CA',
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ]);
  return {
    caFile: join(dir, 'ca.pem'),
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
  };
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export class FakeAzure {
  readonly dir: string;
  readonly caFile: string;
  readonly caPem: string;
  private readonly server: Server;
  base = '';
  cluster: FakeCluster;
  sim: NodeSimulator | undefined;
  /** Token the test API server accepts; handed out for the AKS server app's audience. */
  kubeToken = '';
  /** Lifetime of issued tokens. */
  tokenLifetimeSeconds = 3600;
  /** Entra refuses every token request (invalid client). */
  refuseTokens = false;
  /** Retry-After (seconds) on operation polls. */
  retryAfter = '1';
  /** How long a simulated reboot / reimage keeps a node down. */
  downMs = 500;
  /** Node image upgrades that end Failed (by pool name; consumed). */
  readonly failUpgrade = new Set<string>();
  readonly faults: Fault[] = [];
  readonly violations: string[] = [];
  readonly requests: ArmRequest[] = [];
  readonly tokens = new Map<string, Token>();
  /** Every client assertion Entra received came from a fresh GitHub ID token: count them. */
  oidcTokensIssued = 0;
  readonly oidcRequestToken = randomBytes(16).toString('hex');
  private readonly oidcIssued = new Set<string>();
  readonly operations = new Map<string, Operation>();
  /** What the VMs went through: restarts (by node) and node image upgrades (by pool). */
  readonly restarts: { node: string; vm: string; at: number }[] = [];
  readonly upgrades: { pool: string; from: string; to: string; nodes: string[] }[] = [];
  private readonly work = new Set<Promise<void>>();

  private constructor(dir: string, c: ReturnType<typeof makeCert>, cluster: FakeCluster) {
    this.dir = dir;
    this.caFile = c.caFile;
    this.caPem = c.caPem;
    this.cluster = cluster;
    this.server = createServer({ key: c.key, cert: c.cert }, (req, res) => void this.handle(req, res));
  }

  static async start(cluster: FakeCluster, sim?: NodeSimulator): Promise<FakeAzure> {
    const dir = mkdtempSync(join(tmpdir(), 'rp-fake-azure-'));
    const f = new FakeAzure(dir, makeCert(dir), cluster);
    f.sim = sim;
    await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
    f.base = `https://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
    return f;
  }

  /** Trust the test CA in this process (node:https default agents, hence the SDKs and MSAL). */
  trustInProcess(): void {
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), this.caPem]);
  }

  /** Environment for the GitHub OIDC token request (what the Actions runner sets). */
  oidcEnv(): Record<string, string> {
    return {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${this.base}/_github/oidc?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: this.oidcRequestToken,
    };
  }

  /** The settings that point the product at this fake. */
  settings(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'azure-subscription-id': this.cluster.subscriptionId,
      'azure-resource-group': this.cluster.resourceGroup,
      'azure-cluster-name': this.cluster.name,
      'azure-tenant-id': TENANT,
      'azure-client-id': CLIENT_ID,
      'azure-arm-endpoint': this.base,
      'azure-authority-host': this.base,
      'azure-poll-interval': '0',
      ...extra,
    };
  }

  /** Every issued token expires now (ARM then answers 401 ExpiredAuthenticationToken). */
  expireTokens(): void {
    for (const t of this.tokens.values()) t.expiresAt = Date.now() - 1000;
  }

  pool(name: string): FakePool {
    const p = this.cluster.pools.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!p) throw new Error(`no pool ${name}`);
    return p;
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.work]);
  }

  async stop(): Promise<void> {
    await this.settle();
    await new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // ---------- plumbing ----------

  private send(
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      'x-ms-request-id': randomUUID(),
      ...headers,
    });
    res.end(text);
  }

  private armError(
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    this.send(res, status, { error: { code, message } }, headers);
  }

  private async body(req: IncomingMessage): Promise<string> {
    let s = '';
    for await (const chunk of req) s += (chunk as Buffer).toString();
    return s;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const method = req.method ?? 'GET';
    try {
      if (url.pathname === '/_github/oidc') return this.github(req, res, url);
      if (/^\/[^/]+\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.test(url.pathname))
        return await this.entra(req, res, url);
      const rec: ArmRequest = {
        method,
        path: url.pathname,
        apiVersion: url.searchParams.get('api-version'),
        status: 0,
        at: Date.now(),
      };
      this.requests.push(rec);
      const orig = res.writeHead.bind(res);
      res.writeHead = (code: number, ...rest: unknown[]) => {
        rec.status = code;
        return (orig as (...a: unknown[]) => ServerResponse)(code, ...rest);
      };
      await this.arm(req, res, url, method);
    } catch (e) {
      this.violations.push(`${method} ${url.pathname}: the fake failed: ${String(e)}`);
      if (!res.headersSent) this.armError(res, 500, 'FakeError', String(e));
    }
  }

  // ---------- GitHub OIDC ----------

  private github(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.headers.authorization !== `Bearer ${this.oidcRequestToken}`) {
      this.violations.push('GitHub OIDC token request without the runtime request token');
      return this.send(res, 401, { message: 'bad request token' });
    }
    const audience = url.searchParams.get('audience');
    if (audience !== 'api://AzureADTokenExchange')
      this.violations.push(
        `GitHub OIDC token requested for audience ${audience}, not api://AzureADTokenExchange`,
      );
    const now = Math.floor(Date.now() / 1000);
    const jwt = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ iss: 'https://token.actions.githubusercontent.com', aud: audience, sub: 'repo:octo/infra:environment:production', iat: now, exp: now + 300, jti: randomUUID() })}.${randomBytes(32).toString('base64url')}`;
    this.oidcIssued.add(jwt);
    this.oidcTokensIssued++;
    this.send(res, 200, { value: jwt, count: this.oidcTokensIssued });
  }

  // ---------- Entra ----------

  private async entra(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const [, tenant, rest] = url.pathname.match(/^\/([^/]+)\/(.*)$/)!;
    const authority = `${this.base}/${tenant}`;
    if (rest === 'v2.0/.well-known/openid-configuration') {
      return this.send(res, 200, {
        token_endpoint: `${authority}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        jwks_uri: `${authority}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${authority}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${this.base}/oidc/userinfo`,
        authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat'],
        kerberos_endpoint: `${authority}/kerberos`,
        tenant_region_scope: 'EU',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
        rbac_url: 'https://pas.windows.net',
      });
    }
    if (req.method !== 'POST') {
      this.violations.push(`Entra token endpoint called with ${req.method}`);
      return this.send(res, 405, {});
    }
    const form = new URLSearchParams(await this.body(req));
    const fail = (error: string, description: string) =>
      this.send(res, 401, {
        error,
        error_description: description,
        error_codes: [7000215],
        timestamp: new Date().toISOString(),
        trace_id: randomUUID(),
        correlation_id: randomUUID(),
      });
    if (tenant !== TENANT) return fail('invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
    if (form.get('grant_type') !== 'client_credentials') {
      this.violations.push(`Entra: unexpected grant_type ${form.get('grant_type')}`);
      return fail('unsupported_grant_type', 'AADSTS70003: unsupported grant type');
    }
    if (form.get('client_id') !== CLIENT_ID)
      return fail(
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${form.get('client_id')}' was not found in the directory.`,
      );
    let via: Token['via'];
    const assertion = form.get('client_assertion');
    if (assertion) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
        this.violations.push('Entra: client_assertion without the jwt-bearer type');
      if (!this.oidcIssued.has(assertion))
        return fail(
          'invalid_client',
          'AADSTS700211: No matching federated identity record found for presented assertion issuer.',
        );
      // Each ID token is good for one exchange here: a credential that cached the assertion would fail.
      this.oidcIssued.delete(assertion);
      via = 'assertion';
    } else if (form.get('client_secret')) {
      if (form.get('client_secret') !== CLIENT_SECRET)
        return fail(
          'invalid_client',
          `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${CLIENT_ID}'.`,
        );
      via = 'secret';
    } else {
      return fail('invalid_client', 'AADSTS7000216: client_assertion or client_secret is required.');
    }
    if (this.refuseTokens) return fail('invalid_client', 'AADSTS7000112: Application is disabled.');
    const scope = form.get('scope') ?? '';
    const resource = scope
      .split(' ')
      .find((s) => s.endsWith('/.default'))
      ?.slice(0, -'/.default'.length);
    if (!resource) {
      this.violations.push(`Entra: token requested for scope "${scope}" (no /.default resource)`);
      return fail('invalid_scope', 'AADSTS70011: The provided value for scope is not valid.');
    }
    const token =
      resource === AKS_SERVER_APP_ID
        ? this.kubeToken || randomBytes(24).toString('hex')
        : `arm-${randomBytes(24).toString('hex')}`;
    this.tokens.set(token, {
      audience: resource,
      expiresAt: Date.now() + this.tokenLifetimeSeconds * 1000,
      via,
    });
    this.send(res, 200, {
      token_type: 'Bearer',
      expires_in: this.tokenLifetimeSeconds,
      ext_expires_in: this.tokenLifetimeSeconds,
      access_token: token,
    });
  }

  // ---------- ARM ----------

  private async arm(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const path = url.pathname;
    await this.body(req);
    // Authentication first, as ARM does.
    const auth = req.headers.authorization ?? '';
    const t = auth.startsWith('Bearer ') ? this.tokens.get(auth.slice(7)) : undefined;
    if (!t) {
      this.violations.push(`${method} ${path}: no valid bearer token`);
      return this.armError(res, 401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    }
    if (t.audience !== this.base) {
      this.violations.push(`${method} ${path}: token for audience ${t.audience}, not ARM (${this.base})`);
      return this.armError(
        res,
        401,
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${t.audience}'.`,
      );
    }
    if (t.expiresAt < Date.now())
      return this.armError(
        res,
        401,
        'ExpiredAuthenticationToken',
        'The access token expiry UTC time is earlier than current UTC time.',
      );
    if (!url.searchParams.get('api-version')) {
      this.violations.push(`${method} ${path}: no api-version`);
      return this.armError(
        res,
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    }
    const fault = this.faults.find((f) => (!f.method || f.method === method) && f.path.test(path));
    if (fault) {
      if ((fault.times ?? 1) <= 1) this.faults.splice(this.faults.indexOf(fault), 1);
      else fault.times = (fault.times ?? 1) - 1;
      return this.send(res, fault.status, fault.body, fault.headers);
    }
    const c = this.cluster;
    const lower = path.toLowerCase();
    const mcPrefix =
      `/subscriptions/${c.subscriptionId}/resourcegroups/${c.resourceGroup}/providers/microsoft.containerservice/managedclusters/${c.name}`.toLowerCase();
    const computePrefix =
      `/subscriptions/${c.subscriptionId}/resourcegroups/${c.nodeResourceGroup}/providers/microsoft.compute/`.toLowerCase();
    const opMatch = lower.match(
      /^\/subscriptions\/[^/]+\/providers\/microsoft\.(containerservice|compute)\/locations\/[^/]+\/operations\/([^/]+)$/,
    );
    if (opMatch && method === 'GET')
      return this.operationStatus(
        res,
        opMatch[2]!,
        opMatch[1] === 'compute' ? url.searchParams.has('monitor') : false,
        path,
      );
    if (lower.startsWith(mcPrefix)) {
      const rest = lower.slice(mcPrefix.length);
      const original = path.slice(mcPrefix.length);
      if (rest === '' && method === 'GET') return this.send(res, 200, this.managedCluster());
      if (rest === '/listclusterusercredential' && method === 'POST') {
        // ManagedClustersListClusterUserCredentials.json
        return this.send(res, 200, {
          kubeconfigs: [{ name: 'clusterUser', value: Buffer.from(c.kubeconfig).toString('base64') }],
        });
      }
      if (rest === '/agentpools' && method === 'GET')
        return this.send(res, 200, { value: c.pools.map((p) => this.agentPool(p)) });
      if (rest === '/maintenanceconfigurations' && method === 'GET')
        return this.send(res, 200, { value: c.maintenance });
      const ap = original.match(
        /^\/agentPools\/([^/]+)(\/upgradeProfiles\/default|\/upgradeNodeImageVersion)?$/i,
      );
      if (ap) {
        const p = c.pools.find((x) => x.name.toLowerCase() === ap[1]!.toLowerCase());
        if (!p) return this.armError(res, 404, 'NotFound', `agent pool ${ap[1]} not found`);
        const sub = (ap[2] ?? '').toLowerCase();
        if (sub === '' && method === 'GET') return this.send(res, 200, this.agentPool(p));
        if (sub === '/upgradeprofiles/default' && method === 'GET') {
          return this.send(res, 200, {
            id: `${this.mcId()}/agentPools/${p.name}/upgradeprofiles/default`,
            name: 'default',
            type: 'Microsoft.ContainerService/managedClusters/agentPools/upgradeProfiles',
            properties: {
              kubernetesVersion: '1.36.3',
              osType: p.osType,
              upgrades: [],
              latestNodeImageVersion: p.latestNodeImageVersion,
            },
          });
        }
        if (sub === '/upgradenodeimageversion' && method === 'POST')
          return this.startNodeImageUpgrade(res, p);
      }
    }
    if (lower.startsWith(computePrefix) && method === 'POST') {
      const rest = path.slice(computePrefix.length);
      const ss = rest.match(/^virtualMachineScaleSets\/([^/]+)\/virtualMachines\/([^/]+)\/restart$/i);
      const vm = rest.match(/^virtualMachines\/([^/]+)\/restart$/i);
      if (ss || vm)
        return this.startRestart(
          res,
          ss ? `virtualMachineScaleSets/${ss[1]}/virtualMachines/${ss[2]}` : `virtualMachines/${vm![1]}`,
        );
    }
    this.violations.push(`unexpected ARM request ${method} ${path}`);
    this.armError(res, 404, 'NotFound', `The fake does not serve ${method} ${path}`);
  }

  private mcId(): string {
    const c = this.cluster;
    return `/subscriptions/${c.subscriptionId}/resourcegroups/${c.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${c.name}`;
  }

  /** ManagedClustersGet.json, trimmed to what matters here. */
  private managedCluster(): unknown {
    const c = this.cluster;
    return {
      id: this.mcId(),
      location: c.location,
      name: c.name,
      type: 'Microsoft.ContainerService/ManagedClusters',
      tags: {},
      properties: {
        provisioningState: 'Succeeded',
        kubernetesVersion: '1.36.3',
        currentKubernetesVersion: '1.36.3',
        dnsPrefix: `${c.name}-dns`,
        fqdn: `${c.name}-dns-d0daedb9.hcp.${c.location}.azmk8s.io`,
        agentPoolProfiles: c.pools.map((p) => ({
          name: p.name,
          count: p.count,
          vmSize: 'Standard_D4s_v5',
          osType: p.osType,
          type: p.type ?? 'VirtualMachineScaleSets',
          nodeImageVersion: p.nodeImageVersion,
          mode: 'User',
        })),
        nodeResourceGroup: c.nodeResourceGroup,
        enableRBAC: true,
        aadProfile: { managed: true, enableAzureRBAC: true, tenantID: TENANT },
        disableLocalAccounts: true,
        autoUpgradeProfile: { upgradeChannel: 'patch', nodeOSUpgradeChannel: c.nodeOSUpgradeChannel },
      },
    };
  }

  /** AgentPoolsGet.json */
  private agentPool(p: FakePool): unknown {
    return {
      id: `${this.mcId()}/agentPools/${p.name}`,
      name: p.name,
      type: 'Microsoft.ContainerService/managedClusters/agentPools',
      properties: {
        provisioningState: p.provisioningState ?? 'Succeeded',
        count: p.count,
        vmSize: 'Standard_D4s_v5',
        maxPods: 110,
        osType: p.osType,
        type: p.type ?? 'VirtualMachineScaleSets',
        mode: 'User',
        orchestratorVersion: '1.36.3',
        currentOrchestratorVersion: '1.36.3',
        nodeImageVersion: p.nodeImageVersion,
        upgradeSettings: p.upgradeSettings ?? { maxSurge: '10%' },
      },
    };
  }

  private newOperation(kind: Operation['kind']): Operation {
    const op: Operation = {
      id: randomUUID(),
      status: 'InProgress',
      startTime: new Date().toISOString(),
      kind,
    };
    this.operations.set(op.id, op);
    return op;
  }

  private finish(op: Operation, error?: { code: string; message: string }): void {
    op.status = error ? 'Failed' : 'Succeeded';
    op.endTime = new Date().toISOString();
    if (error) op.error = error;
  }

  private track(p: Promise<void>): void {
    const q: Promise<void> = p
      .catch((e: unknown) => {
        this.violations.push(`fake Azure background work failed: ${String(e)}`);
      })
      .finally(() => this.work.delete(q));
    this.work.add(q);
  }

  /** AgentPoolsUpgradeNodeImageVersion.json: 202, Azure-AsyncOperation, the pool upgrading. */
  private startNodeImageUpgrade(res: ServerResponse, p: FakePool): void {
    const op = this.newOperation('nodeImage');
    const from = p.nodeImageVersion;
    const to = p.latestNodeImageVersion;
    p.provisioningState = 'UpgradingNodeImageVersion';
    const fail = this.failUpgrade.delete(p.name);
    this.track(
      (async () => {
        const nodes = this.sim
          ? (await this.sim.listAllNodes())
              .filter((n) => n.metadata?.labels?.['kubernetes.azure.com/agentpool'] === p.name)
              .map((n) => n.metadata!.name!)
              .sort()
          : [];
        const done: string[] = [];
        try {
          if (fail) throw Object.assign(new Error('fail'), { code: 'ReimageOperationFailed' });
          // Surge, cordon, drain, reimage node by node (cordon/drain are AKS's; only the reimage is simulated).
          for (const n of nodes) {
            await this.sim!.reimage(n, {
              nodeImageVersion: to,
              downMs: this.downMs,
              ...(p.kernelAfterUpgrade ? { kernelVersion: p.kernelAfterUpgrade } : {}),
            });
            done.push(n);
          }
          p.nodeImageVersion = to;
          p.provisioningState = 'Succeeded';
          this.upgrades.push({ pool: p.name, from, to, nodes: done });
          this.finish(op);
        } catch (e) {
          p.provisioningState = 'Failed';
          this.finish(op, {
            code: (e as { code?: string }).code ?? 'InternalOperationError',
            message: `Reimaging the nodes of agent pool ${p.name} failed: VMExtensionProvisioningError on the first node (simulated).`,
          });
        }
      })(),
    );
    this.send(
      res,
      202,
      { ...(this.agentPool(p) as object) },
      {
        'Azure-AsyncOperation': `${this.base}/subscriptions/${this.cluster.subscriptionId}/providers/Microsoft.ContainerService/locations/${this.cluster.location}/operations/${op.id}?api-version=2017-08-31`,
        'Retry-After': this.retryAfter,
      },
    );
  }

  /** VirtualMachineScaleSetVM_Restart_MaximumSet_Gen.json: 202 + Location; the node goes down and comes back. */
  private startRestart(res: ServerResponse, vmPath: string): void {
    const c = this.cluster;
    const providerID =
      `azure:///subscriptions/${c.subscriptionId}/resourceGroups/${c.nodeResourceGroup}/providers/Microsoft.Compute/${vmPath}`.toLowerCase();
    const op = this.newOperation('restart');
    this.track(
      (async () => {
        const node = (await this.sim!.listAllNodes()).find(
          (n) => (n.spec?.providerID ?? '').toLowerCase() === providerID,
        );
        if (!node) {
          this.finish(op, { code: 'NotFound', message: `no VM ${vmPath}` });
          return;
        }
        const name = node.metadata!.name!;
        this.restarts.push({ node: name, vm: vmPath, at: Date.now() });
        // The platform's restart is done once the VM is running again, whether or not the OS comes back.
        await this.sim!.reboot(name, { downMs: this.downMs, neverReturn: this.sim!.neverReturn.has(name) });
        this.finish(op);
      })(),
    );
    this.send(res, 202, undefined, {
      Location: `${this.base}/subscriptions/${c.subscriptionId}/providers/Microsoft.Compute/locations/${c.location}/operations/${op.id}?monitor=true&api-version=2024-11-01`,
      'Retry-After': this.retryAfter,
    });
  }

  private operationStatus(res: ServerResponse, id: string, monitor: boolean, path: string): void {
    const op = this.operations.get(id);
    if (!op) {
      this.violations.push(`poll of unknown operation ${path}`);
      return this.armError(res, 404, 'NotFound', 'no such operation');
    }
    if (monitor) {
      // Location polling: 202 while running, 200 when done, the error when it failed.
      if (op.status === 'InProgress')
        return this.send(res, 202, undefined, {
          Location: `${this.base}${path}?monitor=true&api-version=2024-11-01`,
          'Retry-After': this.retryAfter,
        });
      if (op.status === 'Failed') return this.armError(res, 500, op.error!.code, op.error!.message);
      return this.send(res, 200);
    }
    const body = {
      id: path,
      name: op.id,
      status: op.status,
      startTime: op.startTime,
      ...(op.endTime ? { endTime: op.endTime } : {}),
      ...(op.error ? { error: op.error } : {}),
    };
    this.send(res, 200, body, op.status === 'InProgress' ? { 'Retry-After': this.retryAfter } : {});
  }
}
