// Pure and loopback-level parts of execution: the maintenance window, kured's lock format,
// the alert gate against Prometheus- and Alertmanager-shaped loopback servers, chat payloads,
// plan-file integrity and staleness.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as k8s from '@kubernetes/client-node';
import { parseWindow, inWindow } from '../../src/gates/window.ts';
import { kuredHolders } from '../../src/lock/kured.ts';
import { AlertGate, blockingAlerts } from '../../src/gates/alerts.ts';
import { chatNotifier, formatFor, payload, render } from '../../src/notify/webhook.ts';
import { readPlanFile } from '../../src/plan/file.ts';
import { staleness } from '../../src/execute/executor.ts';
import { planId } from '../../src/plan/canonical.ts';
import type { Plan } from '../../src/plan/types.ts';
import { parseExecuteSettings } from '../../src/settings.ts';
import { planNode } from '../harness/plan-nodes.ts';

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));
async function serve(
  handler: (path: string, body: string) => { status: number; body: unknown },
): Promise<string> {
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const r = handler(req.url ?? '', body);
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(r.body));
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

test('maintenance window: days, hours, time zones, and windows across midnight', () => {
  const w = parseWindow('mon,tue,wed,thu,fri', '22:00', '06:00', 'Europe/Berlin');
  // Friday 23:30 in Berlin (CET, UTC+1) is in; Saturday 05:00 Berlin still belongs to Friday's window.
  assert.ok(inWindow(w, new Date('2026-11-20T22:30:00Z')));
  assert.ok(inWindow(w, new Date('2026-11-21T04:00:00Z')));
  // Saturday 23:00 Berlin is not (Saturday is no reboot day); Monday 05:00 belongs to Sunday: out.
  assert.ok(!inWindow(w, new Date('2026-11-21T22:00:00Z')));
  assert.ok(!inWindow(w, new Date('2026-11-23T04:00:00Z')));
  // Wednesday noon: outside the hours.
  assert.ok(!inWindow(w, new Date('2026-11-18T11:00:00Z')));
  const day = parseWindow('sat,sun', '9:00', '17:30', 'UTC');
  assert.ok(inWindow(day, new Date('2026-11-22T17:29:00Z')));
  assert.ok(!inWindow(day, new Date('2026-11-22T17:30:00Z')));
  assert.throws(() => parseWindow('monday,funday', '0:00', '1:00', 'UTC'), /reboot-days must list days/);
  assert.throws(() => parseWindow('mon', '25:00', '1:00', 'UTC'), /start-time must be a time of day/);
  assert.throws(
    () => parseWindow('mon', '1:00', '2:00', 'Mars/Olympus'),
    /time-zone "Mars\/Olympus" is not a known IANA time zone/,
  );
});

test("kured's lock: single and multi-owner forms, TTL expiry, unreadable values count as held", () => {
  const now = Date.parse('2026-11-22T10:00:00Z');
  assert.deepEqual(kuredHolders(undefined, now), []);
  assert.deepEqual(
    kuredHolders(
      JSON.stringify({
        nodeID: 'n1',
        metadata: { unschedulable: false },
        created: '2026-11-22T09:00:00Z',
        TTL: 0,
      }),
      now,
    ),
    ['n1'],
  );
  assert.deepEqual(
    kuredHolders(JSON.stringify({ nodeID: 'n1', created: '2026-11-22T09:00:00Z', TTL: 30 * 60 * 1e9 }), now),
    [],
    'expired after 30 minutes',
  );
  assert.deepEqual(
    kuredHolders(JSON.stringify({ nodeID: '', created: '2026-11-22T09:00:00Z', TTL: 0 }), now),
    [],
    'released',
  );
  assert.deepEqual(
    kuredHolders(
      JSON.stringify({
        maxOwners: 2,
        locks: [
          { nodeID: 'a', created: '2026-11-22T09:59:00Z', TTL: 0 },
          { nodeID: 'b', created: '2026-11-22T08:00:00Z', TTL: 1e9 },
        ],
      }),
      now,
    ),
    ['a'],
  );
  assert.deepEqual(kuredHolders('{not json', now), ['(unreadable lock value)']);
});

