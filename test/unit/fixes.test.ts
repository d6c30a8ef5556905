// What a reboot fixes, in the plan and the report: nodes grouped by it, "fixes N CVEs (urgency
// high)" with linked IDs per group and in the summary, days pending, and never "0 CVEs" where
// the changelogs could not be read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { buildPlan } from '../../src/plan/build.ts';
import { planId } from '../../src/plan/canonical.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderTerminal } from '../../src/report/terminal.ts';
import { CVE_PAGE, cveLinks, daysPending, fixesOverall, fixesPhrase } from '../../src/report/fixes.ts';
import { term } from '../../src/report/escape.ts';
import type { Fixes, PlanNode } from '../../src/plan/types.ts';
import type { ProbeOutcome } from '../../src/detect/probe.ts';
import type { ProbeResult } from '../../src/detect/probe-script.ts';
import { PLAN_OPTIONS, snapshotNode, snapshotOf } from '../harness/plan-nodes.ts';

const NOW = new Date('2025-11-25T12:00:00Z');

function node(name: string): k8s.V1Node {
  return snapshotNode({
    name,
    pool: 'np',
    kernelVersion: '6.1.0-47-cloud-amd64',
    osImage: 'Debian GNU/Linux 12',
  });
}

function probed(
  name: string,
  fixes: ProbeResult['fixes'],
  mtime = Date.parse('2025-11-21T06:30:00Z') / 1000,
): ProbeOutcome {
  return {
    ok: true,
    result: {
      v: 1,
      bootId: `boot-${name}`,
      btime: 1,
      os: { id: 'debian', version: '12' },
      sentinel: { present: true, mtime, via: 'file', path: '/var/run/reboot-required' },
      pkgs: { total: 2, items: ['linux-image-6.1.0-50-cloud-amd64', 'libc6'] },
      kernels: { total: 2, items: ['6.1.0-47-cloud-amd64', '6.1.0-50-cloud-amd64'] },
      history: { source: 'dpkg', total: 0, items: [] },
      ...(fixes ? { fixes } : {}),
    },
  };
}

const kernelFixes: ProbeResult['fixes'] = {
  cves: { total: 3, items: ['2026-43117', '2026-43114', '2025-8058'] },
  pkgs: {
    total: 2,
    items: [
      {
        p: 'linux-image-6.1.0-50-cloud-amd64',
        doc: true,
        entries: 3,
        urgency: 'high',
        from: '6.1.170+3',
        to: '6.1.176+1',
        cves: 2,
      },
      {
        p: 'libc6',
        doc: true,
        entries: 1,
        urgency: 'medium',
        from: '2.36-9+deb12u13',
        to: '2.36-9+deb12u14',
        cves: 1,
      },
    ],
  },
};
const noDocs: ProbeResult['fixes'] = {
  cves: { total: 0, items: [] },
  pkgs: {
    total: 2,
    items: [
      { p: 'linux-image-6.1.0-50-cloud-amd64', doc: false },
      { p: 'libc6', doc: false },
    ],
  },
};
const quiet: ProbeResult['fixes'] = {
  cves: { total: 0, items: [] },
  pkgs: {
    total: 1,
    items: [
      {
        p: 'libc6',
        doc: true,
        entries: 2,
        urgency: 'low',
        from: '2.36-9+deb12u12',
        to: '2.36-9+deb12u14',
        cves: 0,
      },
    ],
  },
};

const opts = PLAN_OPTIONS;
const snapshot = snapshotOf;

