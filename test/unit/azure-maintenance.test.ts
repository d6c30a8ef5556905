// The AKS planned maintenance gate, pure: daily, weekly, absolute and relative monthly schedules,
// utcOffset, windows across midnight, notAllowedDates, and the legacy default configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  inMaintenanceWindow,
  inLegacyWindow,
  MaintenanceGate,
  describeMaintenance,
  type MaintenanceWindowSpec,
} from '../../src/gates/maintenance.ts';
import { normaliseMaintenance, chooseMaintenance } from '../../src/azure/facts.ts';

const at = (iso: string) => new Date(iso);
const open = (w: MaintenanceWindowSpec, iso: string) => inMaintenanceWindow(w, at(iso)).open;

test("daily every 5 days from the start date, in the window's UTC offset (MaintenanceConfigurationsList_MaintenanceWindow.json)", () => {
  const w: MaintenanceWindowSpec = {
    schedule: { daily: { intervalDays: 5 } },
    durationHours: 10,
    utcOffset: '-07:00',
    startDate: '2023-01-01',
    startTime: '13:30',
  };
  // 2023-01-06 is 5 days after the start: 13:30-23:30 at -07:00 = 20:30 that day to 06:30 UTC the next.
  assert.equal(open(w, '2023-01-06T20:29:00Z'), false);
  assert.equal(open(w, '2023-01-06T20:30:00Z'), true);
  assert.equal(open(w, '2023-01-07T06:29:00Z'), true, 'across midnight UTC, still the window of the 6th');
  assert.equal(open(w, '2023-01-07T06:30:00Z'), false);
  assert.equal(open(w, '2023-01-07T21:00:00Z'), false, 'the 7th is not a window day');
  assert.equal(open(w, '2022-12-27T21:00:00Z'), false, 'nothing before the start date');
  assert.equal(open(w, '2023-01-01T21:00:00Z'), true, 'the start date itself');
  const r = inMaintenanceWindow(w, at('2023-01-06T21:00:00Z'));
  assert.deepEqual(r, { open: true, until: at('2023-01-07T06:30:00Z') });
});

test('weekly every 2 weeks on a weekday, counted from the first such day on or after the start', () => {
  const w: MaintenanceWindowSpec = {
    schedule: { weekly: { intervalWeeks: 2, dayOfWeek: 'Tuesday' } },
    durationHours: 4,
    utcOffset: '+00:00',
    startDate: '2025-01-01',
    startTime: '02:00',
  };
  // First Tuesday on/after Wed 2025-01-01 is 2025-01-07; then 01-21, 02-04 ...
  assert.equal(open(w, '2025-01-07T03:00:00Z'), true);
  assert.equal(open(w, '2025-01-14T03:00:00Z'), false, 'the off week');
  assert.equal(open(w, '2025-01-21T03:00:00Z'), true);
  assert.equal(open(w, '2025-01-21T06:00:00Z'), false, 'after the 4 hours');
  assert.equal(open(w, '2025-01-22T03:00:00Z'), false, 'a Wednesday');
});

test('absolute monthly: day of month every 3 months; a day the month lacks falls on its last day', () => {
  const w: MaintenanceWindowSpec = {
    schedule: { absoluteMonthly: { intervalMonths: 3, dayOfMonth: 15 } },
    durationHours: 5,
    utcOffset: '+00:00',
    startDate: '2023-01-01',
    startTime: '08:30',
  };
  assert.equal(open(w, '2023-01-15T09:00:00Z'), true);
  assert.equal(open(w, '2023-02-15T09:00:00Z'), false);
  assert.equal(open(w, '2023-04-15T09:00:00Z'), true);
  assert.equal(open(w, '2023-04-15T13:30:00Z'), false);
  const end: MaintenanceWindowSpec = {
    schedule: { absoluteMonthly: { intervalMonths: 1, dayOfMonth: 31 } },
    durationHours: 2,
    startTime: '00:00',
  };
  assert.equal(open(end, '2025-04-30T01:00:00Z'), true);
  assert.equal(open(end, '2025-05-30T01:00:00Z'), false);
  assert.equal(open(end, '2025-05-31T01:00:00Z'), true);
});