test('alert gate: include, exclude, firing-only; Prometheus and Alertmanager APIs; unreachable means closed', async () => {
  const alerts = [
    { name: 'Watchdog', state: 'firing' },
    { name: 'KubeNodeNotReady', state: 'pending' },
    { name: 'HighErrorRate', state: 'firing' },
  ];
  assert.deepEqual(
    blockingAlerts(alerts, { exclude: /^Watchdog$/, firingOnly: true }).map((a) => a.name),
    ['HighErrorRate'],
  );
  assert.deepEqual(
    blockingAlerts(alerts, { exclude: /^Watchdog$/, firingOnly: false }).map((a) => a.name),
    ['KubeNodeNotReady', 'HighErrorRate'],
  );
  assert.deepEqual(
    blockingAlerts(alerts, { include: /^Kube/, firingOnly: false }).map((a) => a.name),
    ['KubeNodeNotReady'],
  );

  let firing = true;
  const prom = await serve((path) =>
    path === '/api/v1/alerts'
      ? {
          status: 200,
          body: {
            status: 'success',
            data: {
              alerts: firing
                ? [
                    {
                      labels: { alertname: 'HighErrorRate', severity: 'critical' },
                      state: 'firing',
                      activeAt: '2026-11-22T09:00:00Z',
                      value: '1e+00',
                    },
                  ]
                : [],
            },
          },
        }
      : { status: 404, body: {} },
  );
  const gate = new AlertGate(prom, { firingOnly: true });
  assert.deepEqual(await gate.check(), { open: false, reason: 'active alerts: HighErrorRate' });
  firing = false;
  assert.deepEqual(await gate.check(), { open: true });

  const am = await serve((path) =>
    path.startsWith('/api/v2/alerts')
      ? {
          status: 200,
          body: [
            {
              labels: { alertname: 'DiskFull' },
              status: { state: 'active', silencedBy: [], inhibitedBy: [] },
              fingerprint: 'f',
              startsAt: '2026-11-22T09:00:00Z',
              endsAt: '2026-11-22T11:00:00Z',
              updatedAt: '2026-11-22T09:00:00Z',
              annotations: {},
              receivers: [{ name: 'x' }],
            },
          ],
        }
      : { status: 404, body: {} },
  );
  assert.deepEqual(await new AlertGate(am, { firingOnly: true }).check(), {
    open: false,
    reason: 'active alerts: DiskFull',
  });
  const dead = await new AlertGate('http://127.0.0.1:9', { firingOnly: true }).check();
  assert.equal(dead.open, false);
  assert.match(
    (dead as { reason: string }).reason,
    /cannot read alerts from http:\/\/127\.0\.0\.1:9 .*not rebooting blind/,
  );
});

test('chat notifications: kured-style templates, Slack and Teams payloads, posted at drain, reboot and uncordon', async () => {
  assert.equal(
    render('Draining node %s of {{cluster}} ({{ plan }})', { node: 'n1', plan: 'abc', cluster: 'prod' }),
    'Draining node n1 of prod (abc)',
  );
  assert.equal(formatFor('https://hooks.slack.com/services/T/B/X'), 'slack');
  assert.equal(formatFor('https://prod-12.westeurope.logic.azure.com/workflows/x'), 'teams');
  assert.equal(formatFor('https://contoso.webhook.office.com/webhookb2/x'), 'teams');
  assert.deepEqual(payload('slack', 'hi'), { text: 'hi' });
  const teams = payload('teams', 'hi') as {
    attachments: { contentType: string; content: { type: string; body: { text: string }[] } }[];
  };
  assert.equal(teams.attachments[0]!.contentType, 'application/vnd.microsoft.card.adaptive');
  assert.equal(teams.attachments[0]!.content.body[0]!.text, 'hi');

  const got: unknown[] = [];
  const url = await serve((_p, body) => {
    got.push(JSON.parse(body));
    return { status: 200, body: {} };
  });
  const notify = chatNotifier(
    {
      url: `${url}/hook`,
      format: 'slack',
      templates: {
        drain: 'Draining node %s',
        reboot: 'Rebooting node %s',
        uncordon: 'Node %s rebooted and uncordoned',
      },
      cluster: 'c',
      planId: 'p'.repeat(64),
    },
    () => undefined,
  );
  for (const step of ['cordon', 'drain', 'reboot', 'wait for the node to come back', 'uncordon'])
    notify({ type: 'step', node: 'n1', step });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(got, [
    { text: 'Draining node n1' },
    { text: 'Rebooting node n1' },
    { text: 'Node n1 rebooted and uncordoned' },
  ]);
});