test('nodes are grouped by what their reboot fixes; the report links the CVEs and says how long each waited', () => {
  const names = ['a', 'b', 'c', 'd'];
  const probes = new Map<string, ProbeOutcome>([
    ['a', probed('a', kernelFixes)],
    ['b', probed('b', kernelFixes, Date.parse('2025-11-18T06:30:00Z') / 1000)],
    ['c', probed('c', noDocs)],
    ['d', probed('d', quiet)],
  ]);
  const plan = buildPlan(snapshot(names.map(node)), { probes, evidence: new Map() }, opts);
  assert.deepEqual(plan.nodes[0]!.fixes, {
    cveTotal: 3,
    cves: ['CVE-2026-43117', 'CVE-2026-43114', 'CVE-2025-8058'],
    urgency: 'high',
    packages: [
      {
        name: 'linux-image-6.1.0-50-cloud-amd64',
        changelog: true,
        entries: 3,
        cves: 2,
        urgency: 'high',
        from: '6.1.170+3',
        to: '6.1.176+1',
      },
      {
        name: 'libc6',
        changelog: true,
        entries: 1,
        cves: 1,
        urgency: 'medium',
        from: '2.36-9+deb12u13',
        to: '2.36-9+deb12u14',
      },
    ],
    packagesTotal: 2,
  });
  const m = renderMarkdown(plan, planId(plan), { now: NOW });
  const rows = m.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Nodes'));
  assert.equal(rows.length, 3, 'a and b share a row; c and d differ in what they fix');
  assert.match(
    rows[0]!,
    /^\| a<br>b \|.*\| fixes 3 CVEs \(urgency high\)<br>\[CVE-2026-43117\]\(https:\/\/www\.cve\.org\/CVERecord\?id=CVE-2026-43117\), .* \| 7 d \|/,
  );
  assert.match(
    rows[1]!,
    /\| CVEs unknown: no Debian changelog on the node \(linux\\-image\\-6\\\.1\\\.0\\-50\\-cloud\\-amd64, libc6\) \| 4 d \|/,
  );
  assert.match(rows[2]!, /\| no CVE named in 2 changelog entries \(urgency low\) \| 4 d \|/);
  assert.ok(!/\b0 CVEs/.test(m), 'never "0 CVEs"');
  assert.match(
    m,
    /Security: the reboots fix \*\*3 CVEs\*\* \(urgency high\); no Debian changelog could be read on 1 node\. The oldest has been pending for \*\*7 days\*\*\./,
  );
  assert.match(m, /1\. a \(np\): cordon, drain, reboot, verify, uncordon, pending 4 d/);
  assert.match(m, /- Fixes: fixes 3 CVEs \(urgency high\): \[CVE-2026-43117\]/);
  assert.match(
    m,
    / {2}- linux\\-image\\-6\\\.1\\\.0\\-50\\-cloud\\-amd64 6\\\.1\\\.170\\\+3 → 6\\\.1\\\.176\\\+1: 3 changelog entries, 2 CVEs, urgency high/,
  );
  const t = renderTerminal(plan, planId(plan), NOW);
  assert.match(t, /fixes 3 CVEs \(urgency high\): CVE-2026-43117, CVE-2026-43114, CVE-2025-8058/);
  assert.match(
    t,
    /CVEs unknown: no Debian changelog on the node \(linux-image-6\.1\.0-50-cloud-amd64, libc6\)/,
  );
});

test('a cut CVE list is counted from the total, and the summary says "at least" across nodes', () => {
  const cut: ProbeResult['fixes'] = { ...kernelFixes, cves: { total: 516, items: kernelFixes.cves.items } };
  const other: ProbeResult['fixes'] = {
    ...kernelFixes,
    cves: { total: 2, items: ['2024-1', '2024-2'].map((x) => x.replace(/-(\d)$/, '-000$1')) },
  };
  const plan = buildPlan(
    snapshot([node('a'), node('b')]),
    {
      probes: new Map([
        ['a', probed('a', cut)],
        ['b', probed('b', other)],
      ]),
      evidence: new Map(),
    },
    opts,
  );
  const m = renderMarkdown(plan, planId(plan), { now: NOW });
  assert.match(m, /fixes 516 CVEs \(urgency high\)<br>\[CVE-2026-43117\].*\+513 more/);
  assert.match(m, /Security: the reboots fix at least \*\*516 CVEs\*\*/);
});

test('probes without changelog reading, and no package named: no CVE claim either way', () => {
  const none: ProbeResult['fixes'] = { cves: { total: 0, items: [] }, pkgs: { total: 0, items: [] } };
  const plan = buildPlan(
    snapshot([node('a'), node('b')]),
    {
      probes: new Map([
        ['a', probed('a', undefined)],
        ['b', probed('b', none)],
      ]),
      evidence: new Map(),
    },
    opts,
  );
  assert.equal(plan.nodes[0]!.fixes, undefined);
  const m = renderMarkdown(plan, planId(plan), { now: NOW });
  assert.match(m, /\| CVEs not read \|/);
  assert.match(m, /\| CVEs unknown: no package named as requiring the reboot \|/);
  assert.match(m, /Security: CVEs unknown; no Debian changelog could be read on 2 nodes/);
  assert.ok(!/\b0 CVEs/.test(m));
});

test('a hostile package name in "no changelog for" stays text', () => {
  const evil: ProbeResult['fixes'] = {
    ...kernelFixes,
    pkgs: { total: 3, items: [...kernelFixes.pkgs.items, { p: 'x](https://evil)@org/team', doc: false }] },
  };
  const plan = buildPlan(
    snapshot([node('a')]),
    { probes: new Map([['a', probed('a', evil)]]), evidence: new Map() },
    opts,
  );
  const m = renderMarkdown(plan, planId(plan), { now: NOW });
  // GitHub links a mention even after &#64; or \@; a word joiner after the @ stops it (escape.ts).
  assert.match(m, /no changelog for x\\\]\\\(https\\:\/\/evil\\\)@\u2060org\/team/);
  assert.ok(!m.includes('](https://evil'));
});

// src/report/fixes.ts on its own: the phrases, links and totals the report is made of.
const read = (name: string, entries: number, cves: number, urgency = '') => ({
  name,
  changelog: true,
  entries,
  cves,
  urgency,
});
const fixes = (over: Partial<Fixes>): Fixes => ({
  cveTotal: 0,
  cves: [],
  urgency: '',
  packages: [],
  packagesTotal: 0,
  ...over,
});

