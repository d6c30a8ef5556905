// Real test nodes: Debian VMs built by tools/realnode/build.sh, with a real kubelet and containerd,
// joining a test cluster from controlplane.ts next to its KWOK nodes. Each VM boots from a fresh
// sparse copy of the cached disk, with the kubelet's credentials and node name written into it per
// run (debugfs). Its network is qemu's slirp with restrict=on: nothing leaves the VM except one
// forward to the test API server on 127.0.0.1. KVM is used where a normal one exists, otherwise
// TCG (software emulation), and the choice is printed. A test-only root shell on the VM's second
// serial port runs commands in the guest (install a kernel, count boots). The VM loop runs in its
// own process group under `setpriv --pdeathsig KILL` and is killed by stop(), by exit and signal
// handlers, and by the kernel when the test process is SIGKILLed.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  accessSync,
  constants,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import type { Cluster, ClusterOptions, TestUser } from './controlplane.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Label every real node registers with; KWOK is told to leave these nodes alone. */
export const REAL_NODE_LABEL = 'reboot-pilot.test/real-node';
export const REAL_NODE_KWOK_SELECTOR = `!${REAL_NODE_LABEL}`;
/** Images imported into every real node's containerd (tools/realnode/build.sh). */
export const REAL_NODE_IMAGES = {
  busybox: 'mcr.microsoft.com/azurelinux/busybox:1.36',
  withoutNsenter: 'rp.test/busybox-without-nsenter:1',
  pause: 'registry.k8s.io/pause:3.10.1',
};
/** The second kernel's package, staged in the disk for `dpkg -i`. */
export const STAGED_KERNEL_GLOB = '/opt/rp/debs/linux-image-*.deb';

/** The node's identity: a static token in groups system:nodes and system:masters (no Node authorizer here). */
export function realNodeUser(name: string): TestUser {
  return { name: `system:node:${name}`, groups: ['system:nodes', 'system:masters'] };
}

/** Cluster options for a mixed cluster: these real nodes' identities, KWOK kept off them. */
export function realNodeClusterOptions(names: string[], extra: ClusterOptions = {}): ClusterOptions {
  return {
    ...extra,
    users: [...(extra.users ?? []), ...names.map(realNodeUser)],
    kwokNodeSelector: REAL_NODE_KWOK_SELECTOR,
  };
}

let cachedDisk: string | undefined;
/** Builds the node image if needed (warm cache: about a second); returns the cached disk's path. */
export function realNodeImage(): string {
  if (cachedDisk) return cachedDisk;
  const fromEnv = process.env.REBOOT_PILOT_REALNODE_DISK;
  if (fromEnv) return (cachedDisk = fromEnv);
  let out: string;
  try {
    out = execFileSync('bash', [join(repoRoot, 'tools/realnode/build.sh')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    });
  } catch (e) {
    throw new Error(
      `the real node image could not be built (tools/realnode/build.sh; its log names the step): ${(e as Error).message}`,
      { cause: e },
    );
  }
  const lines = out.trim().split('\n');
  return (cachedDisk = lines[lines.length - 1]!);
}

export type Accelerator = 'kvm' | 'tcg';

/** KVM when /dev/kvm is a normal KVM we can open; PVM (kvm_pvm) cannot boot stock kernels. */
export function pickAccelerator(): { accelerator: Accelerator; why: string } {
  const forced = process.env.REBOOT_PILOT_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return { accelerator: forced, why: 'REBOOT_PILOT_ACCEL' };
  if (!existsSync('/dev/kvm')) return { accelerator: 'tcg', why: 'no /dev/kvm' };
  if (existsSync('/sys/module/kvm_pvm'))
    return { accelerator: 'tcg', why: '/dev/kvm is PVM (kvm_pvm), which cannot boot stock kernels' };
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accelerator: 'tcg', why: '/dev/kvm is not accessible' };
  }
  return { accelerator: 'kvm', why: '/dev/kvm is a normal KVM' };
}

export interface ConsoleResult {
  code: number;
  output: string;
}

