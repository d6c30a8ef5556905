// The maintenance window, kured's way: reboot days, a start and an end time of day, a time
// zone. An end before the start spans midnight (22:00–06:00 on a Friday runs into Saturday
// morning, and counts as Friday's window).
import { DateTime } from 'luxon';
import { UserError } from '../kube/client.ts';
import { OPEN, type Gate, type GateContext, type GateResult } from './types.ts';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export interface Window {
  days: Set<number>; // luxon weekday, 1 = Monday
  startMin: number;
  endMin: number;
  zone: string;
}

function minutes(t: string, what: string): number {
  const m = t.trim().match(/^(\d{1,2}):(\d{2})(?::(\d{2}))?$/);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new UserError(`${what} must be a time of day like 22:00, not "${t}"`);
  return Number(m[1]) * 60 + Number(m[2]) + (m[3] ? Number(m[3]) / 60 : 0);
}

export function parseWindow(days: string, start: string, end: string, zone: string): Window {
  const set = new Set<number>();
  for (const raw of days.split(',').map((d) => d.trim().toLowerCase().slice(0, 3)).filter(Boolean)) {
    const i = DAYS.indexOf(raw as (typeof DAYS)[number]);
    if (i < 0) throw new UserError(`reboot-days must list days like mon,tue,...,sun, not "${days}"`);
    set.add(i + 1);
  }
  if (!DateTime.now().setZone(zone).isValid) throw new UserError(`time-zone "${zone}" is not a known IANA time zone`);
  return { days: set, startMin: minutes(start, 'start-time'), endMin: minutes(end, 'end-time'), zone };
}

export function inWindow(w: Window, at: Date): boolean {
  const t = DateTime.fromJSDate(at).setZone(w.zone);
  const m = t.hour * 60 + t.minute + t.second / 60;
  if (w.startMin <= w.endMin) return w.days.has(t.weekday) && m >= w.startMin && m < w.endMin;
  // Across midnight: the part after the start belongs to today, the part before the end to yesterday.
  if (m >= w.startMin) return w.days.has(t.weekday);
  if (m < w.endMin) return w.days.has(t.minus({ days: 1 }).weekday);
  return false;
}

export class WindowGate implements Gate {
  readonly name = 'maintenance window';
  private readonly w: Window;
  private readonly text: string;
  constructor(w: Window, text: string) {
    this.w = w;
    this.text = text;
  }
  async check(ctx: GateContext): Promise<GateResult> {
    return inWindow(this.w, ctx.now) ? OPEN : { open: false, reason: `outside the maintenance window (${this.text})` };
  }
}
