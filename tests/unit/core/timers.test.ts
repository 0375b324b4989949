import {
  MAX_MISSED_COUNT,
  makeCron,
  missedFirings,
  nextFiring,
  scheduleText,
  validateCron,
  validateTimezone
} from '../../../src/core/timers';
import type { IScheduleTrigger } from '../../../src/core/types';

const at = (iso: string) => Date.parse(iso);
const cron = (expr: string, timezone?: string): IScheduleTrigger =>
  timezone === undefined
    ? { kind: 'schedule', cron: expr, missed: 'once' }
    : { kind: 'schedule', cron: expr, timezone, missed: 'once' };
const every = (ms: number): IScheduleTrigger => ({ kind: 'schedule', everyMs: ms, missed: 'once' });

/** Firings in (from, to] one by one with croner: the slow, obvious answer. */
function walk(t: IScheduleTrigger, from: number, to: number): number[] {
  const c = makeCron(t.cron!, t.timezone);
  const out: number[] = [];
  for (let d = c.nextRun(new Date(from)); d && d.getTime() <= to; d = c.nextRun(d)) {
    out.push(d.getTime());
  }
  return out;
}

describe('validateCron (croner)', () => {
  it('accepts 5 fields, 6 with seconds, names and nicknames', () => {
    for (const ok of [
      '*/10 * * * *',
      '0 9 * * MON-FRI',
      '*/5 * * * * *',
      '0 0 12 1 JAN,jul *',
      '0 0 L * *',
      '0 0 * * 5#L',
      '0 0 * * FRI#2',
      '0 0 * * 7'
    ]) {
      expect([ok, validateCron('trigger.schedule', ok)]).toEqual([ok, []]);
    }
    for (const nick of ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@HOURLY']) {
      expect([nick, validateCron('f', nick)]).toEqual([nick, []]);
    }
  });

  it('turns croner errors into issues on the field, with an example', () => {
    const one = (expr: unknown) => {
      const found = validateCron('trigger.schedule', expr);
      expect(found).toHaveLength(1);
      expect(found[0].field).toBe('trigger.schedule');
      expect(found[0].fix).toMatch(/e\.g\.|use|write/);
      return found[0].message;
    };
    expect(one('* * * *')).toBe('has 4 fields; a cron expression has 5 (or 6 with seconds first)');
    expect(one('* * * * * * *')).toMatch(/7 fields/);
    expect(one('60 * * * *')).toBe('is not a valid cron expression: the minute 60 is outside 0-59');
    expect(one('60 * * * * *')).toBe('is not a valid cron expression: the second 60 is outside 0-59');
    expect(one('* * 32 * *')).toMatch(/the day of month 32 is outside 1-31/);
    expect(one('* * * 13 *')).toMatch(/the month 13 is outside 1-12/);
    expect(one('* * * * 8')).toMatch(/the day of week 8 is outside 0-7/);
    expect(one('* * * FOO *')).toMatch(/the month field "FOO" is not a number/);
    expect(one('0 0 15W * *')).toMatch(/day of month field "15W"/);
    expect(one('*/0 * * * *')).toMatch(/the step must not be 0/);
    expect(one('5-1 * * * *')).toMatch(/the range "5-1" runs backwards/);
    expect(one('0 0 30 2 *')).toMatch(/never fires/);
    expect(one('@every 5m')).toMatch(/unknown cron nickname/);
    expect(one('0 12 * * ?')).toMatch(/"\?"/);
    expect(validateCron('f', '0 0 * * 5L')[0].fix).toBe('write "5#L" for the last one of the month');
    expect(one('')).toMatch(/must be a cron expression string \(got ""\)/);
    expect(one(7)).toMatch(/must be a cron expression string \(got 7\)/);
  });

  it('validateTimezone: IANA names this machine knows', () => {
    expect(validateTimezone('trigger.timezone', 'Europe/Copenhagen')).toEqual([]);
    expect(validateTimezone('trigger.timezone', 'UTC')).toEqual([]);
    expect(validateTimezone('trigger.timezone', 'America/New_York')).toEqual([]);
    const [bad] = validateTimezone('trigger.timezone', 'Europe/Kopenhagen');
    expect(bad).toMatchObject({
      field: 'trigger.timezone',
      message: 'is not a known time zone (got "Europe/Kopenhagen")'
    });
    expect(bad.fix).toMatch(/did you mean "Europe\/Copenhagen"/);
    expect(validateTimezone('f', '')[0].message).toMatch(/must be a time zone name/);
    expect(validateTimezone('f', ['UTC'])[0].message).toMatch(/got a list/);
  });
});

