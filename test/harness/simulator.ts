// The node simulator: what the machines and kubelets behind KWOK's nodes would do.
//  - reboot(): Ready -> NotReady -> new bootID (and kernel) -> Ready, the way a real reboot
//    looks from the API server (KWOK stops reporting Ready while the node is "powered off").
//  - a per-node simulated host file tree (what hostPath mounts would show).
//  - a kubelet for Reboot Pilot's own pods (label reboot-pilot.io/role): probe pods run their
//    real shell command locally against the node's host file tree and end with the kubelet's
//    termination-message rules (4096-byte cap); handlers for other roles can be registered.
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { dirname, join, relative, isAbsolute } from 'node:path';
import { tmpdir } from 'node:os';
import { inspect } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { MERGE_PATCH as MERGE } from '../../src/kube/client.ts';
import type { Cluster } from './controlplane.ts';
import { toNodeObject, isReady, type NodeSpec } from './nodes.ts';
import { SIM_POWER_LABEL, PRODUCT_ROLE_LABEL } from './stages.ts';
import { REAL_NODE_LABEL } from './realnode.ts';
import { keepPodsReady } from './kubelet-ready.ts';
import { newestKernel } from '../../src/detect/kernel.ts';
import { listAll } from '../../src/cluster/snapshot.ts';

/** The kubelet keeps at most this many bytes of a container's termination message. */
export const TERMINATION_MESSAGE_LIMIT = 4096;

export type PodHandler = (pod: k8s.V1Pod, sim: NodeSimulator) => Promise<void>;

export interface RebootOptions {
  /** Kernel the node boots; default: the newest under the simulated /boot, else unchanged. */
  kernelVersion?: string;
  /** How long the node stays down. */
  downMs?: number;
  /** Leave the node down (a reboot that never comes back). */
  neverReturn?: boolean;
}

export interface RebootResult {
  node: string;
  bootIDBefore: string;
  bootIDAfter: string;
  kernelBefore: string;
  kernelAfter: string;
}

export async function waitUntil<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${describe(lastErr)})` : ''}`,
  );
}

/** An error as its message line; anything else thrown as Node prints it. */
const describe = (thrown: unknown) => (thrown instanceof Error ? String(thrown) : inspect(thrown));

export class NodeSimulator {
  readonly core: k8s.CoreV1Api;
  readonly hostsRoot: string;
  private readonly handlers = new Map<string, PodHandler>();
  private readonly seen = new Set<string>();
  private watchAbort: AbortController | undefined;
  /** Stops the kubelet's re-readying of workload pods (test/harness/kubelet-ready.ts). */
  private stopReadiness: (() => number) | undefined;
  private pending = new Set<Promise<void>>();
  /** Every pod the simulated kubelet ran, for assertions. */
  readonly ran: {
    role: string;
    pod: string;
    node: string;
    exitCode: number;
    scriptMs: number;
    totalMs: number;
  }[] = [];

  readonly cluster: Cluster;

  constructor(cluster: Cluster) {
    this.cluster = cluster;
    this.core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    this.hostsRoot = mkdtempSync(join(tmpdir(), 'rp-hosts-'));
    this.handlers.set('probe', (pod) => this.runProbePod(pod));
    this.handlers.set('reboot', (pod) => this.runRebootPod(pod));
  }

  /** Nodes whose next reboot never comes back (the machine stays down). */
  readonly neverReturn = new Set<string>();
  /** How long a simulated reboot keeps the node down. */
  rebootDownMs = 1500;
  /** Every reboot a reboot pod caused, in order: the executor must cause one per node. */
  readonly reboots: { node: string; at: number; bootIDBefore: string; bootIDAfter: string }[] = [];

  onPod(role: string, handler: PodHandler): void {
    this.handlers.set(role, handler);
  }

  // ---------- nodes ----------

