// What a reboot buys, end to end on the real control plane: probe pods on KWOK nodes whose
// simulated host trees hold the changelogs of real Debian packages (fetched with apt-get into a
// cache outside the repository), read through the probe pod's read-only /usr/share/doc mount;
// the plan and its report against the changelog entries themselves; and a node without
// changelogs (Azure Linux) said so. And the bundled action without a token (plan only): its job
// summary carries the CVEs, the days pending and the estimate with the window fit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../harness/controlplane.ts';
import { NodeSimulator } from '../harness/simulator.ts';
import { aksNode } from '../harness/nodes.ts';
import {
  realPackages,
  changelogPath,
  changelogOracle,
  debianNodeFiles,
  installDocs,
  type RealPackages,
} from '../harness/debs.ts';
import { BOOT_TIME, azureLinux3 } from '../fixtures/hosts.ts';
import { inspectCluster } from '../../src/plan/inspect.ts';
import { parsePlanSettings } from '../../src/settings.ts';
import { loadKubeConfig, makeClients } from '../../src/kube/client.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { runAction } from '../harness/action.ts';
import { stopAll } from '../harness/teardown.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let cluster: Cluster;
let sim: NodeSimulator;
let real: RealPackages;
const debian = aksNode({ pool: 'deb', index: 0 }).name;
const azl = aksNode({ pool: 'azl', index: 0 }).name;

before(async () => {
  real = realPackages();
  cluster = await startCluster();
  sim = new NodeSimulator(cluster);
  await sim.start();
  // Booted before the upgrades of debianNodeFiles' dpkg.log; the sentinel appeared with them.
  const mtime = BOOT_TIME + 6600;
  await sim.createNodes([
    { ...aksNode({ pool: 'deb', index: 0, kernelVersion: real.kernelOld.release }), bootTime: BOOT_TIME },
    { ...aksNode({ pool: 'azl', index: 0, kernelVersion: '6.6.64.2-9.azl3' }), bootTime: BOOT_TIME },
  ]);
  sim.writeHostFiles(debian, debianNodeFiles(real));
  installDocs(sim.hostDir(debian), [real.kernelOld, real.kernelNew, real.libcNew]);
  const { utimesSync } = await import('node:fs');
  utimesSync(`${sim.hostDir(debian)}/var/run/reboot-required`, mtime, mtime);
  sim.writeHostFiles(azl, {
    ...azureLinux3,
    'var/run/reboot-required': 'x\n',
    'var/run/reboot-required.pkgs': 'kernel\n',
  });
  utimesSync(`${sim.hostDir(azl)}/var/run/reboot-required`, mtime, mtime);
});

after(async () => {
  await stopAll(sim, cluster);
});

test('the plan carries the CVEs of the real changelog entries newer than the running versions; the report links them', async () => {
  const clients = makeClients(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  const { plan, planId: id } = await inspectCluster(
    clients,
    parsePlanSettings({ 'cluster-name': 'fixes', 'probe-timeout': '30', order: 'name' }),
    () => undefined,
  );
  const deb = plan.nodes.find((n) => n.name === debian)!;
  assert.equal(deb.kernel.next, real.kernelNew.release, 'the newer kernel is the next one');
  const kernel = changelogOracle(changelogPath(real.kernelNew), real.kernelOld.version);
  const libc = changelogOracle(changelogPath(real.libcNew), real.libcOld.version);
  const union = new Set([...kernel.cves, ...libc.cves]);
  const f = deb.fixes!;
  assert.equal(f.cveTotal, union.size);
  assert.ok(f.cves.length > 0 && f.cves.length < union.size, 'cut to the termination message, total kept');
  assert.ok(f.cves.every((id) => union.has(id.slice(4))));
  assert.equal(
    f.urgency,
    ['low', 'medium', 'high', 'emergency', 'critical']
      .filter((u) => u === kernel.urgency || u === libc.urgency)
      .at(-1),
  );
  assert.deepEqual(
    f.packages.map((p) => [p.name, p.entries, p.cves, p.to]),
    [
      [real.kernelNew.name, kernel.entries, kernel.cves.length, kernel.to],
      ['libc6', libc.entries, libc.cves.length, libc.to],
    ],
  );
  // RPM-based: no Debian changelog to read, and the report says so rather than "0 CVEs".
  const other = plan.nodes.find((n) => n.name === azl)!;
  assert.deepEqual(other.fixes?.packages, [{ name: 'kernel', changelog: false }]);

  // Three days and an hour after the sentinel appeared.
  const md = renderMarkdown(plan, id, { now: new Date((BOOT_TIME + 6600 + 3 * 86_400 + 3600) * 1000) });
  assert.match(
    md,
    new RegExp(
      `Security: the reboots fix at least \\*\\*${union.size} CVEs\\*\\* \\(urgency ${f.urgency}\\); no Debian changelog could be read on 1 node\\. The oldest has been pending for \\*\\*3 days\\*\\*\\.`,
    ),
  );
  assert.ok(
    md.includes(
      `fixes ${union.size} CVEs (urgency ${f.urgency})<br>[${f.cves[0]}](https://www.cve.org/CVERecord?id=${f.cves[0]})`,
    ),
  );
  assert.ok(md.includes('| CVEs unknown: no Debian changelog on the node (kernel) | 3 d |'));
  assert.ok(!/\b0 CVEs\b/.test(md));
  // The probe pods are gone.
  const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  assert.equal(
    (await core.listPodForAllNamespaces({ labelSelector: 'reboot-pilot.io/role=probe' })).items.length,
    0,
  );
});

test('the bundled action, plan only: the job summary shows the CVEs, the days pending and the estimate against the window', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rp-fixes-action-'));
  const r = await runAction({
    dir,
    event: { name: 'schedule' },
    env: { KUBECONFIG: cluster.kubeconfigPath },
    inputs: {
      'cluster-name': 'fixes',
      'github-token': '',
      'probe-timeout': '30',
      soak: '120',
      'reboot-days': 'sat',
      'start-time': '22:00',
      'end-time': '22:05',
    },
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.outputs.state, 'planned');
  const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
  assert.match(
    summary,
    /Security: the reboots fix at least \*\*\d+ CVEs\*\* \(urgency high\); no Debian changelog could be read on 1 node\. The oldest has been pending for \*\*\d+ days\*\*\./,
  );
  // Two nodes from the default (2 + 3 + 1 min) plus the soak of 2 min each: 16 min; a 5-minute window holds none whole.
  assert.match(
    summary,
    /\*\*Estimate:\*\* about \*\*16 min\*\* for 2 nodes, one at a time \(2 from the default .*; soak 2 min per node\)\./,
  );
  assert.match(
    summary,
    /It does not fit in the next maintenance window, \d{4}-\d\d-\d\d 22:00 UTC to \d{4}-\d\d-\d\d 22:05 UTC \(5 min; sat 22\\:00–22\\:05 UTC\): about 1 node per window, \*\*2 windows\*\* for the whole plan\./,
  );
});