test('a plan file is refused when its content no longer matches its ID', () => {
  const plan: Plan = {
    version: 2,
    cluster: { uid: 'u', name: 'c', server: 's', provider: 'aks' },
    options: { order: 'pool', deleteEmptyDirData: false, force: false, blockingPodSelector: '' },
    nodes: [planNode()],
    upToDate: [],
    unknown: [],
  };
  const good = JSON.stringify({ planId: planId(plan), plan });
  assert.equal(readPlanFile(good).planId, planId(plan));
  const edited = JSON.stringify({
    planId: planId(plan),
    plan: { ...plan, options: { ...plan.options, force: true } },
  });
  assert.throws(
    () => readPlanFile(edited, 'plan.json'),
    /plan\.json was changed after it was made: its content hashes to [0-9a-f]{12}, not the plan ID/,
  );
  assert.throws(
    () => readPlanFile('{"planId":"x","plan":{"version":2}}', 'p.json'),
    /p\.json does not hold a Reboot Pilot plan/,
  );
  assert.throws(() => readPlanFile('nope', 'p.json'), /p\.json is not JSON/);
});

test('staleness: a replaced machine, a reboot since the plan, another kernel', () => {
  const node = (providerID: string, bootID: string, kernelVersion: string) =>
    ({ spec: { providerID }, status: { nodeInfo: { bootID, kernelVersion } } }) as unknown as k8s.V1Node;
  assert.equal(
    staleness(planNode(), node('azure:///x/virtualMachines/0', 'boot-1', '5.15.0-1079-azure')),
    undefined,
  );
  assert.match(
    staleness(planNode(), node('azure:///x/virtualMachines/7', 'boot-1', '5.15.0-1079-azure'))!,
    /machine was replaced/,
  );
  assert.match(
    staleness(planNode(), node('azure:///x/virtualMachines/0', 'boot-2', '5.15.0-1079-azure'))!,
    /booted since the plan was made/,
  );
  assert.match(
    staleness(planNode(), node('azure:///x/virtualMachines/0', 'boot-1', '5.15.0-1080-azure'))!,
    /runs kernel 5\.15\.0-1080-azure, the plan expected 5\.15\.0-1079-azure/,
  );
});

test('execution settings validate labels, URLs and regular expressions', () => {
  const s = parseExecuteSettings({
    'pre-reboot-node-labels': 'reboot-pilot.io/rebooting=true, team=infra',
    'alerts-exclude': '^Watchdog$',
  });
  assert.deepEqual(s.preRebootNodeLabels, { 'reboot-pilot.io/rebooting': 'true', team: 'infra' });
  assert.ok(s.alertsExclude!.test('Watchdog'));
  assert.throws(
    () =>
      parseExecuteSettings({
        'post-reboot-node-labels': 'oops',
        'notify-url': 'ftp://x',
        'alerts-include': '(',
      }),
    (e: Error) =>
      /post-reboot-node-labels must be key=value/.test(e.message) &&
      /notify-url must be an http\(s\) URL/.test(e.message) &&
      /alerts-include is not a valid regular expression/.test(e.message),
  );
});
