// npm run demo: the whole product on a local AKS-like cluster, no cloud account. Builds or reuses
// the local control plane, creates 5 KWOK nodes (two Linux pools, one Windows pool; two Linux nodes
// with a newer kernel pending; a Deployment guarded by a PDB), starts the fake GitHub and the fake
// ARM/Entra (HTTPS), and runs the bundled action exactly as a workflow would: a scheduled plan
// opens the tracking issue, an approval comment executes it (serial VMSS restarts, then the
// Windows pool's node image upgrade), and the issue closes with the results.
// `npm run demo -- --dump DIR` also writes the Markdown bodies the fake GitHub kept (the tracking
// issue as planned and as closed, every comment) to DIR, e.g. to render them for the docs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { startCluster } from '../test/harness/controlplane.ts';
import { NodeSimulator } from '../test/harness/simulator.ts';
import { InvariantWatcher } from '../test/harness/invariants.ts';
import { aksNode, DEFAULT_NODE_RG, DEFAULT_SUBSCRIPTION } from '../test/harness/nodes.ts';
import { BOOT_TIME, ubuntuUpToDate } from '../test/fixtures/hosts.ts';
import { FakeGitHub } from '../test/harness/github.ts';
import { FakeAzure } from '../test/harness/arm.ts';
import { applyProductRbac, guardedDeployment } from '../test/harness/workloads.ts';
import { shownPlan } from '../src/github/body.ts';
import { realPackages, debianNodeFiles, installDocs, type RealPackages } from '../test/harness/debs.ts';
import { DURATIONS_ANNOTATION } from '../src/kube/labels.ts';
import { runAction, type ActionEvent } from '../test/harness/action.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const t0 = Date.now();
const say = (line: string) =>
  console.log(`\x1b[2m${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s\x1b[0m ${line}`);
const heading = (line: string) => console.log(`\n\x1b[1m== ${line}\x1b[0m`);
/** A Markdown body for the terminal: without the hidden state, folded details kept short. */
const show = (body: string) =>
  console.log(
    body
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/\n{3,}/g, '\n\n')
      .trim()
      .split('\n')
      .map((l) => `    │ ${l}`)
      .join('\n'),
  );

const dumpAt = process.argv.indexOf('--dump');
const dumpDir = dumpAt > 0 ? process.argv[dumpAt + 1] : undefined;
/** Writes one body the fake GitHub kept, for --dump. */
const dump = (name: string, body: string) => {
  if (!dumpDir) return;
  mkdirSync(dumpDir, { recursive: true });
  writeFileSync(join(dumpDir, name), body);
};

const LINUX_IMAGE = 'AKSUbuntu-2204gen2containerd-202509.23.0';
const WIN_IMAGE = 'AKSWindows-2022-containerd-20348.3207.250212';
let NEW_KERNEL = '5.15.0-1102-azure';