describe('nextFiring', () => {
  it('cron: the first firing strictly after', () => {
    const t = cron('*/10 * * * *', 'UTC');
    expect(nextFiring(t, at('2024-01-01T00:03:00Z'))).toBe(at('2024-01-01T00:10:00Z'));
    expect(nextFiring(t, at('2024-01-01T00:10:00Z'))).toBe(at('2024-01-01T00:20:00Z'));
    expect(nextFiring(t, at('2024-01-01T00:09:59.999Z'))).toBe(at('2024-01-01T00:10:00Z'));
    expect(nextFiring(cron('*/15 * * * * *', 'UTC'), at('2024-01-01T00:00:14.5Z'))).toBe(at('2024-01-01T00:00:15Z'));
    expect(nextFiring(cron('@hourly', 'UTC'), at('2024-01-01T00:00:00Z'))).toBe(at('2024-01-01T01:00:00Z'));
    expect(nextFiring(cron('@midnight', 'UTC'), at('2024-01-01T00:00:00Z'))).toBe(at('2024-01-02T00:00:00Z'));
  });

  it('cron: in the time zone given, across daylight saving', () => {
    const t = cron('0 9 * * *', 'Europe/Copenhagen');
    expect(nextFiring(t, at('2024-01-10T12:00:00Z'))).toBe(at('2024-01-11T08:00:00Z')); // UTC+1
    expect(nextFiring(t, at('2024-07-10T12:00:00Z'))).toBe(at('2024-07-11T07:00:00Z')); // UTC+2
    expect(nextFiring(cron('0 9 * * *', 'America/New_York'), at('2024-01-10T00:00:00Z'))).toBe(
      at('2024-01-10T14:00:00Z')
    );
  });

  it('every: on the grid anchor + k·every, both ways from the anchor', () => {
    const t = every(30000);
    const anchor = at('2024-01-01T00:00:05Z');
    expect(nextFiring(t, anchor, anchor)).toBe(anchor + 30000);
    expect(nextFiring(t, anchor + 1, anchor)).toBe(anchor + 30000);
    expect(nextFiring(t, anchor + 30000, anchor)).toBe(anchor + 60000);
    expect(nextFiring(t, anchor + 95000, anchor)).toBe(anchor + 120000);
    expect(nextFiring(t, anchor - 45000, anchor)).toBe(anchor - 30000);
    expect(nextFiring(t, 1000)).toBe(31000); // no anchor: one interval on
  });
});

