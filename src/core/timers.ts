/**
 * Timer triggers: intervals (`every: 30s`) and cron expressions
 * (`schedule: "0 * * * *"`, optionally in a `timezone`). Cron expressions
 * are parsed and evaluated by croner, so the check in the form and the
 * firings in the service agree. Pure, like all of the core: croner is only
 * used to compute times here (a paused job without a callback starts no
 * timer), and no function reads the clock — callers pass the times.
 */
import { Cron } from 'croner';
import { PyFloat, clipText } from './pyvalue';
import type { IScheduleTrigger } from './types';
import { IValidationIssue, closest, issue } from './validation';
import { show, toNumber } from './valueText';

/** Shortest `every:` interval, to keep a typo from flooding the queue. */
export const MIN_INTERVAL_MS = 1000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };

/**
 * Milliseconds of an interval: `500ms`, `30s`, `5m`, `2h`, `1d`, `1h30m`,
 * `1.5h`; a bare number means seconds. `undefined` if not an interval.
 */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number' || v instanceof PyFloat) {
    const n = toNumber(v);
    return Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : undefined;
  }
  if (typeof v !== 'string') {
    return undefined;
  }
  const text = v.replace(/\s+/g, '');
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) {
    return undefined;
  }
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  total = Math.round(total);
  return total > 0 ? total : undefined;
}

/** The shortest exact text for an interval: 90000 → `90s`, 3600000 → `1h`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's']) {
    if (ms % UNIT_MS[unit] === 0) {
      return `${ms / UNIT_MS[unit]}${unit}`;
    }
  }
  return `${ms}ms`;
}

// ---------------------------------------------------------------------------
// Cron expressions

/** Nicknames accepted instead of five fields (`@midnight` is mapped to `@daily`: croner lacks it). */
export const CRON_NICKNAMES = [
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly'
] as const;

const CRON_FIX =
  'write five fields "minute hour day-of-month month day-of-week" (or six, seconds first), ' +
  'e.g. "*/10 * * * *" (every 10 minutes), "0 9 * * MON-FRI" (09:00 on weekdays) or @hourly';

/** croner's names of the six fields, seconds first, as its messages use them. */
const CRONER_PARTS = ['second', 'minute', 'hour', 'day', 'month', 'dayOfWeek'];
const PART_LABEL: Record<string, [label: string, range: string]> = {
  second: ['second', '0-59'],
  minute: ['minute', '0-59'],
  hour: ['hour', '0-23'],
  day: ['day of month', '1-31'],
  month: ['month', '1-12 or JAN-DEC'],
  dayOfWeek: ['day of week', '0-7 or SUN-SAT']
};

/** The expression croner is given: trimmed, `@midnight` spelled as croner knows it. */
function cronText(expr: string): string {
  const text = expr.trim();
  return text.toLowerCase() === '@midnight' ? '@daily' : text;
}

/**
 * A croner job that only computes times: paused and without a callback, so
 * it starts no timer. Without `timezone` it uses the machine's time zone.
 * Day of month and day of week combine with OR when both are restricted, as
 * in Vixie cron (croner's default `legacyMode`).
 */
export function makeCron(expr: string, timezone?: string): Cron {
  return new Cron(cronText(expr), timezone === undefined ? { paused: true } : { paused: true, timezone });
}

/**
 * Check a cron expression with croner: 5 fields (minute hour day-of-month
 * month day-of-week), 6 with seconds first, or a nickname like `@hourly`.
 * croner's error becomes an issue on `field` with an example of the fix.
 */
