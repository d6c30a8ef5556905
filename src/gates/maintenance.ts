// AKS planned maintenance as a window gate. Two shapes (Microsoft.ContainerService
// maintenanceConfigurations):
//  - maintenanceWindow (aksManagedNodeOSUpgradeSchedule, aksManagedAutoUpgradeSchedule, and newer
//    `default` configs): a schedule — daily {intervalDays}, weekly {intervalWeeks, dayOfWeek},
//    absoluteMonthly {intervalMonths, dayOfMonth}, relativeMonthly {intervalMonths, weekIndex,
//    dayOfWeek} — starting at startTime for durationHours, counted in utcOffset from startDate,
//    with notAllowedDates (inclusive date ranges) blacked out;
//  - the legacy `default`: timeInWeek [{day, hourSlots}] in UTC, notAllowedTime [{start, end}].
// Pure: the configuration is read at the edge (src/azure/facts.ts) and normalised to these types.
import { DateTime } from 'luxon';
import { OPEN, type Gate, type GateContext, type GateResult } from './types.ts';

export type WeekDayName = 'Monday' | 'Tuesday' | 'Wednesday' | 'Thursday' | 'Friday' | 'Saturday' | 'Sunday';

export interface MaintenanceSchedule {
  daily?: { intervalDays: number };
  weekly?: { intervalWeeks: number; dayOfWeek: string };
  absoluteMonthly?: { intervalMonths: number; dayOfMonth: number };
  relativeMonthly?: { intervalMonths: number; weekIndex: string; dayOfWeek: string };
}

export interface MaintenanceWindowSpec {
  schedule: MaintenanceSchedule;
  durationHours: number;
  /** "+05:30"; default "+00:00". */
  utcOffset?: string;
  /** "YYYY-MM-DD" in utcOffset; default: no start (intervals count from 1970-01-05, a Monday). */
  startDate?: string;
  /** "HH:mm". */
  startTime: string;
  /** Inclusive "YYYY-MM-DD" ranges (in utcOffset) on which no maintenance may happen. */
  notAllowedDates?: { start: string; end: string }[];
}

export interface LegacyMaintenance {
  timeInWeek?: { day?: string; hourSlots?: number[] }[];
  notAllowedTime?: { start?: string; end?: string }[];
}

export interface MaintenanceConfig {
  name: string;
  maintenanceWindow?: MaintenanceWindowSpec;
  legacy?: LegacyMaintenance;
}

const DAYS: Record<string, number> = {
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
  sunday: 7,
};
const WEEK_INDEX: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, last: -1 };

function weekday(name: string): number {
  const d = DAYS[name.trim().toLowerCase()];
  if (!d) throw new Error(`unknown day of week "${name}"`);
  return d;
}

function zoneOf(offset: string | undefined): string {
  const m = (offset ?? '+00:00').trim().match(/^([+-])(\d{2}):(\d{2})$/);
  if (!m) throw new Error(`utcOffset must look like +05:30, not "${offset}"`);
  return m[2] === '00' && m[3] === '00' ? 'UTC' : `UTC${m[1]}${m[2]}:${m[3]}`;
}

const EPOCH_MONDAY = '1970-01-05';

/** Whether a maintenance window starts on this local date (start of day in the window's zone). */
export function startsOn(w: MaintenanceWindowSpec, day: DateTime): boolean {
  const zone = day.zoneName ?? 'UTC';
  const start = DateTime.fromISO(w.startDate ?? EPOCH_MONDAY, { zone }).startOf('day');
  if (day < start) return false;
  const s = w.schedule;
  if (s.daily) {
    const days = Math.round(day.diff(start, 'days').days);
    return days % Math.max(1, s.daily.intervalDays) === 0;
  }
  if (s.weekly) {
    if (day.weekday !== weekday(s.weekly.dayOfWeek)) return false;
    // Weeks count from the first such weekday on or after the start date.
    const first = start.plus({ days: (weekday(s.weekly.dayOfWeek) - start.weekday + 7) % 7 });
    const weeks = Math.round(day.diff(first, 'days').days / 7);
    return weeks % Math.max(1, s.weekly.intervalWeeks) === 0;
  }
  const monthsSince = () => (day.year - start.year) * 12 + (day.month - start.month);
  if (s.absoluteMonthly) {
    // A day the month does not have (31 in April) falls on the month's last day.
    const dom = Math.min(s.absoluteMonthly.dayOfMonth, day.daysInMonth!);
    return day.day === dom && monthsSince() % Math.max(1, s.absoluteMonthly.intervalMonths) === 0;
  }
  if (s.relativeMonthly) {
    const wd = weekday(s.relativeMonthly.dayOfWeek);
    if (day.weekday !== wd) return false;
    const idx = WEEK_INDEX[s.relativeMonthly.weekIndex.trim().toLowerCase()];
    if (idx === undefined) throw new Error(`unknown weekIndex "${s.relativeMonthly.weekIndex}"`);
    const nth = idx === -1 ? day.plus({ days: 7 }).month !== day.month : Math.ceil(day.day / 7) === idx;
    return nth && monthsSince() % Math.max(1, s.relativeMonthly.intervalMonths) === 0;
  }
  return false;
}

function blackedOut(w: MaintenanceWindowSpec, local: DateTime): { start: string; end: string } | undefined {
  const d = local.toISODate()!;
  return (w.notAllowedDates ?? []).find((r) => r.start <= d && d <= r.end);
}