async function main(): Promise<number> {
  heading('1. Local control plane (etcd, kube-apiserver, controller-manager, scheduler, KWOK)');
  say('building it from the Go module proxy on first use (about 8 minutes), else reusing the cache');
  execFileSync('bash', [join(root, 'tools', 'controlplane', 'build.sh')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const cluster = await startCluster({ users: [{ name: 'reboot-pilot' }] });
  const sim = new NodeSimulator(cluster);
  sim.rebootDownMs = 2000;
  await sim.start();
  const dir = mkdtempSync(join(tmpdir(), 'rp-demo-'));
  let gh: FakeGitHub | undefined;
  let az: FakeAzure | undefined;
  const watcher = new InvariantWatcher(cluster);
  try {
    say(`cluster up at ${cluster.kc.getCurrentCluster()!.server}`);
    await applyProductRbac(cluster, dir);
    say('applied deploy/rbac.yaml: the action runs with exactly those permissions');

    heading('2. An AKS-like cluster: pools nodepool1 and userpool (Linux), win (Windows)');
    // The pending nodes hold real packages' changelogs (Debian's cloud kernels and libc6, fetched
    // once with apt-get into ~/.cache/reboot-pilot/debs), so the plan shows what the reboot fixes.
    let real: RealPackages | undefined;
    try {
      real = realPackages();
      NEW_KERNEL = real.kernelNew.release;
      say(
        `real packages: ${real.kernelOld.name} ${real.kernelOld.version} running, ${real.kernelNew.name} ${real.kernelNew.version} and libc6 ${real.libcNew.version} installed`,
      );
    } catch (e) {
      say(`no real packages (${(e as Error).message}): the plan will say the CVEs are unknown`);
    }
    const running = real ? { kernelVersion: real.kernelOld.release } : {};
    const specs = [
      ...[0, 1].map((i) => ({
        ...aksNode({
          pool: 'nodepool1',
          index: i,
          nodeImageVersion: LINUX_IMAGE,
          ...(i === 0 ? running : {}),
        }),
        bootTime: BOOT_TIME,
      })),
      ...[0, 1].map((i) => ({
        ...aksNode({
          pool: 'userpool',
          index: i,
          vmssSuffix: '87654321',
          nodeImageVersion: LINUX_IMAGE,
          ...(i === 0 ? running : {}),
        }),
        bootTime: BOOT_TIME,
      })),
      aksNode({ pool: 'win', index: 0, os: 'windows', nodeImageVersion: WIN_IMAGE }),
    ];
    await sim.createNodes(specs);
    const linux = specs.slice(0, 4).map((s) => s.name);
    for (const n of linux)
      sim.writeHostFiles(n, { ...ubuntuUpToDate, 'boot/vmlinuz-5.15.0-1079-azure': 'kernel' });
    // unattended-upgrades installed a new kernel (and libc6) on one node of each Linux pool, 3 days ago.
    const since = Date.now() / 1000 - 3 * 86_400 - 3600;
    for (const n of [linux[0]!, linux[2]!]) {
      sim.writeHostFiles(n, {
        [`boot/vmlinuz-${NEW_KERNEL}`]: 'kernel',
        'var/run/reboot-required': '*** System restart required ***\n',
        'var/run/reboot-required.pkgs': `linux-image-${NEW_KERNEL}\n`,
      });
      if (real) {
        sim.writeHostFiles(n, debianNodeFiles(real));
        installDocs(sim.hostDir(n), [real.kernelOld, real.kernelNew, real.libcNew]);
      }
      utimesSync(`${sim.hostDir(n)}/var/run/reboot-required`, since, since);
    }
    // An earlier rollout recorded how long nodepool1's first node took (the estimate reads it).
    await sim.core.patchNode(
      {
        name: linux[0]!,
        body: {
          metadata: {
            annotations: {
              [DURATIONS_ANNOTATION]: JSON.stringify({ drain: 45, reboot: 120, workloads: 15 }),
            },
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    for (const s of specs)
      say(
        `node ${s.name}${[linux[0], linux[2]].includes(s.name) ? `: kernel ${NEW_KERNEL} installed, /var/run/reboot-required present` : ''}`,
      );
    await guardedDeployment(cluster, {
      namespace: 'shop',
      name: 'web',
      replicas: 3,
      minAvailable: 2,
      spec: { nodeSelector: { 'kubernetes.io/os': 'linux' } },
    });
    say('Deployment shop/web (3 replicas) guarded by PDB minAvailable 2');

    heading('3. Fake GitHub (OpenAPI-validated) and fake ARM + Entra + GitHub OIDC (HTTPS)');
    gh = new FakeGitHub({
      users: [
        { login: 'alice', role: 'admin' },
        { login: 'bob', role: 'write' },
      ],
    });
    const api = await gh.start();
    // What AKS returns from listClusterUserCredentials for an Entra cluster: a kubelogin user,
    // which the action replaces with its own Entra token (no kubelogin on the runner).
    const rbacKc = new k8s.KubeConfig();
    rbacKc.loadFromString(cluster.kubeconfigFor('reboot-pilot'));
    const aksKubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: aks-demo',
      '  cluster:',
      `    server: ${rbacKc.getCurrentCluster()!.server}`,
      `    certificate-authority-data: ${Buffer.from(cluster.caPem).toString('base64')}`,
      'contexts:',
      '- name: aks-demo',
      '  context: {cluster: aks-demo, user: clusterUser_rg-platform_aks-demo}',
      'current-context: aks-demo',
      'users:',
      '- name: clusterUser_rg-platform_aks-demo',
      '  user:',
      '    exec:',
      '      apiVersion: client.authentication.k8s.io/v1beta1',
      '      command: kubelogin',
      '      args: [get-token, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]',
      '',
    ].join('\n');
    az = await FakeAzure.start(
      {
        subscriptionId: DEFAULT_SUBSCRIPTION,
        resourceGroup: 'rg-platform',
        name: 'aks-demo',
        location: 'westeurope',
        nodeResourceGroup: DEFAULT_NODE_RG,
        nodeOSUpgradeChannel: 'Unmanaged',
        pools: [
          {
            name: 'nodepool1',
            osType: 'Linux',
            nodeImageVersion: LINUX_IMAGE,
            latestNodeImageVersion: LINUX_IMAGE,
            count: 2,
            upgradeSettings: { maxSurge: '33%' },
          },
          {
            name: 'userpool',
            osType: 'Linux',
            nodeImageVersion: LINUX_IMAGE,
            latestNodeImageVersion: LINUX_IMAGE,
            count: 2,
            upgradeSettings: { maxSurge: '33%' },
          },
          {
            name: 'win',
            osType: 'Windows',
            nodeImageVersion: WIN_IMAGE,
            latestNodeImageVersion: 'AKSWindows-2022-containerd-20348.3270.250311',
            count: 1,
            upgradeSettings: { maxSurge: '1' },
          },
        ],
        maintenance: [],
        kubeconfig: aksKubeconfig,
      },
      sim,
    );
    az.kubeToken = rbacKc.getCurrentUser()!.token!;
    say(`GitHub API ${api}, ARM ${az.base}`);

    /** The bundled action, started the way the runner starts it; its log streams to the terminal. */
    const action = async (event: ActionEvent): Promise<Record<string, string>> => {
      let buf = '';
      const line = (l: string) => {
        if (!l || l.startsWith('::add-mask::') || l.startsWith('::debug::')) return;
        say(`  action │ ${l.replace(/^::(error|warning)::/, '$1: ')}`);
      };
      const r = await runAction({
        dir,
        event,
        env: {
          ...az!.oidcEnv(),
          NODE_EXTRA_CA_CERTS: az!.caFile,
          GITHUB_API_URL: api,
          GITHUB_REPOSITORY: 'contoso/platform',
          GITHUB_RUN_ID: '1',
          KUBECONFIG: join(dir, 'no-kubeconfig'),
        },
        inputs: {
          'cluster-name': 'aks-demo',
          'github-token': 'ghs_demo-token',
          'reboot-method': 'azure-vmss',
          'azure-credential': 'oidc',
          ...az!.settings(),
          soak: '3',
          'drain-retry-delay': '1',
          'reboot-timeout': '60',
          'progress-interval': '2',
        },
        onOutput: (chunk) => {
          const parts = (buf + chunk).split('\n');
          buf = parts.pop()!;
          parts.forEach(line);
        },
      });
      line(buf);
      if (r.code !== 0) throw new Error(`the action exited with ${r.code}`);
      return r.outputs;
    };

    heading('4. The scheduled workflow: plan (OIDC sign-in, AKS access without a kubeconfig, probes)');
    const planned = await action({ name: 'schedule', actor: 'github-actions[bot]' });
    const number = Number(planned['issue-number']);
    const id = shownPlan(gh.issues.get(number)!.body as string)!.planId;
    say(
      `tracking issue #${number} opened: plan ${id.slice(0, 12)}, ${planned['nodes-pending']} nodes, state ${planned.state}`,
    );
    heading(`Issue #${number}: ${gh.issues.get(number)!.title as string}`);
    show(gh.issues.get(number)!.body as string);
    dump('issue-planned.md', gh.issues.get(number)!.body as string);

    heading(`5. bob comments "/approve ${id.slice(0, 12)}": the comment workflow executes the plan`);
    await watcher.start();
    const c = gh.comment(number, 'bob', `/approve ${id.slice(0, 12)}`) as { id: number };
    const done = await action({
      name: 'issue_comment',
      actor: 'bob',
      payload: { action: 'created', issue: { number }, comment: { id: c.id } },
    });
    const violations = watcher.stop();

    heading('6. Result');
    const comments = [...gh.comments.values()].map((x) => x.body as string);
    comments.forEach((b, i) => dump(`comment-${i + 1}.md`, b));
    dump('issue-final.md', gh.issues.get(number)!.body as string);
    if (dumpDir) say(`bodies written to ${dumpDir}`);
    show(comments.find((b) => b.includes('Reboot Pilot: plan'))!);
    say(
      `issue #${number} is ${gh.issues.get(number)!.state as string}; outputs: state ${done.state}, rebooted ${done['nodes-rebooted']}, reimaged ${done['nodes-reimaged']}, failed ${done['nodes-failed']}, pending ${done['nodes-pending']}`,
    );
    say(`the Windows pool's node image: ${az.pool('win').nodeImageVersion} (was ${WIN_IMAGE})`);
    say(
      `invariants while executing: at most ${watcher.maxUnavailable} node unavailable because of Reboot Pilot, ${violations.length} violations (PDBs, cordons)`,
    );
    say(
      `GitHub: ${gh.requests.length} API requests, ${gh.violations.length} OpenAPI violations; ARM: ${az.violations.length} violations`,
    );
    heading('Job summary (GITHUB_STEP_SUMMARY)');
    show(
      readFileSync(join(dir, 'summary.md'), 'utf8')
        .split('### Reboot Pilot: plan')
        .pop()!
        .replace(/^/, '### Reboot Pilot: plan'),
    );
    const ok =
      done.state === 'completed' &&
      violations.length === 0 &&
      gh.violations.length === 0 &&
      az.violations.length === 0 &&
      gh.issues.get(number)!.state === 'closed';
    say(
      ok
        ? 'demo completed: plan → issue → approval → serial reboots → node image upgrade → closed'
        : 'demo FAILED: see above',
    );
    return ok ? 0 : 1;
  } finally {
    watcher.stop();
    await gh?.stop();
    await az?.stop();
    await sim.stop();
    await cluster.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`demo failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