  /** Creates nodes and waits until KWOK reports each Ready with the nodeInfo given. */
  async createNodes(specs: NodeSpec[]): Promise<k8s.V1Node[]> {
    const out: k8s.V1Node[] = [];
    // Bounded parallelism: thousands of nodes in the benchmarks.
    const queue = [...specs];
    const workers = Array.from({ length: Math.min(16, queue.length) }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const obj = toNodeObject(s);
        this.writeBootFiles(
          s.name,
          obj.status!.nodeInfo!.bootID,
          s.bootTime ?? Math.floor(Date.now() / 1000) - 86_400,
        );
        await this.core.createNode({ body: obj });
        // Status sent on create is not trusted by every version; set it explicitly.
        await this.core.patchNodeStatus({ name: s.name, body: { status: obj.status } }, MERGE);
      }
    });
    await Promise.all(workers);
    const names = new Set(specs.map((s) => s.name));
    const want = new Map(specs.map((s) => [s.name, s.kernelVersion]));
    await waitUntil(
      `${specs.length} nodes Ready`,
      async () => {
        const list = await this.listAllNodes();
        const ready = list.filter(
          (n) =>
            names.has(n.metadata!.name!) &&
            isReady(n) &&
            n.status?.nodeInfo?.kernelVersion === want.get(n.metadata!.name!),
        );
        if (ready.length !== names.size) return undefined;
        out.push(...ready);
        return true;
      },
      60_000 + specs.length * 20,
      200,
    );
    return out;
  }

  listAllNodes(): Promise<k8s.V1Node[]> {
    return listAll((page) => this.core.listNode(page));
  }

  async node(name: string): Promise<k8s.V1Node> {
    return this.core.readNode({ name });
  }

  /** The simulated host root of a node; files written here are what hostPath mounts see. */
  hostDir(node: string): string {
    const d = join(this.hostsRoot, node);
    mkdirSync(d, { recursive: true });
    return d;
  }

  writeHostFiles(node: string, files: Record<string, string | null>): void {
    const root = this.hostDir(node);
    for (const [p, content] of Object.entries(files)) {
      const target = join(root, p);
      if (content === null) {
        rmSync(target, { recursive: true, force: true });
        continue;
      }
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
  }

  /** Kernel the node's bootloader would pick: the newest vmlinuz-* under the simulated /boot. */
  newestInstalledKernel(node: string): string | undefined {
    const boot = join(this.hostDir(node), 'boot');
    if (!existsSync(boot)) return undefined;
    return newestKernel(
      readdirSync(boot)
        .filter((f) => f.startsWith('vmlinuz-'))
        .map((f) => f.slice('vmlinuz-'.length)),
    );
  }

  /** What the node's kernel shows in /proc: its boot ID and boot time. */
  writeBootFiles(node: string, bootID: string, btime: number): void {
    this.writeHostFiles(node, {
      'proc/sys/kernel/random/boot_id': `${bootID}\n`,
      'proc/stat': `cpu  0 0 0 0 0 0 0 0 0 0\nbtime ${btime}\nprocesses 1\n`,
    });
  }

  async powerOff(name: string): Promise<void> {
    await this.core.patchNode({ name, body: { metadata: { labels: { [SIM_POWER_LABEL]: 'off' } } } }, MERGE);
    await waitUntil(`${name} NotReady`, async () => !isReady(await this.node(name)), 30_000);
  }

  async powerOn(name: string, boot: { bootID: string; kernelVersion: string }): Promise<void> {
    await this.core.patchNodeStatus(
      { name, body: { status: { nodeInfo: { bootID: boot.bootID, kernelVersion: boot.kernelVersion } } } },
      MERGE,
    );
    await this.core.patchNode({ name, body: { metadata: { labels: { [SIM_POWER_LABEL]: null } } } }, MERGE);
    await waitUntil(
      `${name} Ready after boot`,
      async () => {
        const n = await this.node(name);
        return isReady(n) && n.status?.nodeInfo?.bootID === boot.bootID;
      },
      30_000,
    );
    // Pods that waited for this machine start now.
    const waiting = await this.core.listPodForAllNamespaces({
      labelSelector: PRODUCT_ROLE_LABEL,
      fieldSelector: `spec.nodeName=${name}`,
    });
    for (const p of waiting.items) this.consider(p);
  }

  isPoweredOff(node: k8s.V1Node): boolean {
    return node.metadata?.labels?.[SIM_POWER_LABEL] === 'off';
  }

  /** A faithful reboot as the API server sees it. */
  async reboot(name: string, opts: RebootOptions = {}): Promise<RebootResult> {
    const before = await this.node(name);
    const bootIDBefore = before.status?.nodeInfo?.bootID ?? '';
    const kernelBefore = before.status?.nodeInfo?.kernelVersion ?? '';
    await this.powerOff(name);
    // What a reboot does to the host: /run is a tmpfs (the sentinel goes), a new boot ID.
    const host = this.hostDir(name);
    rmSync(join(host, 'var/run'), { recursive: true, force: true });
    rmSync(join(host, 'run'), { recursive: true, force: true });
    const kernelAfter = opts.kernelVersion ?? this.newestInstalledKernel(name) ?? kernelBefore;
    const bootIDAfter = randomUUID();
    this.writeBootFiles(name, bootIDAfter, Math.floor(Date.now() / 1000));
    if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
    await this.whileDown.get(name)?.(name);
    if (!opts.neverReturn) await this.powerOn(name, { bootID: bootIDAfter, kernelVersion: kernelAfter });
    return { node: name, bootIDBefore, bootIDAfter, kernelBefore, kernelAfter };
  }

  /**
   * What happens while a node is powered off in a reboot, before it boots (a control-plane
   * node's reboot takes its API server down: the test stops and starts it here).
   */
  readonly whileDown = new Map<string, (node: string) => Promise<void>>();

  /**
   * A node that flaps: NotReady for a while, then Ready again, in the same boot (a kubelet or
   * network that is unstable, not a reboot).
   */
  async flap(name: string, downMs: number): Promise<void> {
    const n = await this.node(name);
    const boot = { bootID: n.status!.nodeInfo!.bootID, kernelVersion: n.status!.nodeInfo!.kernelVersion };
    await this.powerOff(name);
    await new Promise((r) => setTimeout(r, downMs));
    await this.powerOn(name, boot);
  }

  /** Node image upgrades that reimaged a node, in order. */
  readonly reimages: {
    node: string;
    at: number;
    image: string;
    bootIDBefore: string;
    bootIDAfter: string;
  }[] = [];

  /**
   * An AKS node image upgrade of one node, as the API server sees it: the machine goes down
   * (it may be down already: a reboot that never came back), its OS disk is replaced — the node
   * image label changes, the host's files are the image's, nothing pending survives — and it
   * boots with a new boot ID. The node object keeps its name, as with a VMSS reimage.
   */
  async reimage(
    name: string,
    o: { nodeImageVersion: string; kernelVersion?: string; downMs?: number },
  ): Promise<RebootResult> {
    this.neverReturn.delete(name);
    const host = this.hostDir(name);
    rmSync(join(host, 'var/run'), { recursive: true, force: true });
    await this.core.patchNode(
      {
        name,
        body: { metadata: { labels: { 'kubernetes.azure.com/node-image-version': o.nodeImageVersion } } },
      },
      MERGE,
    );
    const r = await this.reboot(name, {
      ...(o.kernelVersion ? { kernelVersion: o.kernelVersion } : {}),
      ...(o.downMs ? { downMs: o.downMs } : {}),
    });
    this.reimages.push({
      node: name,
      at: Date.now(),
      image: o.nodeImageVersion,
      bootIDBefore: r.bootIDBefore,
      bootIDAfter: r.bootIDAfter,
    });
    return r;
  }

  // ---------- the simulated kubelet for Reboot Pilot's pods ----------

  start(): Promise<void> {
    const watch = new k8s.Watch(this.cluster.kc);
    // The loop keeps its own controller: stop() aborts it, and clears the field while the loop waits.
    const controller = new AbortController();
    const stopped = () => controller.signal.aborted;
    const loop = async () => {
      while (!stopped()) {
        // Re-list, then watch: a watch that ends (timeouts, restarts) is simply started again.
        const list = await this.core
          .listPodForAllNamespaces({ labelSelector: PRODUCT_ROLE_LABEL })
          .catch(() => undefined);
        for (const p of list?.items ?? []) this.consider(p);
        await new Promise<void>((resolve) => {
          void watch
            .watch(
              '/api/v1/pods',
              {
                labelSelector: PRODUCT_ROLE_LABEL,
                resourceVersion: list?.metadata?.resourceVersion,
                allowWatchBookmarks: true,
              },
              (type: string, obj: k8s.V1Pod) => {
                if (type === 'ADDED' || type === 'MODIFIED') this.consider(obj);
              },
              () => resolve(),
            )
            .then((ctl) => {
              if (stopped()) ctl.abort();
              else controller.signal.addEventListener('abort', () => ctl.abort(), { once: true });
            })
            .catch(() => resolve());
        });
        if (!stopped()) await new Promise((r) => setTimeout(r, 200));
      }
    };
    this.watchAbort = controller;
    void loop();
    this.stopReadiness = keepPodsReady(this.cluster);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.watchAbort?.abort();
    this.watchAbort = undefined;
    this.stopReadiness?.();
    this.stopReadiness = undefined;
    await Promise.allSettled([...this.pending]);
    rmSync(this.hostsRoot, { recursive: true, force: true });
  }

  private consider(pod: k8s.V1Pod): void {
    const uid = pod.metadata?.uid;
    const role = pod.metadata?.labels?.[PRODUCT_ROLE_LABEL];
    const nodeName = pod.spec?.nodeName;
    if (!uid || !role || !nodeName || pod.metadata?.deletionTimestamp) return;
    if (pod.status?.phase && pod.status.phase !== 'Pending') return;
    if (this.seen.has(uid)) return;
    const handler = this.handlers.get(role);
    if (!handler) return;
    this.seen.add(uid);
    const p = (async () => {
      // A kubelet on a powered-off machine runs nothing: the pod stays Pending.
      const node = await this.node(nodeName).catch(() => undefined);
      if (!node || this.isPoweredOff(node)) {
        this.seen.delete(uid);
        return;
      }
      // A real kubelet runs the pods of a real node (test/harness/realnode.ts).
      if (node.metadata?.labels?.[REAL_NODE_LABEL]) return;
      await handler(pod, this);
    })()
      .catch((e: unknown) => console.error(`node simulator: ${role} pod ${pod.metadata?.name}: ${String(e)}`))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /**
   * Runs a probe pod's container command on this machine, as its kubelet would on the node.
   * Paths are remapped, since there is no container: an env value naming a hostPath mountPath
   * (or a path below it) is rewritten to the node's simulated host tree, and one naming the
   * terminationMessagePath to a file whose content becomes the termination message.
   */
  private async runProbePod(pod: k8s.V1Pod): Promise<void> {
    const node = pod.spec!.nodeName!;
    const c = pod.spec!.containers[0]!;
    const host = this.hostDir(node);
    const work = mkdtempSync(join(tmpdir(), 'rp-pod-'));
    const terminationPath = c.terminationMessagePath ?? '/dev/termination-log';
    const terminationFile = join(work, 'termination-log');
    writeFileSync(terminationFile, '');
    const mounts = (c.volumeMounts ?? []).flatMap((m) => {
      const v = pod.spec!.volumes?.find((vol) => vol.name === m.name);
      return v?.hostPath
        ? [{ mountPath: m.mountPath, hostPath: v.hostPath.path, local: join(host, v.hostPath.path) }]
        : [];
    });
    const remap = (value: string): string => {
      if (value === terminationPath) return terminationFile;
      // The container shares the node's kernel: /proc shows the node's boot_id and boot time.
      if (value === '/proc' || value.startsWith('/proc/')) return join(host, value);
      for (const m of mounts) {
        if (value === m.mountPath) return m.local;
        const rel = relative(m.mountPath, value);
        if (!rel.startsWith('..') && !isAbsolute(rel)) return join(m.local, rel);
      }
      // A directory under which every hostPath sits at its own host path (/host + /var/run
      // -> /host/var/run) stands for the node's root.
      const under = mounts.filter((m) => m.mountPath.startsWith(value + '/'));
      if (under.length && under.every((m) => m.mountPath === value + m.hostPath)) return host;
      return value;
    };
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work };
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = remap(e.value);
      else if (e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName') env[e.name] = node;
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = pod.metadata!.name!;
    }
    const argv = [...(c.command ?? []), ...(c.args ?? [])];
    if (!argv.length) throw new Error('probe pod without a command');
    const startedAt = new Date();
    const created = new Date(pod.metadata!.creationTimestamp ?? startedAt).getTime();
    await this.patchPodStatus(pod, {
      phase: 'Running',
      startTime: startedAt,
      containerStatuses: [
        {
          name: c.name,
          image: c.image!,
          imageID: '',
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt } },
        },
      ],
    });
    const scriptStart = performance.now();
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { env, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const limit = (pod.spec!.activeDeadlineSeconds ?? 60) * 1000;
      const t = setTimeout(() => child.kill('SIGKILL'), limit);
      child.on('close', (code, signal) => {
        clearTimeout(t);
        resolve({ code: code ?? (signal ? 137 : 1), output });
      });
    });
    let message = readFileSync(terminationFile, 'utf8');
    if (!message && code !== 0 && c.terminationMessagePolicy === 'FallbackToLogsOnError') {
      message = output.split('\n').slice(-80).join('\n');
    }
    message = Buffer.from(message).subarray(0, TERMINATION_MESSAGE_LIMIT).toString('utf8');
    rmSync(work, { recursive: true, force: true });
    const finishedAt = new Date();
    this.ran.push({
      role: 'probe',
      pod: pod.metadata!.name!,
      node,
      exitCode: code,
      scriptMs: performance.now() - scriptStart,
      totalMs: Date.now() - created,
    });
    await this.patchPodStatus(pod, {
      phase: code === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: [
        {
          name: c.name,
          image: c.image!,
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: {
            terminated: {
              exitCode: code,
              reason: code === 0 ? 'Completed' : 'Error',
              message,
              startedAt,
              finishedAt,
            },
          },
        },
      ],
    });
  }

  /**
   * A reboot pod does what its command would do on a real node, if it could: without hostPID
   * neither nsenter into PID 1's namespaces nor a signal to PID 1 reaches the host, and the
   * command needs privilege (or CAP_KILL for the signal); then the container fails and nothing
   * reboots, as on a real node.
   */
  private async runRebootPod(pod: k8s.V1Pod): Promise<void> {
    const node = pod.spec!.nodeName!;
    const c = pod.spec!.containers[0]!;
    const script = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
    const sc = c.securityContext ?? {};
    const signal = /kill -(39|RTMIN\+5|SIGRTMIN\+5) 1\b/.test(script);
    const nsenter =
      /nsenter .*-m\s*\/proc\/1\/ns\/mnt|nsenter .*--mount=\/proc\/1\/ns\/mnt/.test(script) &&
      /systemctl reboot|\breboot\b/.test(script);
    const allowed =
      pod.spec!.hostPID === true &&
      (signal
        ? sc.privileged === true || (sc.capabilities?.add ?? []).includes('KILL')
        : sc.privileged === true);
    const startedAt = new Date();
    if (!allowed || !(signal || nsenter)) {
      await this.patchPodStatus(pod, {
        phase: 'Failed',
        containerStatuses: [
          {
            name: c.name,
            image: c.image!,
            imageID: '',
            ready: false,
            restartCount: 0,
            state: {
              terminated: {
                exitCode: 1,
                reason: 'Error',
                message: 'simulated: this pod cannot reach the host (hostPID, privilege or command missing)',
                startedAt,
                finishedAt: new Date(),
              },
            },
          },
        ],
      });
      this.ran.push({ role: 'reboot', pod: pod.metadata!.name!, node, exitCode: 1, scriptMs: 0, totalMs: 0 });
      return;
    }
    await this.patchPodStatus(pod, {
      phase: 'Running',
      startTime: startedAt,
      containerStatuses: [
        {
          name: c.name,
          image: c.image!,
          imageID: '',
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt } },
        },
      ],
    });
    const r = await this.reboot(node, { downMs: this.rebootDownMs, neverReturn: this.neverReturn.has(node) });
    this.reboots.push({ node, at: Date.now(), bootIDBefore: r.bootIDBefore, bootIDAfter: r.bootIDAfter });
    this.ran.push({
      role: 'reboot',
      pod: pod.metadata!.name!,
      node,
      exitCode: 0,
      scriptMs: 0,
      totalMs: Date.now() - startedAt.getTime(),
    });
    // The reboot ended the container; after boot the kubelet reports it terminated.
    if (!this.neverReturn.has(node)) {
      await this.patchPodStatus(pod, {
        phase: 'Succeeded',
        containerStatuses: [
          {
            name: c.name,
            image: c.image!,
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: new Date() } },
          },
        ],
      });
    }
  }

  async patchPodStatus(pod: k8s.V1Pod, status: k8s.V1PodStatus): Promise<void> {
    await this.core
      .patchNamespacedPodStatus(
        { name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body: { status } },
        MERGE,
      )
      .catch((e: unknown) => {
        // The pod may have been deleted meanwhile (a probe that timed out on the caller's side).
        if (!(e instanceof k8s.ApiException && e.code === 404)) throw e;
      });
  }
}
