// The maintenance window, kured's way: reboot days, a start and an end time of day, a time
// zone. An end before the start spans midnight (22:00–06:00 on a Friday runs into Saturday
// morning, and counts as Friday's window).
// Nights the clock changes: a time of day means the first moment of that day the clock reads it
// or a later time. So on a fall-back night a time in the repeated hour is its first occurrence
// (summer time: 22:00–02:30 ends at the first 02:30, 02:30–04:00 starts there), and on a
// spring-forward night a skipped time counts from the moment the clock jumps past it (02:30
// skipped from 02:00 to 03:00 is 03:00). Either way a night has one continuous window; comparing
// wall-clock minutes instead closed and reopened it in the repeated hour.
import { DateTime } from 'luxon';
import { UserError } from '../errors.ts';
import { OPEN, type Gate, type GateContext, type GateResult } from './types.ts';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export interface Window {
  days: Set<number>; // luxon weekday, 1 = Monday
  startMin: number;
  endMin: number;
  zone: string;
}

function minutes(time: string, what: string): number {
  const match = time.trim().match(/^(\d{1,2}):(\d{2})(?::(\d{2}))?$/);
  if (!match || Number(match[1]) > 23 || Number(match[2]) > 59)
    throw new UserError(`${what} must be a time of day like 22:00, not "${time}"`);
  return Number(match[1]) * 60 + Number(match[2]) + (match[3] ? Number(match[3]) / 60 : 0);
}

export function parseWindow(days: string, start: string, end: string, zone: string): Window {
  const set = new Set<number>();
  for (const raw of days
    .split(',')
    .map((day) => day.trim().toLowerCase().slice(0, 3))
    .filter(Boolean)) {
    const index = DAYS.indexOf(raw as (typeof DAYS)[number]);
    if (index < 0) throw new UserError(`reboot-days must list days like mon,tue,...,sun, not "${days}"`);
    set.add(index + 1);
  }
  if (!DateTime.now().setZone(zone).isValid)
    throw new UserError(`time-zone "${zone}" is not a known IANA time zone`);
  return { days: set, startMin: minutes(start, 'start-time'), endMin: minutes(end, 'end-time'), zone };
}

const MINUTE = 60_000;

/** The zone's UTC offset in minutes at an instant. */
const offsetAt = (instant: number, zone: string) => DateTime.fromMillis(instant, { zone }).offset;

/** The wall clock at an instant, written as if it were UTC (so clock readings compare as numbers). */
const wallAt = (instant: number, zone: string) => instant + offsetAt(instant, zone) * MINUTE;

/**
 * The instant `minutes` after midnight means on a calendar day (midnight UTC of that date) in
 * `zone`: the first moment at which the clock reads that time or later (see the header).
 */
export function instantOf(date: number, minutes: number, zone: string): number {
  const wall = date + Math.round(minutes * MINUTE);
  // The offsets in force around that wall time; a clock change between them gives two readings.
  const offsets = [offsetAt(wall - 14 * 60 * MINUTE, zone), offsetAt(wall + 14 * 60 * MINUTE, zone)];
  const candidates = offsets.map((offset) => wall - offset * MINUTE).sort((a, b) => a - b);
  const exact = candidates.find((instant) => wallAt(instant, zone) === wall);
  if (exact !== undefined) return exact;
  // Skipped by a spring-forward change: find the jump, the first instant reading a later time.
  let [before, after] = [candidates[0]!, candidates[candidates.length - 1]!];
  while (after - before > 1) {
    const middle = Math.floor((before + after) / 2);
    if (wallAt(middle, zone) >= wall) after = middle;
    else before = middle;
  }
  return after;
}

export function inWindow(window: Window, at: Date): boolean {
  const now = at.getTime();
  const local = DateTime.fromMillis(now, { zone: window.zone });
  const today = Date.UTC(local.year, local.month - 1, local.day);
  const day = 24 * 60 * MINUTE;
  const crossesMidnight = window.startMin > window.endMin;
  // The window that started today, or (across midnight) the one that started yesterday.
  for (const start of crossesMidnight ? [today, today - day] : [today]) {
    const weekday = DateTime.fromMillis(start, { zone: 'utc' }).weekday;
    if (!window.days.has(weekday)) continue;
    const opens = instantOf(start, window.startMin, window.zone);
    const closes = instantOf(crossesMidnight ? start + day : start, window.endMin, window.zone);
    if (now >= opens && now < closes) return true;
  }
  return false;
}

export class WindowGate implements Gate {
  readonly name = 'maintenance window';
  private readonly window: Window;
  private readonly text: string;
  constructor(window: Window, text: string) {
    this.window = window;
    this.text = text;
  }
  check(context: GateContext): Promise<GateResult> {
    const reason = `outside the maintenance window (${this.text})`;
    return Promise.resolve(inWindow(this.window, context.now) ? OPEN : { open: false, reason });
  }
}
