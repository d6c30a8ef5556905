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
  const day = DAYS[name.trim().toLowerCase()];
  if (!day) throw new Error(`unknown day of week "${name}"`);
  return day;
}

function zoneOf(offset: string | undefined): string {
  const match = (offset ?? '+00:00').trim().match(/^([+-])(\d{2}):(\d{2})$/);
  if (!match) throw new Error(`utcOffset must look like +05:30, not "${offset}"`);
  return match[2] === '00' && match[3] === '00' ? 'UTC' : `UTC${match[1]}${match[2]}:${match[3]}`;
}

const EPOCH_MONDAY = '1970-01-05';

/** Whether a maintenance window starts on this local date (start of day in the window's zone). */
export function startsOn(spec: MaintenanceWindowSpec, day: DateTime): boolean {
  const zone = day.zoneName ?? 'UTC';
  const start = DateTime.fromISO(spec.startDate ?? EPOCH_MONDAY, { zone }).startOf('day');
  if (day < start) return false;
  const schedule = spec.schedule;
  if (schedule.daily) {
    const days = Math.round(day.diff(start, 'days').days);
    return days % Math.max(1, schedule.daily.intervalDays) === 0;
  }
  if (schedule.weekly) {
    if (day.weekday !== weekday(schedule.weekly.dayOfWeek)) return false;
    // Weeks count from the first such weekday on or after the start date.
    const first = start.plus({ days: (weekday(schedule.weekly.dayOfWeek) - start.weekday + 7) % 7 });
    const weeks = Math.round(day.diff(first, 'days').days / 7);
    return weeks % Math.max(1, schedule.weekly.intervalWeeks) === 0;
  }
  const monthsSince = () => (day.year - start.year) * 12 + (day.month - start.month);
  if (schedule.absoluteMonthly) {
    // A day the month does not have (31 in April) falls on the month's last day.
    const dayOfMonth = Math.min(schedule.absoluteMonthly.dayOfMonth, day.daysInMonth!);
    const interval = Math.max(1, schedule.absoluteMonthly.intervalMonths);
    return day.day === dayOfMonth && monthsSince() % interval === 0;
  }
  if (schedule.relativeMonthly) {
    const { dayOfWeek, weekIndex, intervalMonths } = schedule.relativeMonthly;
    if (day.weekday !== weekday(dayOfWeek)) return false;
    const index = WEEK_INDEX[weekIndex.trim().toLowerCase()];
    if (index === undefined) throw new Error(`unknown weekIndex "${weekIndex}"`);
    const nth = index === -1 ? day.plus({ days: 7 }).month !== day.month : Math.ceil(day.day / 7) === index;
    return nth && monthsSince() % Math.max(1, intervalMonths) === 0;
  }
  return false;
}

function blackedOut(
  spec: MaintenanceWindowSpec,
  local: DateTime,
): { start: string; end: string } | undefined {
  const date = local.toISODate()!;
  return (spec.notAllowedDates ?? []).find((range) => range.start <= date && date <= range.end);
}

export type WindowAnswer = { open: true; until: Date } | { open: false; reason?: string };

/** Whether `at` falls inside one of the schedule's windows (which may span midnight and days). */
export function inMaintenanceWindow(spec: MaintenanceWindowSpec, at: Date): WindowAnswer {
  const zone = zoneOf(spec.utcOffset);
  const local = DateTime.fromJSDate(at, { zone });
  const time = spec.startTime.trim().match(/^(\d{1,2}):(\d{2})$/);
  if (!time) throw new Error(`startTime must look like 13:30, not "${spec.startTime}"`);
  const [hour, minute] = [Number(time[1]), Number(time[2])];
  // The windows that can still be open: those that started today or up to `back` days ago.
  const back = Math.ceil((hour * 60 + minute + spec.durationHours * 60) / 1440);
  for (let daysAgo = 0; daysAgo <= back; daysAgo++) {
    const day = local.startOf('day').minus({ days: daysAgo });
    if (!startsOn(spec, day)) continue;
    const start = day.set({ hour, minute });
    const end = start.plus({ hours: spec.durationHours });
    if (local >= start && local < end) {
      const blackout = blackedOut(spec, local);
      if (!blackout) return { open: true, until: end.toJSDate() };
      const range = `${blackout.start} to ${blackout.end}`;
      return { open: false, reason: `${local.toISODate()} is a not-allowed date (${range})` };
    }
  }
  return { open: false };
}

