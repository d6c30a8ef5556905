// The Kubernetes edge: loads a kubeconfig with errors that name the cause, builds the typed API
// clients once, and turns API failures into messages an operator can act on.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { delimiter, join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { UserError } from '../errors.ts';

/** Content-Type for JSON merge patches (client-node's patch methods default to JSON Patch). */
export const MERGE_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** The kubeconfig an operator named with the kubeconfig and context settings, as API clients. */
export function connect(access: { kubeconfig: string; context: string }): KubeClients {
  return makeClients(
    loadKubeConfig({ kubeconfig: access.kubeconfig || undefined, context: access.context || undefined }),
  );
}

export interface KubeAccess {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

export interface KubeClients {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  policy: k8s.PolicyV1Api;
  coordination: k8s.CoordinationV1Api;
  /** The API server URL of the current context (never the credentials). */
  server: string;
  context: string;
}

/**
 * Loads a kubeconfig from a file (or KUBECONFIG / ~/.kube/config when none is given) and
 * selects a context. Every failure is a UserError naming the file or context; no
 * credentials are ever part of a message.
 */
export function loadKubeConfig(access: KubeAccess): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  const file = access.kubeconfig;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UserError(`cannot read kubeconfig ${file}: ${readFailure(e)}`);
    }
    try {
      kc.loadFromString(text);
    } catch (e) {
      throw new UserError(`kubeconfig ${file} is not a valid kubeconfig: ${firstLine(e)}`);
    }
  } else {
    try {
      kc.loadFromDefault();
    } catch (e) {
      throw new UserError(
        `cannot load the default kubeconfig (KUBECONFIG or ~/.kube/config): ${firstLine(e)}`,
      );
    }
  }
  if (access.context) {
    if (!kc.getContextObject(access.context)) {
      const known = kc.getContexts().map((c) => c.name);
      const contexts = known.join(', ') || 'none';
      throw new UserError(
        `unknown context "${access.context}" in ${file ?? 'the kubeconfig'} (contexts: ${contexts})`,
      );
    }
    kc.setCurrentContext(access.context);
  }
  const ctx = kc.getContextObject(kc.getCurrentContext());
  if (!ctx) throw new UserError(`${file ?? 'the kubeconfig'} has no current context; pass --context`);
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster?.server)
    throw new UserError(
      `context "${ctx.name}" names cluster "${ctx.cluster}", which has no server in ` +
        (file ?? 'the kubeconfig'),
    );
  try {
    new URL(cluster.server);
  } catch {
    throw new UserError(`cluster "${ctx.cluster}" has an invalid server URL in ${file ?? 'the kubeconfig'}`);
  }
  const user = kc.getUser(ctx.user);
  const where = file ?? 'the kubeconfig';
  if (!user) throw new UserError(`context "${ctx.name}" names user "${ctx.user}", which is not in ${where}`);
  checkExecPlugin(user, where);
  checkClientCertificate(user, where);
  return kc;
}

/**
 * A user whose credentials come from an exec plugin that is not installed (kubelogin, on AKS,
 * most often): named before any request, rather than as a spawn error mid-run.
 */
function checkExecPlugin(user: k8s.User, where: string): void {
  type Exec = { command?: string; env?: { name: string; value: string }[]; installHint?: string };
  const provider = (user as { authProvider?: { config?: { exec?: Exec } } }).authProvider;
  const exec = (user.exec ?? provider?.config?.exec) as Exec | undefined;
  const command = exec?.command;
  if (!command) return;
  const envPath = exec.env?.find((e) => e.name === 'PATH')?.value ?? process.env.PATH ?? '';
  if (findExecutable(command, envPath)) return;
  const hint = exec.installHint?.trim().split('\n')[0];
  const place = command.includes('/') ? 'does not exist or is not executable' : 'is not on PATH';
  throw new UserError(
    `user "${user.name}" in ${where} gets its credentials from the exec plugin "${command}", ` +
      `which ${place}${hint ? ` (${hint})` : ''}; install it or put it on PATH`,
  );
}

