// A throwaway Kubernetes control plane for tests: the real etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler built by tools/controlplane/build.sh, plus KWOK
// playing the kubelets. Everything binds to 127.0.0.1 on free ports and is torn down by stop(),
// by process exit or signal handlers, and, when this process is SIGKILLed, by the kernel
// (every component is started under `setpriv --pdeathsig KILL`).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  mkdtempSync,
  writeFileSync,
  readFileSync,
  rmSync,
  createWriteStream,
  existsSync,
  mkdirSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request as httpsRequest } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { kwokConfigYaml } from './stages.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TestUser {
  name: string;
  groups?: string[];
}

export interface ClusterOptions {
  /** Extra users authenticated by bearer token (RBAC applies; they get no roles unless a test binds them). */
  users?: TestUser[];
  /** Print component logs on stop (also when REBOOT_PILOT_KEEP_LOGS is set). */
  verbose?: boolean;
  /** Users whose requests the API server writes to its audit log (one JSON line per request). */
  auditUsers?: string[];
  /** Node lease duration KWOK sets (renewed every quarter of it); large clusters want it long. */
  nodeLeaseDurationSeconds?: number;
  /** kube-controller-manager --node-monitor-grace-period, to go with a long lease. */
  nodeMonitorGracePeriod?: string;
  /**
   * Label selector of the nodes KWOK plays (default: all nodes). Real kubelets' nodes
   * (test/harness/realnode.ts) must be left out: see REAL_NODE_KWOK_SELECTOR there.
   */
  kwokNodeSelector?: string;
}

export interface Cluster {
  readonly dir: string;
  readonly server: string;
  readonly caPem: string;
  /** Admin kubeconfig file (system:masters). */
  readonly kubeconfigPath: string;
  readonly kc: k8s.KubeConfig;
  readonly binDir: string;
  readonly startedInMs: number;
  /** Process IDs of etcd, apiserver, controller-manager, scheduler and kwok (and nothing else). */
  readonly pids: number[];
  /** The audit log (only with auditUsers). */
  readonly auditLogPath: string;
  /** Kubeconfig YAML for one of the extra users. */
  kubeconfigFor(user: string): string;
  /** Stops the kube-apiserver (SIGTERM, SIGKILL after 3 s): what clients see while its node reboots. */
  stopApiServer?(): Promise<void>;
  /** Starts it again with the same flags, port and certificates; resolves once /readyz answers. */
  startApiServer?(): Promise<void>;
  /**
   * What the reboot of the control-plane node does to the components on it: scheduler,
   * controller-manager and API server stopped (etcd and the kubelets' KWOK go on)...
   */
  stopControlPlane?(): Promise<void>;
  /** ...and started again, the API server first; resolves once all three are ready. */
  startControlPlane?(): Promise<void>;
  stop(): Promise<void>;
}