export function inLegacyWindow(legacy: LegacyMaintenance, at: Date): WindowAnswer {
  const utc = DateTime.fromJSDate(at, { zone: 'UTC' });
  const blocked = (legacy.notAllowedTime ?? []).find(
    (span) => span.start && span.end && at >= new Date(span.start) && at < new Date(span.end),
  );
  if (blocked) return { open: false, reason: `not allowed from ${blocked.start} to ${blocked.end}` };
  const slot = (legacy.timeInWeek ?? []).find(
    (entry) => entry.day && weekday(entry.day) === utc.weekday && (entry.hourSlots ?? []).includes(utc.hour),
  );
  return slot ? { open: true, until: utc.startOf('hour').plus({ hours: 1 }).toJSDate() } : { open: false };
}

/** "every day", "every 3 days": an interval of whole units. */
const every = (interval: number, unit: string) =>
  interval === 1 ? `every ${unit}` : `every ${interval} ${unit}s`;

/** The schedule in words: "every Saturday", "the first Wednesday of every 2 months". */
function scheduleText(schedule: MaintenanceSchedule): string {
  const { daily, weekly, absoluteMonthly, relativeMonthly } = schedule;
  if (daily) return every(daily.intervalDays, 'day');
  if (weekly) {
    const weeks = weekly.intervalWeeks === 1 ? '' : `${weekly.intervalWeeks} weeks on `;
    return `every ${weeks}${weekly.dayOfWeek}`;
  }
  if (absoluteMonthly)
    return `day ${absoluteMonthly.dayOfMonth} of ${every(absoluteMonthly.intervalMonths, 'month')}`;
  if (relativeMonthly) {
    const { weekIndex, dayOfWeek, intervalMonths } = relativeMonthly;
    return `the ${weekIndex.toLowerCase()} ${dayOfWeek} of ${every(intervalMonths, 'month')}`;
  }
  return 'no schedule';
}

export function describeMaintenance(config: MaintenanceConfig): string {
  const spec = config.maintenanceWindow;
  if (spec) {
    const dates = spec.notAllowedDates?.map((range) =>
      range.start === range.end ? range.start : `${range.start}..${range.end}`,
    );
    const blackout = dates?.length ? `, not on ${dates.join(', ')}` : '';
    const from = spec.startDate ? ` from ${spec.startDate}` : '';
    const when = `${spec.startTime} UTC${spec.utcOffset ?? '+00:00'} for ${spec.durationHours} h`;
    return `${config.name}: ${scheduleText(spec.schedule)} at ${when}${from}${blackout}`;
  }
  const slots = (config.legacy?.timeInWeek ?? [])
    .map((entry) => `${entry.day} ${(entry.hourSlots ?? []).join(',')}h`)
    .join('; ');
  return `${config.name}: ${slots || 'no allowed time'} UTC`;
}

/** The configuration's answer at `at`: its schedule, else its legacy slots, else closed. */
function answerAt(config: MaintenanceConfig, at: Date): WindowAnswer {
  if (config.maintenanceWindow) return inMaintenanceWindow(config.maintenanceWindow, at);
  if (config.legacy) return inLegacyWindow(config.legacy, at);
  return { open: false, reason: 'the configuration has no window' };
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
    return answerAt(this.config, at).open;
  }

  check(context: GateContext): Promise<GateResult> {
    const answer = answerAt(this.config, context.now);
    if (answer.open) return Promise.resolve(OPEN);
    const why = answer.reason ? `${answer.reason}; ` : '';
    const reason = `${why}outside the maintenance window ${describeMaintenance(this.config)}`;
    return Promise.resolve({ open: false, reason });
  }
}