test('relative monthly: the second Tuesday (patch Tuesday) and the last Friday, with a +05:30 offset', () => {
  const second: MaintenanceWindowSpec = {
    schedule: { relativeMonthly: { intervalMonths: 1, weekIndex: 'Second', dayOfWeek: 'Tuesday' } },
    durationHours: 6,
    utcOffset: '+05:30',
    startTime: '22:00',
  };
  // 2025-06-10 is June's second Tuesday: 22:00 IST = 16:30 UTC.
  assert.equal(open(second, '2025-06-10T16:29:00Z'), false);
  assert.equal(open(second, '2025-06-10T16:30:00Z'), true);
  assert.equal(open(second, '2025-06-10T22:00:00Z'), true, 'past midnight IST, still its window');
  assert.equal(open(second, '2025-06-03T17:00:00Z'), false, 'the first Tuesday');
  assert.equal(open(second, '2025-06-17T17:00:00Z'), false, 'the third Tuesday');
  const last: MaintenanceWindowSpec = {
    schedule: { relativeMonthly: { intervalMonths: 1, weekIndex: 'Last', dayOfWeek: 'Friday' } },
    durationHours: 4,
    startTime: '20:00',
  };
  assert.equal(open(last, '2025-05-30T21:00:00Z'), true);
  assert.equal(open(last, '2025-05-23T21:00:00Z'), false);
});

test('notAllowedDates close an otherwise open window and say why', () => {
  const w: MaintenanceWindowSpec = {
    schedule: { daily: { intervalDays: 1 } },
    durationHours: 8,
    utcOffset: '+00:00',
    startDate: '2023-01-01',
    startTime: '00:00',
    notAllowedDates: [{ start: '2023-12-23', end: '2024-01-05' }],
  };
  assert.equal(open(w, '2023-12-22T01:00:00Z'), true);
  assert.deepEqual(inMaintenanceWindow(w, at('2023-12-23T01:00:00Z')), {
    open: false,
    reason: '2023-12-23 is a not-allowed date (2023-12-23 to 2024-01-05)',
  });
  assert.equal(open(w, '2024-01-05T01:00:00Z'), false, 'the end date is included');
  assert.equal(open(w, '2024-01-06T01:00:00Z'), true);
});

test('legacy default configuration: timeInWeek hour slots in UTC and notAllowedTime', () => {
  const l = {
    timeInWeek: [{ day: 'Monday', hourSlots: [1, 2] }],
    notAllowedTime: [{ start: '2025-06-16T00:00:00.000Z', end: '2025-06-17T00:00:00.000Z' }],
  };
  assert.equal(inLegacyWindow(l, at('2025-06-09T01:30:00Z')).open, true);
  assert.equal(inLegacyWindow(l, at('2025-06-09T03:00:00Z')).open, false);
  assert.equal(inLegacyWindow(l, at('2025-06-10T01:30:00Z')).open, false);
  assert.deepEqual(inLegacyWindow(l, at('2025-06-16T01:30:00Z')), {
    open: false,
    reason: 'not allowed from 2025-06-16T00:00:00.000Z to 2025-06-17T00:00:00.000Z',
  });
});

test('the gate: open inside, closed outside with the configuration described; SDK shapes normalised; first wanted config chosen', async () => {
  // The 25.x SDK deserialises startDate and notAllowedDates into Date objects.
  const fromSdk = normaliseMaintenance({
    name: 'aksManagedNodeOSUpgradeSchedule',
    maintenanceWindow: {
      schedule: { weekly: { intervalWeeks: 1, dayOfWeek: 'Saturday' } },
      durationHours: 4,
      utcOffset: '+01:00',
      startDate: new Date('2025-01-01'),
      startTime: '01:00',
      notAllowedDates: [{ start: new Date('2025-12-20'), end: new Date('2025-12-31') }],
    },
  });
  assert.deepEqual(fromSdk.maintenanceWindow?.notAllowedDates, [{ start: '2025-12-20', end: '2025-12-31' }]);
  assert.equal(
    describeMaintenance(fromSdk),
    'aksManagedNodeOSUpgradeSchedule: every Saturday at 01:00 UTC+01:00 for 4 h from 2025-01-01, not on 2025-12-20..2025-12-31',
  );
  const gate = new MaintenanceGate(fromSdk);
  const ctx = (iso: string) => ({ node: {}, now: at(iso), done: 0 });
  assert.deepEqual(await gate.check(ctx('2025-06-07T01:00:00Z')), { open: true });
  const closed = await gate.check(ctx('2025-06-08T01:00:00Z'));
  assert.equal(closed.open, false);
  assert.match(
    closed.reason,
    /^outside the maintenance window aksManagedNodeOSUpgradeSchedule: every Saturday/,
  );
  const legacy = normaliseMaintenance({ name: 'default', timeInWeek: [{ day: 'Sunday', hourSlots: [3] }] });
  assert.equal(
    chooseMaintenance([legacy, fromSdk], ['aksManagedNodeOSUpgradeSchedule', 'default'])?.name,
    'aksManagedNodeOSUpgradeSchedule',
  );
  assert.equal(chooseMaintenance([legacy], ['aksManagedNodeOSUpgradeSchedule', 'default'])?.name, 'default');
  assert.equal(chooseMaintenance([fromSdk], []), undefined);
});