let cachedBinDir: string | undefined;
/** Builds the control plane if needed (warm cache: a cache hit in well under a second). */
export function controlPlaneBin(): string {
  if (cachedBinDir) return cachedBinDir;
  const fromEnv = process.env.REBOOT_PILOT_CONTROLPLANE_BIN;
  if (fromEnv) return (cachedBinDir = fromEnv);
  const out = execFileSync('bash', [join(repoRoot, 'tools/controlplane/build.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const lines = out.trim().split('\n');
  return (cachedBinDir = lines[lines.length - 1]!);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const live = new Set<() => void>();
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = () => {
    for (const k of live) k();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
  }
}

const hasSetpriv = (() => {
  try {
    execFileSync('setpriv', ['--help'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Proc {
  name: string;
  child: ChildProcess;
  logPath: string;
  exited: Promise<number | null>;
}

function startProc(name: string, bin: string, args: string[], dir: string): Proc {
  const logPath = join(dir, `${name}.log`);
  const log = createWriteStream(logPath);
  const [cmd, argv] = hasSetpriv ? ['setpriv', ['--pdeathsig', 'KILL', '--', bin, ...args]] : [bin, args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name, child, logPath, exited };
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function httpsGet(url: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      // Health checks only: the serving certificates are being generated at this moment.
      {
        rejectUnauthorized: false,
        headers: token ? { authorization: `Bearer ${token}` } : {},
        timeout: 2000,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function waitFor(
  what: string,
  proc: Proc,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void proc.exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(`${proc.name} exited (${exitCode}) before ${what}:\n${tail(proc.logPath)}`);
    try {
      if (await check()) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${tail(proc.logPath)}`);
}

function kubeconfigYaml(server: string, caPem: string, user: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: sim
  cluster:
    server: ${server}
    certificate-authority-data: ${ca}
users:
- name: ${user}
  user:
    token: ${token}
contexts:
- name: sim
  context:
    cluster: sim
    user: ${user}
current-context: sim
`;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  installExitHooks();
  const t0 = Date.now();
  const bin = controlPlaneBin();
  const dir = mkdtempSync(join(tmpdir(), 'rp-cluster-'));
  const procs: Proc[] = [];
  let stopped = false;
  const killAll = () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  };
  live.add(killAll);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Reverse order: kwok and controllers first, etcd last.
    for (const p of [...procs].reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGTERM');
        const t = setTimeout(() => p.child.kill('SIGKILL'), 3000);
        await p.exited;
        clearTimeout(t);
      }
    }
    live.delete(killAll);
    if (opts.verbose || process.env.REBOOT_PILOT_KEEP_LOGS) {
      console.error(`cluster logs kept in ${dir}`);
    } else {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    const [etcdPort, peerPort, apiPort, kcmPort, schedPort, kwokPort] = await Promise.all(
      Array.from({ length: 6 }, () => freePort()),
    );

    // Authentication: static bearer tokens, one per identity; authorization: RBAC, as in production.
    const tokens = new Map<string, string>();
    const tokenLines: string[] = [];
    const addToken = (user: string, groups: string[]) => {
      const token = randomBytes(24).toString('hex');
      tokens.set(user, token);
      tokenLines.push(`${token},${user},${user},"${groups.join(',')}"`);
    };
    addToken('admin', ['system:masters']);
    addToken('system:kube-controller-manager', ['system:masters']);
    addToken('system:kube-scheduler', ['system:masters']);
    addToken('kwok-controller', ['system:masters']);
    for (const u of opts.users ?? []) addToken(u.name, u.groups ?? []);
    writeFileSync(join(dir, 'tokens.csv'), tokenLines.join('\n') + '\n', { mode: 0o600 });

    const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    writeFileSync(join(dir, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));
    mkdirSync(join(dir, 'pki'));

    const etcd = startProc(
      'etcd',
      join(bin, 'etcd'),
      [
        '--name=default',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      dir,
    );
    procs.push(etcd);
    await waitFor(
      'etcd health',
      etcd,
      async () => {
        const r = await fetch(`http://127.0.0.1:${etcdPort}/health`);
        return r.ok;
      },
      30_000,
    );

    const auditArgs: string[] = [];
    if (opts.auditUsers?.length) {
      // Metadata level, completed requests only, for the named users: a request count by verb.
      writeFileSync(
        join(dir, 'audit-policy.yaml'),
        `apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived, ResponseStarted]\nrules:\n- level: Metadata\n  users: ${JSON.stringify(opts.auditUsers)}\n- level: None\n`,
      );
      auditArgs.push(
        `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
        `--audit-log-path=${join(dir, 'audit.log')}`,
        '--audit-log-mode=blocking',
        '--audit-log-format=json',
      );
    }
    const apiArgs = [
      ...auditArgs,
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--allow-privileged=true',
      // No kubelet mounts service-account tokens here; the admission plugin would only race
      // the token controller at namespace creation.
      '--disable-admission-plugins=ServiceAccount',
      '--profiling=false',
    ];
    // The components a control-plane node runs can be stopped and started again (its reboot).
    const parts = new Map<
      string,
      { index: number; args: string[]; ready: (p: Proc) => Promise<void>; restarts: number }
    >();
    const startPart = (name: string, args: string[], ready: (p: Proc) => Promise<void>) => {
      parts.set(name, { index: procs.length, args, ready, restarts: 0 });
      const p = startProc(name, join(bin, name), args, dir);
      procs.push(p);
      return p;
    };
    const stopPart = async (name: string) => {
      const p = procs[parts.get(name)!.index]!;
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      // As the node's shutdown would: SIGTERM, and SIGKILL for what is still running after 3 s
      // (the API server's graceful shutdown waits up to a minute for open watches).
      p.child.kill('SIGTERM');
      const t = setTimeout(() => p.child.kill('SIGKILL'), 3000);
      await p.exited;
      clearTimeout(t);
    };
    const restartPart = async (name: string) => {
      const part = parts.get(name)!;
      const p = startProc(`${name}-restart-${++part.restarts}`, join(bin, name), part.args, dir);
      procs[part.index] = p;
      await part.ready(p);
    };
    const adminToken = tokens.get('admin')!;
    const server = `https://127.0.0.1:${apiPort}`;
    const apiReady = (p: Proc) =>
      waitFor(
        'kube-apiserver /readyz',
        p,
        async () => (await httpsGet(`${server}/readyz`, adminToken)).status === 200,
        90_000,
      );
    const apiserver = startPart('kube-apiserver', apiArgs, apiReady);
    await apiReady(apiserver);
    const stopApiServer = () => stopPart('kube-apiserver');
    const startApiServer = () => restartPart('kube-apiserver');
    const stopControlPlane = async () => {
      for (const name of ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver'])
        await stopPart(name);
    };
    const startControlPlane = async () => {
      await restartPart('kube-apiserver');
      await Promise.all([restartPart('kube-controller-manager'), restartPart('kube-scheduler')]);
    };

    // The apiserver generated a self-signed serving certificate (with its CA) for 127.0.0.1.
    const caPem = readFileSync(join(dir, 'pki', 'apiserver.crt'), 'utf8');
    const kcFor = (user: string) => {
      const token = tokens.get(user);
      if (!token) throw new Error(`no such test user: ${user}`);
      return kubeconfigYaml(server, caPem, user, token);
    };
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfigPath, kcFor('admin'), { mode: 0o600 });
    for (const u of ['system:kube-controller-manager', 'system:kube-scheduler', 'kwok-controller']) {
      writeFileSync(join(dir, `${u.replace(/:/g, '_')}.kubeconfig`), kcFor(u), { mode: 0o600 });
    }
    const kcmKc = join(dir, 'system_kube-controller-manager.kubeconfig');
    const schedKc = join(dir, 'system_kube-scheduler.kubeconfig');

    const kcmReady = (p: Proc) =>
      waitFor(
        'kube-controller-manager /healthz',
        p,
        async () => (await httpsGet(`https://127.0.0.1:${kcmPort}/healthz`)).status === 200,
        60_000,
      );
    const schedReady = (p: Proc) =>
      waitFor(
        'kube-scheduler /readyz',
        p,
        async () => (await httpsGet(`https://127.0.0.1:${schedPort}/readyz`)).status === 200,
        60_000,
      );
    const kcm = startPart(
      'kube-controller-manager',
      [
        `--kubeconfig=${kcmKc}`,
        `--authentication-kubeconfig=${kcmKc}`,
        `--authorization-kubeconfig=${kcmKc}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        `--cert-dir=${join(dir, 'pki-kcm')}`,
        '--leader-elect=false',
        `--service-account-private-key-file=${join(dir, 'sa.key')}`,
        `--root-ca-file=${join(dir, 'pki', 'apiserver.crt')}`,
        '--use-service-account-credentials=false',
        '--profiling=false',
        ...(opts.nodeMonitorGracePeriod
          ? [`--node-monitor-grace-period=${opts.nodeMonitorGracePeriod}`]
          : []),
      ],
      kcmReady,
    );
    const sched = startPart(
      'kube-scheduler',
      [
        `--kubeconfig=${schedKc}`,
        `--authentication-kubeconfig=${schedKc}`,
        `--authorization-kubeconfig=${schedKc}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${schedPort}`,
        `--cert-dir=${join(dir, 'pki-sched')}`,
        '--leader-elect=false',
        '--profiling=false',
      ],
      schedReady,
    );
    writeFileSync(join(dir, 'kwok.yaml'), kwokConfigYaml(opts.nodeLeaseDurationSeconds ?? 40));
    const kwok = startProc(
      'kwok',
      join(bin, 'kwok'),
      [
        `--kubeconfig=${join(dir, 'kwok-controller.kubeconfig')}`,
        `--config=${join(dir, 'kwok.yaml')}`,
        ...(opts.kwokNodeSelector
          ? ['--manage-all-nodes=false', `--manage-nodes-with-label-selector=${opts.kwokNodeSelector}`]
          : ['--manage-all-nodes=true']),
        `--server-address=127.0.0.1:${kwokPort}`,
        '--node-ip=10.240.0.1',
        '--cidr=10.244.0.0/16',
      ],
      dir,
    );
    procs.push(kwok);

    await Promise.all([
      kcmReady(kcm),
      schedReady(sched),
      waitFor(
        'kwok /healthz',
        kwok,
        async () => (await fetch(`http://127.0.0.1:${kwokPort}/healthz`)).ok,
        60_000,
      ),
    ]);

    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    // The disruption, ReplicaSet and node-lifecycle controllers need the default namespace's
    // service account controller to have run at least once; waiting for it proves KCM is live.
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await waitFor(
      'kube-controller-manager to create the default service account',
      kcm,
      async () => {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
        return true;
      },
      60_000,
    );

    return {
      dir,
      server,
      caPem,
      kubeconfigPath,
      auditLogPath: join(dir, 'audit.log'),
      kc,
      binDir: bin,
      startedInMs: Date.now() - t0,
      get pids() {
        return procs.map((p) => p.child.pid!);
      },
      kubeconfigFor: kcFor,
      stopApiServer,
      startApiServer,
      stopControlPlane,
      startControlPlane,
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

export function logsOf(cluster: Cluster, component: string): string {
  const p = join(cluster.dir, `${component}.log`);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}