export interface RealNode {
  readonly name: string;
  readonly accelerator: Accelerator;
  readonly dir: string;
  /** Runs a shell script in the guest as root (test-only serial console). */
  sh(script: string, timeoutMs?: number): Promise<ConsoleResult>;
  /** Like sh, but throws unless the script exits 0; returns its output. */
  shOk(script: string, timeoutMs?: number): Promise<string>;
  /** qemu starts so far (the host loop's own count: one per boot). */
  qemuBoots(): number;
  /** Boot IDs in the order the guest recorded them (rp-boots.service, on the disk). */
  bootIds(): Promise<string[]>;
  /** Boots the guest's persistent journal knows (`journalctl --list-boots`). */
  journalBoots(): Promise<number>;
  /** Waits until the node is Ready, with a boot ID other than `notBootId` when given. */
  waitReady(o: { notBootId?: string; timeoutMs: number }): Promise<k8s.V1Node>;
  stop(): Promise<void>;
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

function nodeKubeconfig(cluster: Cluster, name: string): string {
  const token = /token: (\S+)/.exec(cluster.kubeconfigFor(`system:node:${name}`))?.[1];
  if (!token)
    throw new Error(`no token for system:node:${name}: start the cluster with realNodeClusterOptions`);
  // The guest reaches the API server through slirp's forward; its certificate names "kubernetes".
  return `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://10.0.2.100:6443
    tls-server-name: kubernetes
    certificate-authority-data: ${Buffer.from(cluster.caPem).toString('base64')}
users:
- name: node
  user:
    token: ${token}
contexts:
- name: test
  context: { cluster: test, user: node }
current-context: test
`;
}

/** Writes the per-run files into the (stopped) disk: kubelet credentials and node name. */
function provisionDisk(disk: string, dir: string, cluster: Cluster, name: string): void {
  writeFileSync(join(dir, 'kubelet.kubeconfig'), nodeKubeconfig(cluster, name), { mode: 0o600 });
  writeFileSync(join(dir, 'kubelet.env'), `NODE_NAME=${name}\nNODE_LABELS=${REAL_NODE_LABEL}=true\n`, {
    mode: 0o644,
  });
  const cmds = [
    'cd /etc/kubernetes',
    'rm kubelet.kubeconfig',
    'rm kubelet.env',
    `write ${join(dir, 'kubelet.kubeconfig')} kubelet.kubeconfig`,
    `write ${join(dir, 'kubelet.env')} kubelet.env`,
  ];
  writeFileSync(join(dir, 'debugfs.cmds'), cmds.join('\n') + '\n');
  execFileSync('debugfs', ['-w', '-f', join(dir, 'debugfs.cmds'), disk], { stdio: 'ignore' });
  const check = execFileSync('debugfs', ['-R', 'cat /etc/kubernetes/kubelet.env', disk], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  if (!check.includes(`NODE_NAME=${name}`))
    throw new Error(`could not write the kubelet's files into ${disk}`);
}

/** Disk copies of test processes that were SIGKILLed (their VMs died with them). */
function removeStaleDirs(): void {
  for (const d of readdirSync(tmpdir()).filter((x) => x.startsWith('rp-realnode-'))) {
    const path = join(tmpdir(), d);
    try {
      if (Date.now() - statSync(path).mtimeMs < 60_000) continue; // maybe still being set up
      const owner = Number(readFileSync(join(path, 'owner'), 'utf8'));
      if (!(owner > 0)) throw new Error('no owner');
      process.kill(owner, 0);
      continue; // its test process is alive
    } catch {
      /* no owner file, or its owner is dead */
    }
    rmSync(path, { recursive: true, force: true });
  }
}

function tailOf(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r/g, '').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(nothing)';
  }
}

/** One command over the ttyS1 shell: script and output travel base64-encoded, ended by a nonce. */
async function consoleRun(sock: string, script: string, timeoutMs: number): Promise<ConsoleResult> {
  const deadline = Date.now() + timeoutMs;
  const nonce = randomBytes(6).toString('hex');
  const f = `/tmp/rp-${nonce}.sh`;
  const line = `echo ${Buffer.from(script).toString('base64')} | base64 -d > ${f}; bash ${f} 2>&1 | base64 -w0; echo " RPDONE${nonce} \${PIPESTATUS[0]}"; rm -f ${f}\n`;
  const done = new RegExp(`([A-Za-z0-9+/=]*) RPDONE${nonce} (\\d+)`);
  for (;;) {
    const r = await new Promise<ConsoleResult | Error>((resolve) => {
      const s = createConnection(sock);
      let buf = '';
      const timer = setTimeout(
        () => {
          s.destroy();
          resolve(new Error(`guest command timed out after ${timeoutMs} ms: ${script.slice(0, 200)}`));
        },
        Math.max(1, deadline - Date.now()),
      );
      s.on('connect', () => s.write(line));
      s.on('data', (d) => {
        buf += d.toString('latin1');
        const m = done.exec(buf);
        if (!m) return;
        clearTimeout(timer);
        s.destroy();
        resolve({ code: Number(m[2]), output: Buffer.from(m[1]!, 'base64').toString('utf8') });
      });
      s.on('error', (e) => {
        clearTimeout(timer);
        resolve(Object.assign(new Error(`console: ${e.message}`), { retry: true }));
      });
      s.on('close', () => {
        clearTimeout(timer);
        resolve(
          Object.assign(new Error('console closed (the guest went down)'), { retry: buf.length === 0 }),
        );
      });
    });
    if (!(r instanceof Error)) return r;
    if (!(r as Error & { retry?: boolean }).retry || Date.now() > deadline) throw r;
    await new Promise((res) => setTimeout(res, 500));
  }
}

