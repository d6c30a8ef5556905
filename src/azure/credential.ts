// Signing in to Azure with an explicit chain chosen by the azure-credential setting:
//   oidc          GitHub OIDC federation: ClientAssertionCredential whose callback asks the
//                 Actions runtime for a fresh ID token (audience api://AzureADTokenExchange)
//                 every time Entra needs an assertion, so long rollouts never hit the ID token's
//                 own expiry;
//   client-secret ClientSecretCredential with AZURE_CLIENT_SECRET from the environment;
//   azure-cli     AzureCliCredential, e.g. after the azure/login action.
// auto tries the configured ones in that order and keeps the first that works. When none does,
// the error names every one tried and why it failed (never a token or a secret).
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { AzureCliCredential, ClientAssertionCredential, ClientSecretCredential } from '@azure/identity';
import { UserError } from '../errors.ts';
import type { AzureSettings, CredentialKind } from './settings.ts';

export const OIDC_AUDIENCE = 'api://AzureADTokenExchange';

/** Public clouds' authority hosts, which MSAL's instance discovery knows; any other is trusted as given. */
const KNOWN_AUTHORITIES = [
  'https://login.microsoftonline.com',
  'https://login.microsoftonline.us',
  'https://login.chinacloudapi.cn',
  'https://login.partner.microsoftonline.cn',
];

export interface CredentialDeps {
  env?: NodeJS.ProcessEnv;
  /** core.getIDToken from @actions/core (injected so the CLI does not need the Actions runtime). */
  getIDToken?: (audience: string) => Promise<string>;
  log?: (line: string) => void;
}

interface Candidate {
  kind: CredentialKind;
  /** Why it cannot be tried at all (not configured), or the credential. */
  credential?: TokenCredential;
  missing?: string;
}

function candidates(settings: AzureSettings, deps: CredentialDeps): Candidate[] {
  const env = deps.env ?? process.env;
  const tenant = settings.azureTenantId;
  const client = settings.azureClientId;
  const authority = settings.azureAuthorityHost;
  const options = {
    authorityHost: authority,
    ...(KNOWN_AUTHORITIES.includes(authority) ? {} : { disableInstanceDiscovery: true }),
  };
  const ids = [
    !client && 'azure-client-id (or AZURE_CLIENT_ID)',
    !tenant && 'azure-tenant-id (or AZURE_TENANT_ID)',
  ]
    .filter(Boolean)
    .join(' and ');
  const out: Candidate[] = [];
  // oidc
  {
    const getIDToken = deps.getIDToken;
    const missing = [
      ids,
      !env.ACTIONS_ID_TOKEN_REQUEST_URL &&
        'an OIDC token from GitHub (the workflow needs permissions: id-token: write)',
      !getIDToken && 'the Actions runtime',
    ]
      .filter(Boolean)
      .join('; ');
    out.push(
      missing
        ? { kind: 'oidc', missing: `not configured: needs ${missing}` }
        : {
            kind: 'oidc',
            credential: new ClientAssertionCredential(
              tenant,
              client,
              () => getIDToken!(OIDC_AUDIENCE),
              options,
            ),
          },
    );
  }
  // client-secret
  {
    const secret = env.AZURE_CLIENT_SECRET;
    const missing = [ids, !secret && 'AZURE_CLIENT_SECRET in the environment'].filter(Boolean).join('; ');
    out.push(
      missing
        ? { kind: 'client-secret', missing: `not configured: needs ${missing}` }
        : { kind: 'client-secret', credential: new ClientSecretCredential(tenant, client, secret!, options) },
    );
  }
  out.push({ kind: 'azure-cli', credential: new AzureCliCredential(tenant ? { tenantId: tenant } : {}) });
  const want = settings.azureCredential;
  return want === 'auto' ? out : out.filter((c) => c.kind === want);
}

/** A failure's first line, short, with anything that looks like a JWT removed. */
export function safeMessage(error: unknown): string {
  const m = (error instanceof Error ? error.message : String(error))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const first =
    m.find((l) => /AADSTS\d+|error|fail|not|invalid|expired|refused|ECONN|ENOTFOUND|certificate/i.test(l)) ??
    m[0] ??
    'unknown error';
  return first.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '<token>').slice(0, 300);
}

/**
 * The credential for the settings: a TokenCredential that tries the chosen kinds in order and,
 * once one has produced a token, keeps using it. Failures of every kind become one UserError.
 */
export class AzureCredential implements TokenCredential {
  private readonly list: Candidate[];
  private chosen: Candidate | undefined;
  private readonly log: (line: string) => void;

  constructor(settings: AzureSettings, deps: CredentialDeps = {}) {
    this.list = candidates(settings, deps);
    this.log = deps.log ?? (() => undefined);
  }

  /** Which credential is in use (after the first token), for logs. */
  get kind(): CredentialKind | undefined {
    return this.chosen?.kind;
  }

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    if (this.chosen) {
      try {
        const t = await this.chosen.credential!.getToken(scopes, options);
        if (!t) throw new Error('no token returned');
        return t;
      } catch (e) {
        throw new UserError(
          `Azure sign-in with ${this.chosen.kind} failed for ${scopeText(scopes)}: ${safeMessage(e)}`,
        );
      }
    }
    const tried: string[] = [];
    for (const c of this.list) {
      if (!c.credential) {
        tried.push(`${c.kind}: ${c.missing}`);
        continue;
      }
      try {
        const t = await c.credential.getToken(scopes, options);
        if (!t) throw new Error('no token returned');
        this.chosen = c;
        this.log(`signed in to Azure with ${c.kind}`);
        return t;
      } catch (e) {
        tried.push(`${c.kind}: ${safeMessage(e)}`);
      }
    }
    throw new UserError(`no Azure credential worked for ${scopeText(scopes)} (tried ${tried.join('; ')})`);
  }
}

const scopeText = (scopes: string | string[]) => (Array.isArray(scopes) ? scopes.join(' ') : scopes);