test('fixesPhrase: counts CVEs or entries, names what was not read, never claims 0 CVEs', () => {
  assert.equal(fixesPhrase(undefined), 'CVEs not read');
  assert.equal(fixesPhrase(fixes({})), 'CVEs unknown: no package named as requiring the reboot');
  const kernel = read('linux-image', 2, 3, 'high');
  assert.equal(
    fixesPhrase(fixes({ cveTotal: 3, urgency: 'high', packages: [kernel], packagesTotal: 1 })),
    'fixes 3 CVEs (urgency high)',
  );
  assert.equal(fixesPhrase(fixes({ cveTotal: 1, packages: [kernel], packagesTotal: 1 })), 'fixes 1 CVE');
  assert.equal(
    fixesPhrase(fixes({ packages: [read('a', 1, 0)], packagesTotal: 1 })),
    'no CVE named in 1 changelog entry',
  );
  assert.equal(
    fixesPhrase(fixes({ urgency: 'low', packages: [read('a', 2, 0), read('b', 1, 0)], packagesTotal: 2 })),
    'no CVE named in 3 changelog entries (urgency low)',
  );
  const unread = { name: 'x_y', changelog: false };
  assert.equal(
    fixesPhrase(fixes({ cveTotal: 2, packages: [kernel, unread], packagesTotal: 2 })),
    'fixes 2 CVEs; no changelog for x\\_y',
  );
  // Nothing read: what is missing, escaped by the caller's function, with "…" for the unlisted.
  const none = fixes({ packages: [unread], packagesTotal: 4 });
  assert.equal(fixesPhrase(none), 'CVEs unknown: no Debian changelog on the node (x\\_y, …)');
  assert.equal(fixesPhrase(none, term), 'CVEs unknown: no Debian changelog on the node (x_y, …)');
});

test('cveLinks: only well-formed IDs become links, the first `max`, the rest counted from the total', () => {
  assert.equal(cveLinks(undefined, 3), '');
  assert.equal(cveLinks(fixes({ cveTotal: 5 }), 3), '');
  const ids = ['CVE-2026-12345', 'CVE-2025-0001', 'CVE-2026-1', 'CVE-26-1234', 'javascript:alert(1)'];
  assert.equal(
    cveLinks(fixes({ cveTotal: 9, cves: ids }), 1),
    `[CVE-2026-12345](${CVE_PAGE}CVE-2026-12345) +8 more`,
  );
  assert.equal(
    cveLinks(fixes({ cveTotal: 2, cves: ids }), 40),
    `[CVE-2026-12345](${CVE_PAGE}CVE-2026-12345), [CVE-2025-0001](${CVE_PAGE}CVE-2025-0001)`,
  );
});

function planNode(
  name: string,
  method: PlanNode['update'],
  nodeFixes?: Fixes,
  pendingSince?: string,
): PlanNode {
  return {
    name,
    providerID: '',
    pool: 'np',
    os: 'linux',
    bootID: `boot-${name}`,
    nodeImageVersion: '',
    osImage: '',
    kernel: { running: 'k1', next: 'k2' },
    update: method,
    order: 1,
    evidence: [],
    ...(pendingSince ? { pendingSince } : {}),
    packages: { requiringReboot: [], requiringRebootTotal: 0, sinceBoot: [], sinceBootTotal: 0 },
    ...(nodeFixes ? { fixes: nodeFixes } : {}),
    evictions: [],
    risks: [],
  };
}

test('fixesOverall: distinct IDs, a lower bound when a list was cut, the highest urgency, unread reboots', () => {
  const kernel = read('linux-image', 1, 2);
  const a = fixes({
    cveTotal: 2,
    cves: ['CVE-2026-1000', 'CVE-2026-1001'],
    urgency: 'medium',
    packages: [kernel],
  });
  const b = fixes({
    cveTotal: 2,
    cves: ['CVE-2026-1001', 'CVE-2026-1002'],
    urgency: 'high',
    packages: [kernel],
  });
  assert.deepEqual(fixesOverall([planNode('a', 'reboot', a), planNode('b', 'reboot', b)]), {
    cves: 3,
    exact: true,
    urgency: 'high',
    unread: 0,
  });
  // One node's list cut at 1 of 50: at least 50, not exact.
  const cut = fixes({ cveTotal: 50, cves: ['CVE-2026-2000'], urgency: 'low', packages: [kernel] });
  const unreadFixes = fixes({ packages: [{ name: 'x', changelog: false }], packagesTotal: 1 });
  assert.deepEqual(
    fixesOverall([
      planNode('a', 'reboot', a),
      planNode('c', 'reboot', cut),
      planNode('u', 'reboot', unreadFixes),
      planNode('v', 'reboot'),
      planNode('img', 'node-image-upgrade'),
    ]),
    { cves: 50, exact: false, urgency: 'medium', unread: 2 },
  );
});

test('daysPending: whole days since the sentinel appeared, never negative, unknown without a time', () => {
  assert.equal(daysPending(planNode('a', 'reboot'), NOW), undefined);
  assert.equal(daysPending(planNode('a', 'reboot', undefined, '2025-11-22T12:00:01Z'), NOW), 2);
  assert.equal(daysPending(planNode('a', 'reboot', undefined, '2025-11-22T12:00:00Z'), NOW), 3);
  assert.equal(daysPending(planNode('a', 'reboot', undefined, '2025-11-26T00:00:00Z'), NOW), 0);
});