export interface RealNodeOptions {
  name: string;
  memoryMb?: number;
  /** Boot to Ready; TCG on a loaded 2-core machine needs minutes. */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
  /** false: return once qemu is started, without waiting for Ready (the teardown test). */
  waitReady?: boolean;
}

export async function startRealNode(cluster: Cluster, o: RealNodeOptions): Promise<RealNode> {
  installExitHooks();
  const log = o.log ?? ((l: string) => console.error(l));
  const image = realNodeImage();
  const { accelerator, why } = pickAccelerator();
  log(`real node ${o.name}: accelerator ${accelerator.toUpperCase()} (${why})`);
  removeStaleDirs();
  const dir = mkdtempSync(join(tmpdir(), 'rp-realnode-'));
  writeFileSync(join(dir, 'owner'), String(process.pid));
  const disk = join(dir, 'disk.img');
  execFileSync('cp', ['--sparse=always', image, disk]);
  provisionDisk(disk, dir, cluster, o.name);
  const apiPort = new URL(cluster.server).port;
  const child: ChildProcess = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'KILL',
      '--',
      'bash',
      join(repoRoot, 'tools/realnode/run-vm.sh'),
      dir,
      disk,
      apiPort,
      accelerator,
      String(o.memoryMb ?? 2048),
    ],
    { stdio: 'ignore', detached: true },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone already */
    }
  };
  live.add(kill);
  const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  const sock = join(dir, 'ttyS1.sock');
  let stopped = false;
  const vmGone = () =>
    exitCode !== undefined
      ? `the VM loop exited (${exitCode}):\n${tailOf(join(dir, 'boots.log'))}\n${tailOf(join(dir, 'qemu.log'))}`
      : undefined;

  const node: RealNode = {
    name: o.name,
    accelerator,
    dir,
    sh: async (script, timeoutMs = 120_000) => {
      const gone = vmGone();
      if (gone) throw new Error(gone);
      return consoleRun(sock, script, timeoutMs);
    },
    shOk: async (script, timeoutMs) => {
      const r = await node.sh(script, timeoutMs);
      if (r.code !== 0) throw new Error(`guest command failed (exit ${r.code}): ${script}\n${r.output}`);
      return r.output;
    },
    qemuBoots: () =>
      existsSync(join(dir, 'boots.log'))
        ? readFileSync(join(dir, 'boots.log'), 'utf8')
            .split('\n')
            .filter((l) => / boot \d+ /.test(l)).length
        : 0,
    bootIds: async () =>
      (await node.shOk('cat /var/lib/rp/boots'))
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]!.replace(/-/g, '')),
    journalBoots: async () =>
      (await node.shOk('journalctl --list-boots --no-pager'))
        .split('\n')
        .filter((l) => /\b[0-9a-f]{32}\b/.test(l)).length,
    waitReady: async ({ notBootId, timeoutMs }) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const gone = vmGone();
        if (gone) throw new Error(gone);
        const n = await core.readNode({ name: o.name }).catch(() => undefined);
        const ready = n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (n && ready && (!notBootId || n.status?.nodeInfo?.bootID !== notBootId)) return n;
        if (Date.now() > deadline) {
          throw new Error(
            `real node ${o.name} not Ready${notBootId ? ' with a new boot ID' : ''} after ${timeoutMs} ms; console:\n${tailOf(join(dir, 'console.log'))}`,
          );
        }
        await new Promise((r) => setTimeout(r, 2000));
      }
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      writeFileSync(join(dir, 'stop'), '');
      kill();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      live.delete(kill);
      await core.deleteNode({ name: o.name }).catch(() => undefined);
      if (process.env.REBOOT_PILOT_KEEP_LOGS) log(`real node ${o.name}: files kept in ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
  if (o.waitReady === false) return node;
  try {
    const t0 = Date.now();
    await node.waitReady({ timeoutMs: o.readyTimeoutMs ?? (accelerator === 'kvm' ? 120_000 : 420_000) });
    log(`real node ${o.name}: Ready ${Math.round((Date.now() - t0) / 1000)} s after qemu started`);
    return node;
  } catch (e) {
    if (process.env.REBOOT_PILOT_KEEP_LOGS === undefined)
      log(`real node ${o.name} console:\n${tailOf(join(dir, 'console.log'), 80)}`);
    await node.stop();
    throw e;
  }
}