export function validateCron(field: string, v: unknown): IValidationIssue[] {
  if (typeof v !== 'string' || v.trim() === '') {
    return [issue(field, `must be a cron expression string (got ${show(v)})`, CRON_FIX)];
  }
  const text = v.trim();
  if (text.startsWith('@')) {
    return (CRON_NICKNAMES as readonly string[]).includes(text.toLowerCase())
      ? []
      : [
          issue(
            field,
            `is an unknown cron nickname "${clipText(text)}"`,
            `use one of ${CRON_NICKNAMES.join(', ')}; for a fixed interval write every: 5m instead of schedule`
          )
        ];
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    return [issue(field, `has ${parts.length} fields; a cron expression has 5 (or 6 with seconds first)`, CRON_FIX)];
  }
  // croner replaces "?" by the current date or time when the job is made,
  // so "0 12 L * ?" would also fire on today's weekday every week.
  if (text.includes('?')) {
    return [
      issue(
        field,
        'uses "?", which croner replaces by the current date or time when meow starts',
        'write "*" instead of "?"'
      )
    ];
  }
  // croner reads "5L" as "5" (every Friday), silently.
  const lastWeekday = parts[parts.length - 1].split(',').find(item => /^([0-7]|[a-z]{3})L$/i.test(item));
  if (lastWeekday) {
    const day = lastWeekday.slice(0, -1);
    return [
      issue(
        field,
        `has "${lastWeekday}" as day of week, which would fire every such day`,
        `write "${day}#L" for the last one of the month`
      )
    ];
  }
  let cron: Cron;
  try {
    // The time zone cannot make an expression invalid; a fixed offset keeps
    // the check fast and the same on every machine.
    cron = new Cron(cronText(text), { paused: true, utcOffset: 0 });
  } catch (err) {
    return [issue(field, `is not a valid cron expression: ${explainCronError((err as Error).message)}`, CRON_FIX)];
  }
  // Every real date recurs within 28 years; croner searches up to year 3000.
  if (cron.nextRun(new Date(Date.UTC(2001, 0, 1))) === null) {
    return [
      issue(
        field,
        `never fires: no date matches "${clipText(text)}" (e.g. 30 February)`,
        'check the day-of-month and month fields, e.g. "0 0 L 2 *" for the last day of February'
      )
    ];
  }
  return [];
}

/** croner's message in the words of the fields a person wrote. */
function explainCronError(message: string): string {
  const text = message.replace(/^CronPattern:\s*/, '');
  let m = /Invalid value for (\w+): (-?\d+)/.exec(text);
  if (m && PART_LABEL[m[1]]) {
    // croner counts days and months from 0 internally.
    const value = Number(m[2]) + (m[1] === 'day' || m[1] === 'month' ? 1 : 0);
    const [label, range] = PART_LABEL[m[1]];
    return `the ${label} ${value} is outside ${range}`;
  }
  m = /configuration entry (\d) \((.*)\) contains illegal characters/.exec(text);
  if (m) {
    const [label, range] = PART_LABEL[CRONER_PARTS[Number(m[1])]] ?? ['field', ''];
    return `the ${label} field "${m[2]}" is not a number${range ? ` in ${range}` : ''}, range, list or step`;
  }
  if (/illegal stepping: 0/.test(text)) {
    return 'the step must not be 0';
  }
  m = /From value is larger than to value: '(.*)'/.exec(text);
  if (m) {
    return `the range "${m[1]}" runs backwards`;
  }
  return text;
}

/** Check an IANA time zone name (`Europe/Copenhagen`, `UTC`) against the zones this machine knows. */
export function validateTimezone(field: string, v: unknown): IValidationIssue[] {
  const fix = 'use an IANA time zone name, e.g. timezone: "Europe/Copenhagen", "America/New_York" or "UTC"';
  if (typeof v !== 'string' || v.trim() === '') {
    return [issue(field, `must be a time zone name (got ${show(v)})`, fix)];
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v });
    return [];
  } catch {
    const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    const guess = closest(v, known);
    return [
      issue(
        field,
        `is not a known time zone (got "${clipText(v)}")`,
        guess ? `did you mean "${guess}"? Otherwise ${fix}` : fix
      )
    ];
  }
}

// ---------------------------------------------------------------------------
// Firing times, for the service's timer trigger

/** Most missed cron firings counted; `latest` is exact regardless. */
export const MAX_MISSED_COUNT = 10000;

/** Firings of a timer in a time range (see `missedFirings`). */
export interface IMissedFirings {
  /** How many; at most `MAX_MISSED_COUNT` for a cron expression (then `capped`). */
  count: number;
  /** The last of them (ms since the epoch), when there is one. */
  latest?: number;
  /** Set when a cron expression fired more often than `MAX_MISSED_COUNT`. */
  capped?: boolean;
}

/**
 * The first firing strictly after `afterMs` (ms since the epoch), or
 * `undefined` when a cron expression never fires again.
 *
 * `every` fires at `anchorMs + k * everyMs` for every whole k (the grid
 * extends both ways), so pass any past firing or the time the timer started;
 * without `anchorMs` the next firing is one interval after `afterMs`.
 * A cron expression ignores the anchor.
 */
export function nextFiring(t: IScheduleTrigger, afterMs: number, anchorMs: number = afterMs): number | undefined {
  if (!Number.isFinite(afterMs)) {
    return undefined;
  }
  if (t.everyMs !== undefined) {
    if (!(t.everyMs > 0) || !Number.isFinite(anchorMs)) {
      return undefined;
    }
    return anchorMs + (Math.floor((afterMs - anchorMs) / t.everyMs) + 1) * t.everyMs;
  }
  if (t.cron === undefined) {
    return undefined;
  }
  return makeCron(t.cron, t.timezone).nextRun(new Date(afterMs))?.getTime();
}

