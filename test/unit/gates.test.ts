// The gates behind the Gate seam (src/gates/types.ts): each answers OPEN, or closed with a reason
// that says why. The window and maintenance gates are pure; the alert gate reads a loopback
// Prometheus here, which answers 200 with what no Prometheus sends. (The blocking-pod gate needs
// the API server: test/integration/gates.test.ts.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OPEN, type Gate, type GateContext, type GateResult } from '../../src/gates/types.ts';
import { WindowGate, parseWindow } from '../../src/gates/window.ts';
import { MaintenanceGate } from '../../src/gates/maintenance.ts';
import { AlertGate } from '../../src/gates/alerts.ts';

const context = (iso: string): GateContext => ({ node: {}, now: new Date(iso), done: 0 });

test('OPEN is the one open answer; a closed answer carries its reason', async () => {
  assert.deepEqual(OPEN, { open: true });
  const gates: Gate[] = [
    new WindowGate(parseWindow('sat', '22:00', '06:00', 'UTC'), 'sat 22:00–06:00 UTC'),
    new MaintenanceGate({ name: 'default' }),
  ];
  assert.deepEqual(
    gates.map((gate) => gate.name),
    ['maintenance window', 'AKS planned maintenance (default)'],
  );
  const saturdayNight: GateResult[] = await Promise.all(
    gates.map((gate) => gate.check(context('2026-01-10T23:00:00Z'))),
  );
  assert.deepEqual(saturdayNight, [
    OPEN,
    {
      open: false,
      reason: 'the configuration has no window; outside the maintenance window default: no allowed time UTC',
    },
  ]);
  assert.deepEqual(await gates[0]!.check(context('2026-01-11T06:00:00Z')), {
    open: false,
    reason: 'outside the maintenance window (sat 22:00–06:00 UTC)',
  });
});

const servers: Server[] = [];
after(() => servers.forEach((server) => server.close()));

/** A loopback server answering every request 200 with `text`. */
async function answering(text: string): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(text);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('an alert source that answers 200 with something else is unreadable: closed, not rebooting blind', async () => {
  const answers = [
    'null',
    '"success"',
    'not json',
    JSON.stringify({ status: 'error', data: { alerts: [] } }),
    JSON.stringify({ status: 'success', data: {} }),
  ];
  for (const text of answers) {
    const url = await answering(text);
    assert.deepEqual(
      await new AlertGate(url, { firingOnly: true }).check(),
      {
        open: false,
        reason: `cannot read alerts from ${url} (unexpected answer from ${url}/api/v1/alerts); not rebooting blind`,
      },
      text,
    );
  }
  // The documented answer with no alert opens the gate.
  const quiet = await answering(JSON.stringify({ status: 'success', data: { alerts: [] } }));
  assert.deepEqual(await new AlertGate(quiet, { firingOnly: true }).check(), OPEN);
});
