// Reaching an AKS cluster without a kubeconfig secret, kubelogin or az: the API server and its CA
// come from listClusterUserCredentials, and the user is replaced by an Entra token for the AKS
// server application, fetched through the Azure credential and refreshed before it expires.
// Local-account clusters (a kubeconfig whose user has a client certificate or a static token)
// are used as they come.
import * as k8s from '@kubernetes/client-node';
import type { TokenCredential, AccessToken } from '@azure/core-auth';
import type https from 'node:https';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Authenticator } from '@kubernetes/client-node/dist/auth.js';
import { makeClients, type KubeClients } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import type { AzureClients } from './clients.ts';
import { explainAzureError } from './clients.ts';
import { AKS_SERVER_APP_ID } from './settings.ts';

export const AAD_AUTH_PROVIDER = 'reboot-pilot-entra';

/** Refresh this long before the token expires (and whenever Entra says to refresh). */
const REFRESH_MARGIN_MS = 5 * 60_000;

/** The parts of a kubeconfig user that client-node leaves untyped (`any`), as we read them. */
interface UserAuth {
  exec?: { args?: string[] | null } | null;
  authProvider?: { name?: string; config?: Record<string, string> | null } | null;
}
const authOf = (user: k8s.User | null): UserAuth | null => user;

/**
 * A client-node Authenticator that sets `Authorization: Bearer <Entra token>` on every request,
 * asking the credential again when the cached token is within five minutes of expiry. It
 * matches only users whose auth-provider is ours, so built-in authenticators never see it.
 */
export class EntraAuthenticator implements Authenticator {
  private token: AccessToken | undefined;
  private pending: Promise<AccessToken> | undefined;
  private readonly credential: TokenCredential;
  private readonly scope: string;
  private readonly now: () => number;
  /** Tokens fetched so far (for tests and logs; never the tokens themselves). */
  fetched = 0;

  constructor(credential: TokenCredential, serverAppId: string, now: () => number = Date.now) {
    this.credential = credential;
    this.scope = `${serverAppId}/.default`;
    this.now = now;
  }

  isAuthProvider(user: k8s.User): boolean {
    return authOf(user)?.authProvider?.name === AAD_AUTH_PROVIDER;
  }

  async applyAuthentication(_user: k8s.User, request: https.RequestOptions): Promise<void> {
    const { token } = await this.current();
    // client-node passes headers as an object, never as the raw array form.
    const headers = request.headers as OutgoingHttpHeaders | undefined;
    request.headers = { ...(headers ?? {}), Authorization: `Bearer ${token}` };
  }

  async current(): Promise<AccessToken> {
    const token = this.token;
    const now = this.now();
    const fresh =
      token &&
      now < token.expiresOnTimestamp - REFRESH_MARGIN_MS &&
      !(token.refreshAfterTimestamp && now >= token.refreshAfterTimestamp);
    if (fresh) return token;
    this.pending ??= (async () => {
      try {
        const got = await this.credential.getToken(this.scope);
        if (!got)
          throw new UserError(`Azure returned no token for the AKS server application (${this.scope})`);
        this.fetched++;
        this.token = got;
        return got;
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }
}

/** The --server-id of an AKS exec (kubelogin) user, or the azure auth-provider's apiserver-id. */
export function serverAppIdOf(user: k8s.User | null): string | undefined {
  const auth = authOf(user);
  const args = auth?.exec?.args ?? [];
  const at = args.indexOf('--server-id');
  if (at >= 0 && args[at + 1]) return args[at + 1];
  const joined = args.find((arg) => arg.startsWith('--server-id='));
  if (joined) return joined.slice('--server-id='.length);
  return auth?.authProvider?.config?.['apiserver-id'];
}

/**
 * Whether a kubeconfig user needs an Entra token (kubelogin exec, the azure auth-provider, or
 * nothing to authenticate with).
 */
export function needsEntra(user: k8s.User | null): boolean {
  if (!user) return true;
  const auth = authOf(user);
  if (auth?.exec || auth?.authProvider) return true;
  return !(user.token || user.certData || user.certFile || user.keyData || user.keyFile || user.username);
}

/**
 * A KubeConfig for the cluster in an AKS kubeconfig: unchanged for local accounts, else the same
 * cluster (server, CA, TLS server name) with a user that the Entra authenticator serves.
 */
export function kubeConfigFromAks(
  yaml: string,
  credential: TokenCredential,
  serverAppIdSetting: string,
): { kc: k8s.KubeConfig; entra?: EntraAuthenticator } {
  const src = new k8s.KubeConfig();
  try {
    src.loadFromString(yaml);
  } catch (e) {
    throw new UserError(
      `AKS returned a kubeconfig that cannot be read: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  const cluster = src.getCurrentCluster();
  if (!cluster?.server) throw new UserError('the kubeconfig from AKS names no API server');
  const user = src.getCurrentUser();
  if (!needsEntra(user)) return { kc: src };
  const entra = new EntraAuthenticator(
    credential,
    serverAppIdSetting || serverAppIdOf(user) || AKS_SERVER_APP_ID,
  );
  const kc = new k8s.KubeConfig();
  kc.addAuthenticator(entra);
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'reboot-pilot-entra', authProvider: { name: AAD_AUTH_PROVIDER, config: {} } }],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: 'reboot-pilot-entra' }],
    currentContext: cluster.name,
  });
  return { kc, entra };
}

/** Kubernetes clients for the AKS cluster named in the settings, without any kubeconfig. */
export async function connectAks(
  az: AzureClients,
  serverAppIdSetting: string,
  log: (line: string) => void = () => undefined,
): Promise<KubeClients> {
  const { resourceGroup, name } = az.cluster;
  let creds;
  try {
    creds = await az.aks.managedClusters.listClusterUserCredentials(resourceGroup, name);
  } catch (e) {
    throw explainAzureError(e, `get the user kubeconfig of AKS cluster ${resourceGroup}/${name}`);
  }
  const value = creds.kubeconfigs?.[0]?.value;
  if (!value?.length) throw new UserError(`AKS cluster ${resourceGroup}/${name} returned no user kubeconfig`);
  const { kc, entra } = kubeConfigFromAks(
    Buffer.from(value).toString('utf8'),
    az.credential,
    serverAppIdSetting,
  );
  const how = entra ? 'with an Entra token for the AKS server application' : 'with its local account';
  log(`reaching AKS cluster ${resourceGroup}/${name} at ${kc.getCurrentCluster()?.server} ${how}`);
  if (entra) await entra.current(); // fail now, with the sign-in error, rather than on the first API call
  return makeClients(kc);
}