export type WindowAnswer = { open: true; until: Date } | { open: false; reason?: string };

/** Whether `at` falls inside one of the schedule's windows (which may span midnight and days). */
export function inMaintenanceWindow(w: MaintenanceWindowSpec, at: Date): WindowAnswer {
  const zone = zoneOf(w.utcOffset);
  const local = DateTime.fromJSDate(at, { zone });
  const t = w.startTime.trim().match(/^(\d{1,2}):(\d{2})$/);
  if (!t) throw new Error(`startTime must look like 13:30, not "${w.startTime}"`);
  const back = Math.ceil((Number(t[1]) * 60 + Number(t[2]) + w.durationHours * 60) / 1440);
  for (let i = 0; i <= back; i++) {
    const day = local.startOf('day').minus({ days: i });
    if (!startsOn(w, day)) continue;
    const start = day.set({ hour: Number(t[1]), minute: Number(t[2]) });
    const end = start.plus({ hours: w.durationHours });
    if (local >= start && local < end) {
      const b = blackedOut(w, local);
      if (b)
        return { open: false, reason: `${local.toISODate()} is a not-allowed date (${b.start} to ${b.end})` };
      return { open: true, until: end.toJSDate() };
    }
  }
  return { open: false };
}

export function inLegacyWindow(l: LegacyMaintenance, at: Date): WindowAnswer {
  const utc = DateTime.fromJSDate(at, { zone: 'UTC' });
  const blocked = (l.notAllowedTime ?? []).find(
    (s) => s.start && s.end && at >= new Date(s.start) && at < new Date(s.end),
  );
  if (blocked) return { open: false, reason: `not allowed from ${blocked.start} to ${blocked.end}` };
  const slot = (l.timeInWeek ?? []).find(
    (t) => t.day && weekday(t.day) === utc.weekday && (t.hourSlots ?? []).includes(utc.hour),
  );
  return slot ? { open: true, until: utc.startOf('hour').plus({ hours: 1 }).toJSDate() } : { open: false };
}

export function describeMaintenance(c: MaintenanceConfig): string {
  const w = c.maintenanceWindow;
  if (w) {
    const s = w.schedule;
    const what = s.daily
      ? `every ${s.daily.intervalDays === 1 ? '' : `${s.daily.intervalDays} `}day${s.daily.intervalDays === 1 ? '' : 's'}`
      : s.weekly
        ? `every ${s.weekly.intervalWeeks === 1 ? '' : `${s.weekly.intervalWeeks} weeks on `}${s.weekly.dayOfWeek}`
        : s.absoluteMonthly
          ? `day ${s.absoluteMonthly.dayOfMonth} of every ${s.absoluteMonthly.intervalMonths === 1 ? '' : `${s.absoluteMonthly.intervalMonths} `}month${s.absoluteMonthly.intervalMonths === 1 ? '' : 's'}`
          : s.relativeMonthly
            ? `the ${s.relativeMonthly.weekIndex.toLowerCase()} ${s.relativeMonthly.dayOfWeek} of every ${s.relativeMonthly.intervalMonths === 1 ? '' : `${s.relativeMonthly.intervalMonths} `}month${s.relativeMonthly.intervalMonths === 1 ? '' : 's'}`
            : 'no schedule';
    const blackout = w.notAllowedDates?.length
      ? `, not on ${w.notAllowedDates.map((d) => (d.start === d.end ? d.start : `${d.start}..${d.end}`)).join(', ')}`
      : '';
    return `${c.name}: ${what} at ${w.startTime} UTC${w.utcOffset ?? '+00:00'} for ${w.durationHours} h${w.startDate ? ` from ${w.startDate}` : ''}${blackout}`;
  }
  const slots = (c.legacy?.timeInWeek ?? [])
    .map((t) => `${t.day} ${(t.hourSlots ?? []).join(',')}h`)
    .join('; ');
  return `${c.name}: ${slots || 'no allowed time'} UTC`;
}

/** Closed outside the configuration's windows (the AKS planned maintenance of the cluster). */
export class MaintenanceGate implements Gate {
  readonly name: string;
  private readonly config: MaintenanceConfig;

  constructor(config: MaintenanceConfig) {
    this.config = config;
    this.name = `AKS planned maintenance (${config.name})`;
  }

  /** Pure: whether nodes may start at `at` (also used to estimate the fit into the next window). */
  isOpen(at: Date): boolean {
    const c = this.config;
    return (
      c.maintenanceWindow
        ? inMaintenanceWindow(c.maintenanceWindow, at)
        : c.legacy
          ? inLegacyWindow(c.legacy, at)
          : { open: false }
    ).open;
  }

  async check(ctx: GateContext): Promise<GateResult> {
    const c = this.config;
    const a = c.maintenanceWindow
      ? inMaintenanceWindow(c.maintenanceWindow, ctx.now)
      : c.legacy
        ? inLegacyWindow(c.legacy, ctx.now)
        : ({ open: false, reason: 'the configuration has no window' } as WindowAnswer);
    if (a.open) return OPEN;
    return {
      open: false,
      reason: `${a.reason ? `${a.reason}; ` : ''}outside the maintenance window ${describeMaintenance(c)}`,
    };
  }
}