/**
 * The firings in `(lastMs, nowMs]`, e.g. those missed while meow was not
 * running: how many and the latest. `anchorMs` places an `every` grid as in
 * `nextFiring` (default: `lastMs`, the last firing).
 *
 * `every` is computed arithmetically (exact count). A cron expression's
 * latest firing is found by bisection on croner's `nextRun` (about 30 calls
 * even for years of downtime); the count walks firing by firing and stops at
 * `MAX_MISSED_COUNT`. croner is slow with a named time zone (it formats
 * dates per step), so for one the count walks the zone's wall-clock times
 * with a fixed-offset croner instead: exact except for firings inside a
 * daylight-saving change, and at least 1 when `latest` is set.
 */
export function missedFirings(
  t: IScheduleTrigger,
  lastMs: number,
  nowMs: number,
  anchorMs: number = lastMs
): IMissedFirings {
  if (!(nowMs > lastMs) || !Number.isFinite(lastMs) || !Number.isFinite(nowMs)) {
    return { count: 0 };
  }
  if (t.everyMs !== undefined) {
    if (!(t.everyMs > 0) || !Number.isFinite(anchorMs)) {
      return { count: 0 };
    }
    const first = Math.floor((lastMs - anchorMs) / t.everyMs) + 1;
    const last = Math.floor((nowMs - anchorMs) / t.everyMs);
    return last < first ? { count: 0 } : { count: last - first + 1, latest: anchorMs + last * t.everyMs };
  }
  if (t.cron === undefined) {
    return { count: 0 };
  }
  const cron = makeCron(t.cron, t.timezone);
  const latest = latestFiring(cron, lastMs, nowMs);
  if (latest === undefined) {
    return { count: 0 };
  }
  const counted =
    t.timezone === undefined
      ? countFirings(cron, lastMs, nowMs)
      : countFirings(
          new Cron(cronText(t.cron), { paused: true, utcOffset: 0 }),
          wallClock(t.timezone, lastMs),
          wallClock(t.timezone, nowMs)
        );
  const out: IMissedFirings = { count: Math.max(1, counted), latest };
  if (counted > MAX_MISSED_COUNT) {
    out.count = MAX_MISSED_COUNT;
    out.capped = true;
  }
  return out;
}

/** The last firing in (lastMs, nowMs], by bisection: O(log(range / 1s)) calls. */
function latestFiring(cron: Cron, lastMs: number, nowMs: number): number | undefined {
  const first = cron.nextRun(new Date(lastMs))?.getTime();
  if (first === undefined || first > nowMs) {
    return undefined;
  }
  // Invariant: some firing lies in (lo, nowMs], none in (hi, nowMs].
  let lo = first - 1;
  let hi = nowMs;
  // croner fires on whole seconds, so (lo, hi] of 1 s holds at most one.
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const next = cron.nextRun(new Date(mid))?.getTime();
    if (next !== undefined && next <= nowMs) {
      lo = Math.max(mid, next - 1); // jump to just before the firing found
    } else {
      hi = mid;
    }
  }
  const found = cron.nextRun(new Date(lo))?.getTime();
  return found !== undefined && found <= nowMs ? found : first;
}

/** Firings in (fromMs, toMs], counted up to MAX_MISSED_COUNT + 1. */
function countFirings(cron: Cron, fromMs: number, toMs: number): number {
  let count = 0;
  let at = new Date(fromMs);
  while (count <= MAX_MISSED_COUNT) {
    const next = cron.nextRun(at);
    if (next === null || next.getTime() > toMs) {
      break;
    }
    count++;
    at = next;
  }
  return count;
}

const wallFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time in `timezone` at `ms`, written as if it were UTC. */
function wallClock(timezone: string, ms: number): number {
  let format = wallFormats.get(timezone);
  if (!format) {
    if (wallFormats.size > 100) {
      wallFormats.clear();
    }
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric'
    });
    wallFormats.set(timezone, format);
  }
  const p: Record<string, number> = {};
  for (const part of format.formatToParts(ms)) {
    p[part.type] = Number(part.value);
  }
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) + (((ms % 1000) + 1000) % 1000);
}

/** A timer in words, e.g. for a job's `trigger.source`: `every 30s`, `cron "0 * * * *" (Europe/Copenhagen)`. */
export function scheduleText(t: IScheduleTrigger): string {
  if (t.everyMs !== undefined) {
    return `every ${formatDuration(t.everyMs)}`;
  }
  return `cron "${t.cron ?? ''}"${t.timezone ? ` (${t.timezone})` : ''}`;
}