describe('missedFirings', () => {
  it('every: arithmetic, exact', () => {
    const t = every(60000);
    const anchor = 0;
    expect(missedFirings(t, 0, 59999, anchor)).toEqual({ count: 0 });
    expect(missedFirings(t, 0, 60000, anchor)).toEqual({ count: 1, latest: 60000 });
    expect(missedFirings(t, 60000, 300500, anchor)).toEqual({ count: 4, latest: 300000 });
    expect(missedFirings(t, 30000, 90000)).toEqual({ count: 1, latest: 90000 }); // anchored at lastMs
    expect(missedFirings(t, 500, 500, anchor)).toEqual({ count: 0 });
    expect(missedFirings(t, 900, 100, anchor)).toEqual({ count: 0 });
    const month = 31 * 86400000;
    expect(missedFirings(every(1000), 0, month, 0)).toEqual({ count: month / 1000, latest: month });
  });

  it('cron: the count and the latest firing in (last, now], as walking firing by firing says', () => {
    const cases: [IScheduleTrigger, string, string][] = [
      [cron('*/10 * * * *', 'UTC'), '2024-01-01T00:00:00Z', '2024-01-01T01:05:00Z'],
      [cron('*/10 * * * *', 'UTC'), '2024-01-01T00:00:00Z', '2024-01-01T01:10:00Z'],
      [cron('0 9 * * MON-FRI', 'Europe/Copenhagen'), '2024-03-01T00:00:00Z', '2024-04-15T12:34:56.789Z'],
      [cron('0 0 1 * *', 'America/New_York'), '2023-01-15T00:00:00Z', '2024-06-01T03:59:59Z'],
      [cron('*/7 * * * * *'), '2024-05-01T10:00:00.250Z', '2024-05-01T11:00:00.250Z'],
      [cron('15 3 * * *'), '2024-01-01T00:00:00Z', '2024-12-31T23:59:59Z'],
      [cron('@hourly', 'Asia/Kolkata'), '2024-02-01T00:00:00Z', '2024-02-20T07:29:00Z']
    ];
    for (const [t, from, to] of cases) {
      const expected = walk(t, at(from), at(to));
      const got = missedFirings(t, at(from), at(to), 0);
      expect([t.cron, from, to, got]).toEqual([
        t.cron,
        from,
        to,
        { count: expected.length, latest: expected[expected.length - 1] }
      ]);
    }
    expect(missedFirings(cron('0 0 1 1 *', 'UTC'), at('2024-01-01T00:00:00Z'), at('2024-12-31T00:00:00Z'), 0)).toEqual({
      count: 0
    });
    expect(missedFirings(cron('0 0 1 1 *', 'UTC'), at('2024-01-01T00:00:00Z'), at('2024-01-01T00:00:00Z'), 0)).toEqual({
      count: 0
    });
  });

  it('cron: the latest is exact across daylight saving; the count at least 1', () => {
    // Copenhagen skips 02:00-03:00 on 31 March 2024 and repeats it on 27 October.
    for (const [from, to] of [
      ['2024-03-30T12:00:00Z', '2024-03-31T12:00:00Z'],
      ['2024-10-26T12:00:00Z', '2024-10-27T12:00:00Z'],
      ['2024-03-31T00:59:00Z', '2024-03-31T01:01:00Z']
    ]) {
      const t = cron('30 2 * * *', 'Europe/Copenhagen');
      const expected = walk(t, at(from), at(to));
      const got = missedFirings(t, at(from), at(to), 0);
      expect(got.latest).toBe(expected[expected.length - 1]);
      expect(got.count === 0).toBe(expected.length === 0);
      expect(Math.abs(got.count - expected.length)).toBeLessThanOrEqual(1);
    }
  });

  it('a 1-second cron over a month of downtime: fast, count capped, latest exact', () => {
    const last = at('2024-01-01T00:00:00Z');
    const now = at('2024-02-01T06:07:08.900Z');
    for (const t of [
      cron('* * * * * *'),
      cron('* * * * * *', 'Europe/Copenhagen'),
      cron('* * * * *', 'Europe/Copenhagen')
    ]) {
      const started = Date.now();
      const got = missedFirings(t, last, now, 0);
      const took = Date.now() - started;
      const latest = t.cron === '* * * * * *' ? at('2024-02-01T06:07:08Z') : at('2024-02-01T06:07:00Z');
      expect([t.cron, t.timezone, got]).toEqual([
        t.cron,
        t.timezone,
        { count: MAX_MISSED_COUNT, latest, capped: true }
      ]);
      expect(took).toBeLessThan(2000); // typically well under 100 ms
    }
  });

  it('years of downtime of a rare cron: every firing counted, quickly', () => {
    const started = Date.now();
    const got = missedFirings(
      cron('0 0 29 2 *', 'Europe/Copenhagen'),
      at('2000-01-01T00:00:00Z'),
      at('2030-01-01T00:00:00Z'),
      0
    );
    expect(got).toEqual({ count: 8, latest: at('2028-02-28T23:00:00Z') });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

it('scheduleText', () => {
  expect(scheduleText(every(30000))).toBe('every 30s');
  expect(scheduleText(cron('0 * * * *'))).toBe('cron "0 * * * *"');
  expect(scheduleText(cron('0 * * * *', 'UTC'))).toBe('cron "0 * * * *" (UTC)');
});
