// The maintenance window on the nights clocks change. A time in the repeated hour of a fall-back
// night is its first occurrence; a time skipped on a spring-forward night counts from the moment
// the clock jumps past it. Either way a night has one continuous window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inWindow, parseWindow, type Window } from '../../src/gates/window.ts';

/** The open stretches between two instants, scanned minute by minute, as [from, to) ISO pairs. */
function openStretches(window: Window, from: string, to: string): [string, string][] {
  const out: [string, string][] = [];
  let openedAt: number | undefined;
  for (let t = Date.parse(from); t <= Date.parse(to); t += 60_000) {
    const open = inWindow(window, new Date(t));
    if (open && openedAt === undefined) openedAt = t;
    if (!open && openedAt !== undefined) {
      out.push([new Date(openedAt).toISOString(), new Date(t).toISOString()]);
      openedAt = undefined;
    }
  }
  assert.equal(openedAt, undefined, 'the scan ends outside the window');
  return out;
}

const everyDay = 'mon,tue,wed,thu,fri,sat,sun';

// Europe/Berlin, Sunday 25 October 2026: at 01:00Z the clock goes from 03:00 CEST back to 02:00 CET.
test('fall-back night: 22:00–02:30 is one window, ending at the first 02:30 (CEST)', () => {
  const w = parseWindow(everyDay, '22:00', '02:30', 'Europe/Berlin');
  assert.deepEqual(openStretches(w, '2026-10-24T19:00:00Z', '2026-10-25T03:00:00Z'), [
    ['2026-10-24T20:00:00.000Z', '2026-10-25T00:30:00.000Z'],
  ]);
  // 02:15 CET, the repeated hour's second pass: closed (before, the window reopened here).
  assert.equal(inWindow(w, new Date('2026-10-25T01:15:00Z')), false);
});

test('fall-back night: 02:30–04:00 is one window, from the first 02:30 (CEST) to 04:00 CET', () => {
  const w = parseWindow(everyDay, '02:30', '04:00', 'Europe/Berlin');
  assert.deepEqual(openStretches(w, '2026-10-24T23:00:00Z', '2026-10-25T04:00:00Z'), [
    ['2026-10-25T00:30:00.000Z', '2026-10-25T03:00:00.000Z'],
  ]);
  // 02:00 CET, after the clock went back: still open (before, the window closed for half an hour).
  assert.equal(inWindow(w, new Date('2026-10-25T01:00:00Z')), true);
});

test('fall-back night: the window belongs to the day it starts on', () => {
  const w = parseWindow('sat', '22:00', '02:30', 'Europe/Berlin');
  assert.deepEqual(openStretches(w, '2026-10-24T00:00:00Z', '2026-10-26T06:00:00Z'), [
    ['2026-10-24T20:00:00.000Z', '2026-10-25T00:30:00.000Z'],
  ]);
});

// Europe/Berlin, Sunday 29 March 2026: at 01:00Z the clock goes from 02:00 CET to 03:00 CEST.
test('spring-forward night: a skipped end time ends the window when the clock jumps past it', () => {
  const w = parseWindow(everyDay, '22:00', '02:30', 'Europe/Berlin');
  assert.deepEqual(openStretches(w, '2026-03-28T19:00:00Z', '2026-03-29T03:00:00Z'), [
    ['2026-03-28T21:00:00.000Z', '2026-03-29T01:00:00.000Z'],
  ]);
});

test('spring-forward night: a skipped start time opens the window when the clock jumps past it', () => {
  const w = parseWindow(everyDay, '02:30', '04:00', 'Europe/Berlin');
  assert.deepEqual(openStretches(w, '2026-03-28T22:00:00Z', '2026-03-29T04:00:00Z'), [
    ['2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z'],
  ]);
  // A window wholly inside the skipped hour does not open that night: the clock never shows it.
  const skipped = parseWindow(everyDay, '02:10', '02:50', 'Europe/Berlin');
  assert.deepEqual(openStretches(skipped, '2026-03-28T22:00:00Z', '2026-03-29T04:00:00Z'), []);
});

// America/Sao_Paulo, Sunday 4 November 2018: at 03:00Z midnight became 01:00 (the day had no 0:xx).
test('a day whose midnight is skipped: its window starts when the day does', () => {
  const w = parseWindow('sun', '0:00', '06:00', 'America/Sao_Paulo');
  assert.deepEqual(openStretches(w, '2018-11-03T12:00:00Z', '2018-11-04T12:00:00Z'), [
    ['2018-11-04T03:00:00.000Z', '2018-11-04T08:00:00.000Z'],
  ]);
});

// Australia/Lord_Howe moves its clock by half an hour: Sunday 5 April 2026, 02:00 (+11) → 01:30 (+10:30).
test('a half-hour fall-back: 01:45 is its first occurrence', () => {
  const w = parseWindow(everyDay, '01:45', '03:00', 'Australia/Lord_Howe');
  assert.deepEqual(openStretches(w, '2026-04-04T13:00:00Z', '2026-04-04T17:00:00Z'), [
    ['2026-04-04T14:45:00.000Z', '2026-04-04T16:30:00.000Z'],
  ]);
});

test('an ordinary day is unchanged: start included, end excluded, in the zone', () => {
  const w = parseWindow('mon', '9:00', '17:30', 'Europe/Berlin');
  assert.deepEqual(openStretches(w, '2026-11-23T00:00:00Z', '2026-11-24T00:00:00Z'), [
    ['2026-11-23T08:00:00.000Z', '2026-11-23T16:30:00.000Z'],
  ]);
});