function findExecutable(command: string, pathVar: string): boolean {
  const dirs = pathVar.split(delimiter).filter(Boolean);
  const candidates = command.includes('/') ? [resolve(command)] : dirs.map((d) => join(d, command));
  return candidates.some((f) => {
    try {
      accessSync(f, constants.X_OK);
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
}

/** An expired or not yet valid client certificate, named with its dates, before any request. */
function checkClientCertificate(user: k8s.User, where: string, now = new Date()): void {
  let pem: Buffer;
  try {
    if (user.certData) pem = Buffer.from(user.certData, 'base64');
    else if (user.certFile) pem = readFileSync(user.certFile);
    else return;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? firstLine(e);
    throw new UserError(
      `cannot read the client certificate ${user.certFile} of user "${user.name}" in ${where}: ${why}`,
    );
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return; // Not ours to judge: the TLS layer reports a certificate it cannot use.
  }
  const subject = cert.subject.replace(/\n/g, ', ');
  const which = `the client certificate of user "${user.name}" in ${where} (${subject})`;
  if (cert.validToDate.getTime() < now.getTime()) {
    throw new UserError(
      `${which} expired on ${cert.validToDate.toISOString()}; get a new kubeconfig or renew the certificate`,
    );
  }
  if (cert.validFromDate.getTime() > now.getTime()) {
    throw new UserError(
      `${which} is not valid until ${cert.validFromDate.toISOString()}; is this machine's clock right?`,
    );
  }
}

/** Why a file could not be read, in words for the common cases. */
function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return String(code ?? error);
}

export function makeClients(kc: k8s.KubeConfig): KubeClients {
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    policy: kc.makeApiClient(k8s.PolicyV1Api),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
    server: kc.getCurrentCluster()?.server ?? '',
    context: kc.getCurrentContext(),
  };
}

function firstLine(error: unknown): string {
  const m = error instanceof Error ? error.message : String(error);
  return m.split('\n')[0]!.slice(0, 300);
}

/**
 * Explains a failed API call: RBAC denials name the verb and resource, network failures the
 * server, anything else the status code and the API server's own message.
 */
export function explainApiError(error: unknown, verb: string, resource: string, server?: string): Error {
  if (error instanceof UserError) return error;
  if (error instanceof k8s.ApiException) {
    const body = parseBody(error.body);
    const msg = body?.message ?? '';
    if (error.code === 401)
      return new UserError(
        `the API server rejected the credentials (401 Unauthorized) while trying to ${verb} ${resource}`,
      );
    if (error.code === 403) {
      return new UserError(
        `RBAC denied: the identity may not "${verb}" ${resource} (403 Forbidden${msg ? `: ${msg}` : ''}). ` +
          'Grant it with the RBAC manifest in deploy/rbac.yaml.',
      );
    }
    const err = new Error(`${verb} ${resource} failed: HTTP ${error.code}${msg ? `: ${msg}` : ''}`);
    return error.code === 429 || error.code >= 500 ? markTransient(err) : err;
  }
  // An exec credential plugin removed while the run was going on.
  const spawn = error as { code?: string; syscall?: string; path?: string } | null | undefined;
  if (spawn?.code === 'ENOENT' && spawn.syscall?.startsWith('spawn')) {
    const plugin = spawn.path;
    return new UserError(
      `the exec credential plugin "${plugin}" is not on PATH (while trying to ${verb} ${resource})`,
    );
  }
  const cause = networkCause(error);
  if (cause) {
    const at = server ? ` at ${server}` : '';
    return markTransient(
      new UserError(`cannot reach the API server${at} (${cause}) while trying to ${verb} ${resource}`),
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

const TRANSIENT = Symbol('transient');

function markTransient<T extends Error>(error: T): T {
  Object.defineProperty(error, TRANSIENT, { value: true });
  return error;
}

/**
 * An API server that is away or coming back: unreachable, TLS not ready, 5xx or 429 (as while
 * a control-plane node reboots). Such a call is worth repeating; anything else is an answer.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof Error && (error as unknown as Record<symbol, unknown>)[TRANSIENT] === true)
    return true;
  if (error instanceof k8s.ApiException) return error.code === 429 || error.code >= 500;
  return networkCause(error) !== undefined;
}

function parseBody(body: unknown): { message?: string; reason?: string } | undefined {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { message?: string };
    } catch {
      return { message: body.slice(0, 300) };
    }
  }
  return body && typeof body === 'object' ? body : undefined;
}

/** Error codes of a server that cannot be reached (yet): refused, unknown, timed out, TLS not ready. */
const NETWORK_CODES = new RegExp(
  '^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|EPIPE|EAI_AGAIN|' +
    'UND_ERR_CONNECT_TIMEOUT|UND_ERR_SOCKET|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS)',
);

function networkCause(error: unknown): string | undefined {
  for (let cur: unknown = error, depth = 0; cur && depth < 5; depth++) {
    const err = cur as { code?: string; message?: string; cause?: unknown; errors?: unknown[] };
    const code = err.code ?? (err.errors?.[0] as { code?: string } | undefined)?.code;
    if (code && NETWORK_CODES.test(code)) return code;
    if (err.message && /fetch failed|request to .* failed|ECONNREFUSED/.test(err.message) && !err.cause)
      return err.message.slice(0, 200);
    cur = err.cause;
  }
  return undefined;
}

/** Runs one API call, converting failures with explainApiError. */
export async function call<T>(
  verb: string,
  resource: string,
  server: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw explainApiError(e, verb, resource, server);
  }
}
