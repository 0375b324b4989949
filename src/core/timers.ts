/**
 * Timer triggers: intervals (`every: 30s`) and cron expressions
 * (`schedule: "0 * * * *"`). Pure, like all of the core.
 */
import { PyFloat, clipText } from './pyvalue';
import { IValidationIssue, issue } from './validation';

/** Shortest `every:` interval, to keep a typo from flooding the queue. */
export const MIN_INTERVAL_MS = 1000;

function toNumber(v: unknown): number {
  if (v instanceof PyFloat) {
    return v.value;
  }
  return typeof v === 'number' ? v : NaN;
}

function show(v: unknown): string {
  if (typeof v === 'string') {
    return `"${clipText(v)}"`;
  }
  if (v === undefined) {
    return 'nothing';
  }
  if (v === null) {
    return 'null';
  }
  return Array.isArray(v) ? 'a list' : typeof v === 'object' && !(v instanceof PyFloat) ? 'a mapping' : String(v);
}

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

const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** [name, min, max, names] of each cron field, seconds first when 6. */
const CRON_FIELDS: [string, number, number, string[]][] = [
  ['minute', 0, 59, []],
  ['hour', 0, 23, []],
  ['day of month', 1, 31, []],
  ['month', 1, 12, MONTHS],
  ['day of week', 0, 7, DAYS]
];

/**
 * Basic cron check: 5 fields (minute hour day-of-month month day-of-week),
 * or 6 with seconds first, or a macro like `@hourly`. Each field is `*`, a
 * value, a range `a-b`, a list `a,b`, optionally `/step`; numbers must be
 * in range. Quartz extras (`?`, `L`, `W`, `#`) are let through.
 */
export function validateCron(field: string, v: unknown): IValidationIssue[] {
  const fix = 'write five fields "minute hour day month weekday", e.g. "*/10 * * * *" (every 10 minutes), or @hourly';
  if (typeof v !== 'string' || v.trim() === '') {
    return [issue(field, `must be a cron expression string (got ${show(v)})`, fix)];
  }
  const text = v.trim();
  if (text.startsWith('@')) {
    return CRON_MACROS.includes(text.toLowerCase())
      ? []
      : [issue(field, `is an unknown cron macro "${text}"`, `use one of ${CRON_MACROS.join(', ')}`)];
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    return [issue(field, `has ${parts.length} fields; a cron expression has 5 (or 6 with seconds)`, fix)];
  }
  const specs = parts.length === 6 ? [['second', 0, 59, []] as [string, number, number, string[]], ...CRON_FIELDS] : CRON_FIELDS;
  const issues: IValidationIssue[] = [];
  parts.forEach((part, i) => {
    const [label, min, max, names] = specs[i];
    const problem = cronFieldProblem(part, min, max, names);
    if (problem) {
      issues.push(issue(field, `has an invalid ${label} field "${part}": ${problem}`, fix));
    }
  });
  return issues;
}

function cronFieldProblem(part: string, min: number, max: number, names: string[]): string | undefined {
  for (const item of part.split(',')) {
    const [range, step, extra] = item.split('/');
    if (extra !== undefined || range === '') {
      return 'expected "*", a value, a range "a-b" or a list "a,b", optionally with "/step"';
    }
    if (step !== undefined && !/^\d+$/.test(step)) {
      return `the step "${step}" must be a whole number`;
    }
    if (step !== undefined && Number(step) === 0) {
      return 'the step must not be 0';
    }
    if (range === '*' || range === '?') {
      continue;
    }
    if (/[LW#]/i.test(range) && /^[0-9A-Za-z#]+$/.test(range)) {
      continue;
    }
    const ends = range.split('-');
    if (ends.length > 2) {
      return `"${range}" is not a range`;
    }
    for (const end of ends) {
      const n = /^\d+$/.test(end) ? Number(end) : names.indexOf(end.toUpperCase()) + (names === MONTHS ? 1 : 0);
      const known = /^\d+$/.test(end) || names.includes(end.toUpperCase());
      if (!known) {
        return `"${end}" is not a number${names.length ? ' or name' : ''}`;
      }
      if (n < min || n > max) {
        return `${end} is outside ${min}-${max}`;
      }
    }
  }
  return undefined;
}
